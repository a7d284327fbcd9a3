"""The predicate types Clearroom writes and reads (the ``predicateType`` of a Statement)."""

from __future__ import annotations

RELEASE_MANIFEST = "https://clearroom.dev/release-manifest/v1"
SLSA_PROVENANCE = "https://slsa.dev/provenance/v1"
SLSA_VSA = "https://slsa.dev/verification_summary/v1"
CLAIM = "https://clearroom.dev/claim/v1"
KEY_EVENT = "https://clearroom.dev/key-event/v1"
OPENVEX = "https://openvex.dev/ns/v0.2.0"
"""A vendor's VEX statements as an in-toto predicate (the OpenVEX document is the predicate)."""
RELEASE_STATUS = "https://clearroom.dev/release-status/v1"
"""The centre's signed statement of a release's state (published or withdrawn) as of a time."""
