"""Seed a demo centre: a vendor with a registered signing key and a product whose published
release (firmware image, confidential source archive, CycloneDX SBOM, OpenVEX) carries a signed
manifest, a regulator evaluating it, a lab holding an access grant, a customer following it and
asking the vendor's expert, and a sign-in for each. Idempotent: running it again keeps what
exists."""

from __future__ import annotations

import hashlib
import io
import tarfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from clearroom.attest.dsse import sign_envelope
from clearroom.attest.keys import FileSigner
from clearroom.attest.predicates import ManifestFile, ReleaseManifest
from clearroom.attest.registry import KeyEvent
from clearroom.attest.statement import PAYLOAD_TYPE
from clearroom.server import demo_standards
from clearroom.server.accounts.models import Membership, Organisation, User
from clearroom.server.accounts.tokens import issue_token
from clearroom.server.attestations import services as attestations
from clearroom.server.attestations.models import SigningKey
from clearroom.server.authz import Actor
from clearroom.server.authz.permissions import grantable
from clearroom.server.catalog import services
from clearroom.server.catalog.models import AccessGrant, Product, Release
from clearroom.server.demo_collaboration import seed_collaboration
from clearroom.server.demo_security import import_demo_advisories, openvex, sbom
from clearroom.server.demo_standards import seed_catalogue
from clearroom.server.keyfiles import create_once
from clearroom.server.services import blob_store

VENDOR, PRODUCT, VERSION, DRAFT_VERSION = "acme", "edgerouter-x5", "2.4.1", "2.5.0-rc1"
DEMO_PASSWORD = "clearroom-demo"  # noqa: S105 - printed for the demo; never used elsewhere


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    organisation: str
    role: str


@dataclass(frozen=True)
class DemoInfo:
    vendor: str
    product: str
    version: str
    token: str
    users: list[DemoUser]
    vendor_key: Path
    """The demo vendor's private signing key (registered with the centre)."""


ORGANISATIONS = [
    ("acme", "Acme Networks", Organisation.Kind.VENDOR),
    ("national-cyber-agency", "National Cyber Agency", Organisation.Kind.REGULATOR),
    ("testlab-europe", "TestLab Europe", Organisation.Kind.LAB),
    ("northwind-telecom", "Northwind Telecom", Organisation.Kind.CUSTOMER),
    (demo_standards.ORGANISATION, "Open IoT Standards Forum", Organisation.Kind.STANDARDS_BODY),
    ("clearroom-centre", "Clearroom Centre", Organisation.Kind.OPERATOR),
]
PEOPLE = [
    ("vendor", "acme", Membership.Role.MAINTAINER),
    ("vendor-owner", "acme", Membership.Role.OWNER),
    ("expert", "acme", Membership.Role.EXPERT),
    ("regulator", "national-cyber-agency", Membership.Role.EVALUATOR),
    ("evaluator", "testlab-europe", Membership.Role.EVALUATOR),
    ("lab-owner", "testlab-europe", Membership.Role.OWNER),
    ("standards", demo_standards.ORGANISATION, Membership.Role.OWNER),
    ("customer", "northwind-telecom", Membership.Role.EXPERT),
    ("admin", "clearroom-centre", Membership.Role.OWNER),
]


