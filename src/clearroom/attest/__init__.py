"""Signed facts: DSSE envelopes, in-toto statements, Clearroom's predicates, keys and their
registry, release bundles, and the offline verifier. Depends on ``cryptography``, the standard
library and the log core only, so that others can vendor it."""
