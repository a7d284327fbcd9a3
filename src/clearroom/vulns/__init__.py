"""Vulnerability intelligence: OSV advisories, exact per-ecosystem version semantics, matching
components to advisories, and VEX. No Django."""
