"""The demo's standards body and its catalogue: a short consumer-IoT baseline in OSCAL, written
for the demo (its provisions paraphrase the themes of ETSI EN 303 645; it is not that text).
Idempotent."""

from __future__ import annotations

import json

from clearroom.server.accounts.models import Organisation, User
from clearroom.server.authz import Actor
from clearroom.server.standards import services
from clearroom.server.standards.models import Catalogue

ORGANISATION = "open-iot-standards"
SLUG = "iot-baseline"
VERSION = "1.0"


def _control(ident: str, title: str, prose: str) -> dict[str, object]:
    return {
        "id": ident,
        "title": title,
        "parts": [{"id": f"{ident}_smt", "name": "statement", "prose": prose}],
    }


DOCUMENT = {
    "catalog": {
        "uuid": "6f1c1a52-8d0e-4f36-9d2e-3c2b8f0e7a11",
        "metadata": {
            "title": "Consumer IoT security baseline (demo)",
            "last-modified": "2026-11-01T00:00:00Z",
            "version": VERSION,
            "oscal-version": "1.1.2",
        },
        "groups": [
            {
                "id": "passwords",
                "title": "Passwords",
                "controls": [
                    _control(
                        "iot-1.1",
                        "No universal default passwords",
                        "Each device has a unique password, or one the user sets, before use.",
                    )
                ],
            },
            {
                "id": "vulnerabilities",
                "title": "Vulnerability handling",
                "controls": [
                    _control(
                        "iot-2.1",
                        "A public vulnerability disclosure policy",
                        "The manufacturer publishes how to report vulnerabilities and when"
                        " reporters will hear back.",
                    ),
                    _control(
                        "iot-2.2",
                        "Known vulnerabilities are stated",
                        "Each release comes with an SBOM and VEX statements for the"
                        " vulnerabilities known in its components.",
                    ),
                ],
            },
            {
                "id": "updates",
                "title": "Software updates",
                "controls": [
                    _control(
                        "iot-3.1",
                        "Signed, verifiable updates",
                        "Updates are signed and the device checks the signature before"
                        " installing them.",
                    ),
                    _control(
                        "iot-3.2",
                        "A stated support period",
                        "The manufacturer states until when each release receives security"
                        " updates.",
                    ),
                ],
            },
        ],
    }
}


def seed_catalogue(organisation: Organisation, owner: User) -> None:
    if Catalogue.objects.filter(organisation=organisation, slug=SLUG).exists():
        return
    document = json.dumps(DOCUMENT, indent=1).encode()
    services.publish(Actor(user=owner), organisation, SLUG, document)
