"""The centre as a CSAF 2.0 provider for its vendors' published VEX, and its security.txt."""
