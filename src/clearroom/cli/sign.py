"""Signing on the vendor's side: ``clearroom key generate|register|revoke`` and ``clearroom
sign``. The private key never leaves the vendor's machine; the centre receives signed
statements only (DSSE envelopes) and checks them against the vendor's registered keys."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from clearroom.errors import ClearroomError

app = typer.Typer(
    name="key",
    help="Make, register and revoke your organisation's signing keys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
console = Console(soft_wrap=True)
KeyFile = Annotated[Path, typer.Option("--key", help="Your private key (PEM, mode 0600).")]
Url = Annotated[str, typer.Option(envvar="CLEARROOM_URL", help="The centre's address.")]
Token = Annotated[str, typer.Option(envvar="CLEARROOM_TOKEN", help="API token (clr_…).")]
Org = Annotated[str, typer.Option(help="Your organisation's slug, e.g. acme.")]


def load_signer(path: Path):  # type: ignore[no-untyped-def]
    from clearroom.attest.keys import FileSigner

    return FileSigner.from_file(path)


def sign_statement(statement, *signers) -> bytes:  # type: ignore[no-untyped-def]
    from clearroom.attest.dsse import sign_envelope
    from clearroom.attest.statement import PAYLOAD_TYPE

    return sign_envelope(PAYLOAD_TYPE, statement.to_json(), list(signers)).to_json()


def manifest_statement(  # type: ignore[no-untyped-def]
    directory: Path, org: str, product: str, version: str, confidential: list[str]
):
    """The release manifest of a directory, as ``clearroom publish`` would upload it. Files
    marked confidential are left out: the manifest is public, their names are not."""
    from clearroom.attest.predicates import ManifestFile, ReleaseManifest
    from clearroom.cli.publish import plan, sha256_of

    files = tuple(
        ManifestFile(f.path.name, f.kind, sha256_of(f.path), f.size)
        for f in plan(directory, confidential)
        if not f.confidential
    )
    return ReleaseManifest(org, product, version, files).to_statement()


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Where to write the private key (mode 0600).")],
    algorithm: Annotated[str, typer.Option(help="ed25519 or ecdsa-p256.")] = "ed25519",
) -> None:
    """Make a signing key; print its public key and keyid (register it with the centre)."""
    from clearroom.attest.keys import FileSigner

    signer = FileSigner.generate(algorithm)  # type: ignore[arg-type]
    signer.save(out)
    console.print(signer.public_key.to_pem(), end="", highlight=False)
    console.print(f"keyid {signer.public_key.keyid}", highlight=False)


@app.command()
def register(
    key: KeyFile,
    org: Org,
    url: Url = "http://127.0.0.1:8000",
    token: Token = "",
    authorised_by: Annotated[
        Path | None,
        typer.Option(help="A registered key of yours that introduces the new one (rotation)."),
    ] = None,
    valid_until: Annotated[
        datetime | None, typer.Option(help="The key's end of validity (UTC).")
    ] = None,
) -> None:
    """Register a key. The new key signs its own registration; with --authorised-by an
    existing key countersigns (a rotation), otherwise the centre vouches for it (you need the
    org:key:manage permission)."""
    from clearroom.attest.registry import KeyEvent
    from clearroom.cli.client import Client

    new = load_signer(key)
    signers = [new] + ([load_signer(authorised_by)] if authorised_by else [])
    until = valid_until.replace(tzinfo=UTC) if valid_until else None
    now = datetime.now(UTC).replace(microsecond=0)
    event = KeyEvent(org, "add", new.public_key, now, until)
    with Client(url, _token(token)) as client:
        registered = client.request(
            "POST",
            f"/organisations/{org}/keys",
            content=sign_statement(event.to_statement(), *signers),
            headers={"Content-Type": "application/json"},
        )
    who = "the centre" if not authorised_by else f"key {registered['authorised_by'][:16]}"
    console.print(
        f"Registered key {registered['keyid']} for {org}, introduced by {who}"
        + (
            f"; log entry #{registered['log']['index']}"
            if registered["log"]["index"] is not None
            else ""
        ),
        highlight=False,
    )


@app.command()
def revoke(
    keyid: Annotated[str, typer.Argument(help="The keyid to revoke.")],
    org: Org,
    reason: Annotated[str, typer.Option(help="Why; it is public.")],
    url: Url = "http://127.0.0.1:8000",
    token: Token = "",
    sign_with: Annotated[
        Path | None,
        typer.Option(help="A valid key of yours that signs the revocation (else the centre)."),
    ] = None,
) -> None:
    """Revoke a key: nothing it signs after the revocation is logged is valid."""
    from clearroom.attest.keys import PublicKey
    from clearroom.attest.registry import KeyEvent
    from clearroom.cli.client import Client

    with Client(url, _token(token)) as client:
        envelope = None
        if sign_with is not None:
            keys = client.request("GET", f"/organisations/{org}/keys")
            found = next((k for k in keys if k["keyid"] == keyid), None)
            if found is None:
                raise ClearroomError(f"key: {org} has no key {keyid}")
            public = PublicKey.from_pem(found["public_key"])
            event = KeyEvent(org, "revoke", public, datetime.now(UTC), reason=reason)
            envelope = json.loads(sign_statement(event.to_statement(), load_signer(sign_with)))
        client.request(
            "POST",
            f"/organisations/{org}/keys/{keyid}/revoke",
            json={"reason": reason, "envelope": envelope},
        )
    console.print(f"Revoked key {keyid} of {org}.", highlight=False)


def _token(token: str) -> str:
    if not token:
        raise ClearroomError("key: give an API token with --token or CLEARROOM_TOKEN")
    return token


def sign_command(
    directory: Path,
    product: str,
    version: str,
    key: Path,
    out: Path,
    confidential: list[str],
    support_until: date | None = None,
) -> None:
    """Write the signed release manifest of ``directory`` to ``out``."""
    org, _, product_slug = product.partition("/")
    statement = manifest_statement(directory, org, product_slug, version, confidential)
    if support_until is not None:
        from clearroom.attest.predicates import ReleaseManifest

        manifest = ReleaseManifest.from_statement(statement)
        statement = ReleaseManifest(
            manifest.vendor, manifest.product, manifest.version, manifest.files, support_until
        ).to_statement()
    signer = load_signer(key)
    out.write_bytes(sign_statement(statement, signer))
    console.print(
        f"Signed the manifest of {org}/{product_slug}@{version}"
        f" ({len(statement.subjects)} files) with key {signer.public_key.keyid[:16]}: {out}",
        highlight=False,
    )


vex_app = typer.Typer(
    name="vex",
    help="Publish your VEX statements, signed, so they change findings and are logged.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@vex_app.command("publish")
def publish_vex(
    file: Annotated[Path, typer.Argument(help="An OpenVEX document (JSON).")],
    product: Annotated[str, typer.Option(help="ORG/PRODUCT, e.g. acme/edgerouter-x5.")],
    version: Annotated[str, typer.Option(help="The release the statements are about.")],
    key: KeyFile,
    url: Url = "http://127.0.0.1:8000",
    token: Token = "",
) -> None:
    """Sign an OpenVEX document as an in-toto statement about the release's public artifacts
    and submit it: the centre checks CISA's minimum elements and your key, logs it, and
    re-evaluates the release's findings."""
    from clearroom.attest.predicates import OPENVEX
    from clearroom.attest.statement import Statement, Subject
    from clearroom.cli.client import Client
    from clearroom.untrusted import InputError, MalformedInput, parse_json, read_capped
    from clearroom.vulns.vex.model import MAX_VEX_BYTES

    org, _, product_slug = product.partition("/")
    try:
        predicate = parse_json(read_capped(file, MAX_VEX_BYTES, what="vex"), what=f"vex: {file}")
    except (InputError, MalformedInput) as exc:
        raise ClearroomError(f"vex: cannot read {file} as JSON: {exc}") from None
    path = f"/products/{org}/{product_slug}/releases/{version}"
    with Client(url, _token(token)) as client:
        release = client.request("GET", path)
        subjects = tuple(
            Subject(a["name"], {"sha256": a["sha256"]})
            for a in release["artifacts"]
            if a["confidentiality"] == "public"
        )
        if not subjects:
            raise ClearroomError(f"vex: {product}@{version} has no public artifact to be about")
        statement = Statement(subjects, OPENVEX, predicate)
        done = client.request(
            "POST",
            f"{path}/attestations",
            content=sign_statement(statement, load_signer(key)),
            headers={"Content-Type": "application/json"},
        )
    where = f"log entry #{done['log']['index']}" if done.get("log") else "logged at publication"
    console.print(f"Published {len(predicate.get('statements', []))} VEX statements ({where}).")