def firmware_image(version: str, size: int = 2 << 20) -> bytes:
    """Deterministic bytes standing in for a firmware image (real images come later)."""
    header = f"ACMEFW\x00{version}\x00".encode()
    out = bytearray(header)
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{version}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def source_archive(version: str) -> bytes:
    files = {
        "edgerouter/README": f"Acme EdgeRouter X5 firmware sources, version {version}\n",
        "edgerouter/src/main.c": (
            '#include <stdio.h>\nint main(void) { puts("edgerouter"); return 0; }\n'
        ),
        "edgerouter/Makefile": (
            "all:\n\tcc -O2 -fstack-protector-strong -D_FORTIFY_SOURCE=2 -o edgerouter src/main.c\n"
        ),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_700_000_000, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _release_files(version: str) -> list[tuple[str, str, str, str, bytes]]:
    """(kind, name, media type, confidentiality, bytes) of a demo release."""
    image = firmware_image(version)
    return [
        ("artifact", f"edgerouter-x5-{version}.img", "application/octet-stream", "public", image),
        (
            "artifact",
            f"edgerouter-x5-{version}-source.tar.gz",
            "application/gzip",
            "confidential",
            source_archive(version),
        ),
        (
            "sbom",
            f"edgerouter-x5-{version}.cdx.json",
            "application/vnd.cyclonedx+json",
            "public",
            sbom(version, hashlib.sha256(image).hexdigest()),
        ),
        (
            "vex",
            f"edgerouter-x5-{version}.openvex.json",
            "application/json",
            "public",
            openvex(version),
        ),
    ]


def vendor_key() -> tuple[Path, FileSigner]:
    """The demo vendor's signing key, made once beside the demo's data. A real vendor keeps
    its key on its own machines (or a token); the centre never holds it."""
    path = settings.CONFIG.data_dir / "demo-vendor-key.pem"
    if not path.exists():
        create_once(path, FileSigner.generate().to_pem())
    return path, FileSigner.from_file(path)


def _register_vendor_key(owner: Actor, vendor: Organisation, key: FileSigner) -> None:
    """The vendor's owner registers the key; the centre, having vetted the vendor, vouches."""
    if SigningKey.objects.filter(keyid=key.public_key.keyid).exists():
        return
    event = KeyEvent(vendor.slug, "add", key.public_key, timezone.now().replace(microsecond=0))
    envelope = sign_envelope(PAYLOAD_TYPE, event.to_statement().to_json(), [key])
    attestations.register_key(owner, vendor, envelope.to_json())


def _sign_manifest(actor: Actor, release: Release, key: FileSigner) -> None:
    files = tuple(
        ManifestFile(f.name, getattr(f, "kind", "artifact"), f.sha256, f.size)
        for f in [*release.artifacts.all(), *release.documents.all()]
        if not f.is_confidential
    )
    p = release.product
    statement = ReleaseManifest(
        p.vendor.slug, p.slug, release.version, files, release.support_until
    ).to_statement()
    envelope = sign_envelope(PAYLOAD_TYPE, statement.to_json(), [key])
    attestations.add_attestation(actor, release, envelope.to_json())


def _add_release(
    actor: Actor, product: Product, version: str, *, publish: bool, key: FileSigner
) -> None:
    if Release.objects.filter(product=product, version=version).exists():
        return
    release = services.create_release(
        actor,
        product,
        version=version,
        support_until=date(2031, 12, 31),
        notes=f"Security and stability release {version}.",
    )
    for kind, name, media_type, confidentiality, data in _release_files(version):
        services.record_upload(
            actor,
            release,
            kind=kind,
            name=name,
            media_type=media_type,
            confidentiality=confidentiality,
            blob=blob_store().put_bytes(data),
        )
    _sign_manifest(actor, release, key)
    if publish:
        services.publish_release(actor, release)


@transaction.atomic
def seed() -> DemoInfo:
    orgs = {
        slug: Organisation.objects.get_or_create(slug=slug, defaults={"name": name, "kind": kind})[
            0
        ]
        for slug, name, kind in ORGANISATIONS
    }
    users: list[DemoUser] = []
    for username, org_slug, role in PEOPLE:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                email=f"{username}@example.org",
                is_staff=username == "admin",
                is_superuser=username == "admin",
            )
        Membership.objects.get_or_create(
            user=user, organisation=orgs[org_slug], defaults={"role": role}
        )
        users.append(DemoUser(username, DEMO_PASSWORD, orgs[org_slug].name, role))

    vendor_user = User.objects.get(username="vendor")
    actor = Actor(user=vendor_user)
    product = Product.objects.filter(
        vendor=orgs[VENDOR], slug=PRODUCT
    ).first() or services.create_product(
        actor,
        orgs[VENDOR],
        slug=PRODUCT,
        name="EdgeRouter X5",
        category=Product.Category.NETWORK,
        description="A 5G-ready edge router for operators' access networks.",
    )
    import_demo_advisories()
    key_path, key = vendor_key()
    _register_vendor_key(Actor(user=User.objects.get(username="vendor-owner")), orgs[VENDOR], key)
    _add_release(actor, product, VERSION, publish=True, key=key)
    _add_release(actor, product, DRAFT_VERSION, publish=False, key=key)
    AccessGrant.objects.get_or_create(  # the lab's standing grant (its evaluation adds its own)
        product=product,
        grantee=orgs["testlab-europe"],
        release=None,
        defaults={"granted_by": vendor_user},
    )
    seed_catalogue(orgs[demo_standards.ORGANISATION], User.objects.get(username="standards"))
    seed_collaboration(Release.objects.get(product=product, version=VERSION))
    _, token = issue_token(
        vendor_user,
        orgs[VENDOR],
        name="demo publishing token",
        scopes=sorted(grantable(Membership.Role.MAINTAINER, Organisation.Kind.VENDOR)),
    )
    return DemoInfo(
        vendor=VENDOR,
        product=PRODUCT,
        version=VERSION,
        token=token,
        users=users,
        vendor_key=key_path,
    )
