"""A starting trust policy for verifying an organisation's releases with ``clearroom verify``:
the centre's log key and witnesses, and the centre's key that introduces vendors' first keys.
A convenience only — a verifier who takes the keys from the centre it checks trusts the centre;
the text says to compare them with keys obtained out of band."""

from __future__ import annotations

import json

from clearroom.server.accounts.models import Organisation
from clearroom.server.attestations.centre import centre_key
from clearroom.server.transparency.identity import verifier, witnesses


def starting_policy(organisation: Organisation) -> str:
    witness_keys = [w.verifier.to_key() for w in witnesses()]
    lines = [
        "# Trust policy for `clearroom verify`. Compare every key with one obtained out of band",
        f"# (from {organisation.name} and from the centre's operator) before relying on it.",
        "[log]",
        f'origin = "{verifier().name}"',
        f'key = "{verifier().to_key()}"',
        f"witnesses = {json.dumps(witness_keys)}",
        f"quorum = {1 if witness_keys else 0}",
        "",
        "[vendor]",
        f'organisation = "{organisation.slug}"',
        "# The centre introduces a vendor's first key after vetting it; later keys are",
        "# introduced under the vendor's own signature. Add keys = [...] to trust the",
        "# vendor's key directly instead.",
        f'centre_keys = ["""{centre_key().to_pem()}"""]',
        "",
    ]
    return "\n".join(lines)
