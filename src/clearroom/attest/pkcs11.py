"""Signing keys that live on a PKCS#11 token (a hardware security module, a smart card,
SoftHSM2): the private half never leaves the token; Clearroom asks it to sign.

Why a separate module: ``python-pkcs11`` (a C extension) is needed only by whoever holds a
token, never by a verifier, so it is imported lazily; importing this module costs nothing.

A key is named by an RFC 7512 PKCS#11 URI::

    pkcs11:token=clearroom;object=release-key?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/clearroom/pin

Example::

    signer = open_pkcs11_signer(uri)
    envelope = sign_envelope("application/vnd.in-toto+json", statement, [signer])
    checkpoint_signer = note_signer(signer, "log.example.com")  # an Ed25519 key only

Token quirks handled here: ``CKA_EC_POINT`` is a DER OCTET STRING around the point (some
tokens give the bare point); tokens sign ECDSA as raw ``r‖s`` over a digest the host computes
(SoftHSM2 2.6.1 refuses the combined hash-and-sign mechanism); PKCS#11 logins belong to the
whole process, so signers on one token share one logged-in session.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from clearroom.attest.errors import BadKey
from clearroom.attest.keys import ALGORITHMS, Algorithm, PublicKey, raw_to_der
from clearroom.tlog.note import SIG_ED25519, Verifier, is_valid_key_name, key_id

if TYPE_CHECKING:
    from pkcs11.types import Session, Token

__all__ = [
    "Pkcs11Signer",
    "Pkcs11Uri",
    "TokenNoteSigner",
    "generate_on_token",
    "note_signer",
    "open_pkcs11_signer",
    "parse_pkcs11_uri",
]

# DER of the curve parameters (CKA_EC_PARAMS): the P-256 OID, and Ed25519 as its OID or as
# the PrintableString "edwards25519" that PKCS#11 3.0 also allows.
_P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")
_ED25519_PARAMS = (bytes.fromhex("06032b6570"), b"\x13\x0cedwards25519")
_ED25519_KEY = 32
_P256_POINT = 65  # 0x04 ‖ X ‖ Y
_SIGNATURE = 64

# python-pkcs11 initialises the module with C_Initialize(NULL): the module may then assume it
# is never entered by two threads at once. Every call into a module goes through this lock.
_LOCK = threading.RLock()

_PATH_ATTRIBUTES = frozenset({"token", "object", "id", "serial", "type"})
_QUERY_ATTRIBUTES = frozenset({"module-path", "pin-value", "pin-source"})


# --- URIs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pkcs11Uri:
    """What a PKCS#11 URI names: a module, a token, a private key on it, and the PIN."""

    module_path: str
    token: str
    label: str | None
    id: bytes | None = None
    serial: str | None = None
    pin: str = field(default="", repr=False)


def _unquote(value: str, what: str) -> str:
    try:
        return urllib.parse.unquote(value, errors="strict")
    except UnicodeDecodeError:
        raise BadKey(f"attest: PKCS#11 URI {what} is not UTF-8 once percent-decoded") from None


def _attributes(part: str, separator: str, allowed: frozenset[str], where: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in part.split(separator) if part else []:
        name, equals, value = item.partition("=")
        if not equals or not name:
            raise BadKey(f"attest: PKCS#11 URI {where} part {item!r} is not name=value")
        if name not in allowed:
            raise BadKey(
                f"attest: PKCS#11 URI attribute {name!r} is not supported "
                f"(use {', '.join(sorted(allowed))})"
            )
        if name in found:
            raise BadKey(f"attest: PKCS#11 URI attribute {name!r} appears twice")
        found[name] = value
    return found


def _read_pin(source: str) -> str:
    if source.startswith("file:"):
        parsed = urllib.parse.urlsplit(source)
        if parsed.netloc not in ("", "localhost"):
            raise BadKey("attest: PKCS#11 pin-source must be a local file: URI")
        source = parsed.path
    if not source.startswith("/"):
        raise BadKey("attest: PKCS#11 pin-source must be file:/absolute/path or an absolute path")
    path = Path(source)
    try:
        pin = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8"
        raise BadKey(f"attest: cannot read the PKCS#11 PIN file {path}: {reason}") from None
    return pin.rstrip("\r\n")


def parse_pkcs11_uri(uri: str) -> Pkcs11Uri:
    """Parse an RFC 7512 URI naming a private key: ``token`` and ``object`` (or ``id``) in the
    path, ``module-path`` and one of ``pin-value``/``pin-source`` in the query. Values are
    percent-decoded. Errors never repeat the URI: it may hold a PIN."""
    if not uri.startswith("pkcs11:"):
        raise BadKey("attest: a PKCS#11 key is named by a URI starting with pkcs11:")
    path_part, _, query_part = uri.removeprefix("pkcs11:").partition("?")
    path = _attributes(path_part, ";", _PATH_ATTRIBUTES, "path")
    query = _attributes(query_part, "&", _QUERY_ATTRIBUTES, "query")

    if "token" not in path:
        raise BadKey("attest: PKCS#11 URI has no token= (the token label)")
    if "object" not in path and "id" not in path:
        raise BadKey("attest: PKCS#11 URI has no object= (the key label) or id=")
    if "module-path" not in query:
        raise BadKey("attest: PKCS#11 URI has no module-path= (the PKCS#11 library)")
    if path.get("type", "private") != "private":
        raise BadKey("attest: PKCS#11 URI must name a private key (type=private)")
    if "pin-value" in query and "pin-source" in query:
        raise BadKey("attest: PKCS#11 URI has both pin-value and pin-source; give one")
    if "pin-value" in query:
        pin = _unquote(query["pin-value"], "pin-value")
    elif "pin-source" in query:
        pin = _read_pin(_unquote(query["pin-source"], "pin-source"))
    else:
        raise BadKey("attest: PKCS#11 URI has no pin-value= or pin-source=")

    return Pkcs11Uri(
        module_path=_unquote(query["module-path"], "module-path"),
        token=_unquote(path["token"], "token"),
        label=_unquote(path["object"], "object") if "object" in path else None,
        id=urllib.parse.unquote_to_bytes(path["id"]) if "id" in path else None,
        serial=_unquote(path["serial"], "serial") if "serial" in path else None,
        pin=pin,
    )


# --- modules, tokens and logged-in sessions ------------------------------------------------


def _pkcs11() -> Any:
    try:
        import pkcs11
    except ImportError:
        raise BadKey(
            "attest: install python-pkcs11 to use keys on a PKCS#11 token "
            "(pip install python-pkcs11)"
        ) from None
    return pkcs11


def _token(module: str, label: str, serial: str | None) -> Token:
    pkcs11 = _pkcs11()
    if not Path(module).is_file():
        raise BadKey(f"attest: PKCS#11 module {module} does not exist")
    try:
        lib = pkcs11.lib(module)
    except pkcs11.PKCS11Error as exc:
        raise BadKey(f"attest: cannot load the PKCS#11 module {module}: {exc}") from None
    try:
        token: Token = lib.get_token(
            token_label=label, token_serial=serial.encode() if serial is not None else None
        )
    except pkcs11.NoSuchToken:
        raise BadKey(f"attest: no PKCS#11 token labelled {label!r} in {module}") from None
    except pkcs11.MultipleTokensReturned:
        raise BadKey(
            f"attest: several PKCS#11 tokens are labelled {label!r}; add serial="
        ) from None
    return token


def _pin_digest(pin: str) -> bytes:
    return hashlib.sha256(b"clearroom-pkcs11-pin\0" + pin.encode()).digest()


class _TokenSession:
    """One logged-in session per token and process, shared by every signer on that token.
    PKCS#11 logs in the whole application: a second C_Login fails, and closing the session
    that logged in logs everyone out. So the last signer to close logs out."""

    _open: dict[tuple[str, str, str], _TokenSession] = {}

    def __init__(self, handle: tuple[str, str, str], token: Token, pin: str, session: Session):
        self.handle = handle
        self.token = token
        self.session = session
        self.pin_digest = _pin_digest(pin)
        self.users = 0

    @classmethod
    def acquire(cls, module: str, token: Token, pin: str) -> _TokenSession:
        pkcs11 = _pkcs11()
        handle = (module, token.label, token.serial.decode(errors="replace"))
        shared = cls._open.get(handle)
        if shared is not None:
            if not hmac.compare_digest(shared.pin_digest, _pin_digest(pin)):
                raise BadKey(f"attest: wrong PIN for PKCS#11 token {token.label!r}")
        else:
            try:
                session = token.open(user_pin=pin)
            except pkcs11.PinIncorrect:
                raise BadKey(f"attest: wrong PIN for PKCS#11 token {token.label!r}") from None
            except pkcs11.PinLocked:
                raise BadKey(
                    f"attest: the PIN of PKCS#11 token {token.label!r} is locked"
                ) from None
            except pkcs11.UserAlreadyLoggedIn:
                raise BadKey(
                    f"attest: PKCS#11 token {token.label!r} is already logged in by other code "
                    "in this process"
                ) from None
            except pkcs11.PKCS11Error as exc:
                raise BadKey(
                    f"attest: cannot log in to PKCS#11 token {token.label!r}: {exc!r}"
                ) from None
            shared = cls._open[handle] = cls(handle, token, pin, session)
        shared.users += 1
        return shared

    def release(self) -> None:
        self.users -= 1
        if self.users > 0:
            return
        del self._open[self.handle]
        try:
            self.session.close()  # logs out, then closes
        except _pkcs11().PKCS11Error:
            pass  # the module was finalised or the token removed: nothing left to close


# --- signers -------------------------------------------------------------------------------


def _unwrap_point(point: bytes, size: int) -> bytes:
    """CKA_EC_POINT is DER ``OCTET STRING { point }``; some tokens store the bare point."""
    if len(point) == size + 2 and point[0] == 0x04 and point[1] == size:
        return point[2:]
    if len(point) == size:
        return point
    raise BadKey(f"attest: the token's EC point is {len(point)} bytes, not a {size}-byte point")


def _public_key(algorithm: Algorithm, ec_point: bytes) -> PublicKey:
    try:
        if algorithm == "ed25519":
            raw = _unwrap_point(ec_point, _ED25519_KEY)
            return PublicKey.from_cryptography(ed25519.Ed25519PublicKey.from_public_bytes(raw))
        point = _unwrap_point(ec_point, _P256_POINT)
        return PublicKey.from_cryptography(
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
        )
    except ValueError:
        raise BadKey("attest: the token's public key is not a valid point on its curve") from None


class Pkcs11Signer:
    """A :class:`~clearroom.attest.keys.Signer` whose private key is on a PKCS#11 token.
    Ed25519 (CKK_EC_EDWARDS, CKM_EDDSA) or ECDSA P-256 (CKK_EC, CKM_ECDSA over a SHA-256
    computed here; signatures returned as DER). Safe to share between threads. The public key
    comes from the token's public key object with the same label (and id, if given)."""

    def __init__(
        self,
        module: str,
        token: str,
        label: str | None,
        pin: str,
        *,
        id: bytes | None = None,
        serial: str | None = None,
    ) -> None:
        if label is None and id is None:
            raise BadKey("attest: a PKCS#11 key is found by its label or its id")
        self._closed = True
        with _LOCK:
            self._shared = _TokenSession.acquire(module, _token(module, token, serial), pin)
            self._closed = False
            try:
                self._key, self.algorithm, self.public_key = self._find(label, id)
            except BaseException:
                self.close()
                raise

    def _find(self, label: str | None, id: bytes | None) -> tuple[Any, Algorithm, PublicKey]:
        pkcs11 = _pkcs11()
        what = f"labelled {label!r}" if label is not None else f"with id {id.hex() if id else ''}"
        where = f"on PKCS#11 token {self._shared.token.label!r}"
        session = self._shared.session
        try:
            # Any: python-pkcs11 adds sign() to key objects at run time (SignMixin).
            private: Any = session.get_key(
                object_class=pkcs11.ObjectClass.PRIVATE_KEY, label=label, id=id
            )
        except pkcs11.NoSuchKey:
            raise BadKey(f"attest: no private key {what} {where}") from None
        except pkcs11.MultipleObjectsReturned:
            raise BadKey(f"attest: several private keys {what} {where}; add id=") from None
        ec_types = (pkcs11.KeyType.EC, pkcs11.KeyType.EC_EDWARDS)
        params = bytes(private[pkcs11.Attribute.EC_PARAMS]) if private.key_type in ec_types else b""
        algorithm: Algorithm
        if private.key_type == pkcs11.KeyType.EC_EDWARDS and params in _ED25519_PARAMS:
            algorithm = "ed25519"
        elif private.key_type == pkcs11.KeyType.EC and params == _P256_PARAMS:
            algorithm = "ecdsa-p256"
        else:
            raise BadKey(
                f"attest: the key {what} {where} is {private.key_type!r} with parameters "
                f"{params.hex() or 'none'}; only Ed25519 and ECDSA P-256 are supported"
            )
        try:
            public = session.get_key(object_class=pkcs11.ObjectClass.PUBLIC_KEY, label=label, id=id)
        except pkcs11.NoSuchKey:
            raise BadKey(f"attest: the key {what} {where} has no public key object") from None
        except pkcs11.MultipleObjectsReturned:
            raise BadKey(f"attest: several public keys {what} {where}; add id=") from None
        return private, algorithm, _public_key(algorithm, bytes(public[pkcs11.Attribute.EC_POINT]))

    def __repr__(self) -> str:
        return f"Pkcs11Signer({self.algorithm}, keyid={self.public_key.keyid[:16]})"

    def sign(self, message: bytes) -> bytes:
        pkcs11 = _pkcs11()
        with _LOCK:
            if self._closed:
                raise BadKey("attest: this PKCS#11 signer is closed")
            try:
                if self.algorithm == "ed25519":
                    signature = bytes(self._key.sign(message, mechanism=pkcs11.Mechanism.EDDSA))
                else:
                    digest = hashlib.sha256(message).digest()
                    signature = bytes(self._key.sign(digest, mechanism=pkcs11.Mechanism.ECDSA))
            except pkcs11.PKCS11Error as exc:
                raise BadKey(f"attest: the PKCS#11 token refused to sign: {exc!r}") from None
        if len(signature) != _SIGNATURE:
            raise BadKey(f"attest: the PKCS#11 token returned a {len(signature)}-byte signature")
        return signature if self.algorithm == "ed25519" else raw_to_der(signature)

    def close(self) -> None:
        """Let go of the token (the last signer on a token logs out). Idempotent."""
        with _LOCK:
            if not self._closed:
                self._closed = True
                self._shared.release()

    def __enter__(self) -> Pkcs11Signer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_pkcs11_signer(uri: str) -> Pkcs11Signer:
    """The signer an RFC 7512 PKCS#11 URI names (see :func:`parse_pkcs11_uri`)."""
    parsed = parse_pkcs11_uri(uri)
    return Pkcs11Signer(
        parsed.module_path,
        parsed.token,
        parsed.label,
        parsed.pin,
        id=parsed.id,
        serial=parsed.serial,
    )


def generate_on_token(
    module: str, token: str, label: str, pin: str, algorithm: Algorithm = "ed25519"
) -> Pkcs11Signer:
    """Create a key pair on a token (private half sensitive and not extractable, both halves
    stored under ``label`` with a fresh random id) and return its signer. Never replaces a key
    with the same label."""
    if algorithm not in ALGORITHMS:
        raise BadKey(f"attest: algorithm must be one of {', '.join(ALGORITHMS)}")
    pkcs11 = _pkcs11()
    key_type, params = (
        (pkcs11.KeyType.EC_EDWARDS, _ED25519_PARAMS[0])
        if algorithm == "ed25519"
        else (pkcs11.KeyType.EC, _P256_PARAMS)
    )
    with _LOCK:
        found = _token(module, token, None)
        shared = _TokenSession.acquire(module, found, pin)
        try:
            # The process is logged in already: a read-write session inherits the login.
            try:
                session = shared.token.open(rw=True)
            except pkcs11.PKCS11Error as exc:
                raise BadKey(f"attest: PKCS#11 token {token!r} is not writable: {exc!r}") from None
            try:
                if any(session.get_objects({pkcs11.Attribute.LABEL: label})):
                    raise BadKey(
                        f"attest: PKCS#11 token {token!r} already holds {label!r}; "
                        "refusing to replace a key"
                    )
                session.generate_keypair(
                    key_type,
                    store=True,
                    label=label,
                    id=secrets.token_bytes(16),
                    capabilities=pkcs11.MechanismFlag.SIGN | pkcs11.MechanismFlag.VERIFY,
                    public_template={pkcs11.Attribute.EC_PARAMS: params},
                    private_template={
                        pkcs11.Attribute.SENSITIVE: True,
                        pkcs11.Attribute.EXTRACTABLE: False,
                    },
                )
            except pkcs11.PKCS11Error as exc:
                raise BadKey(
                    f"attest: PKCS#11 token {token!r} cannot generate {algorithm} keys: {exc!r}"
                ) from None
            finally:
                session.close()
            return Pkcs11Signer(module, token, label, pin)
        finally:
            shared.release()


# --- transparency-log notes ----------------------------------------------------------------


@dataclass(frozen=True)
class TokenNoteSigner:
    """A :class:`clearroom.tlog.note.NoteSigner` (Ed25519, type 0x01) whose key is on a token,
    so the log's checkpoints can be signed by an HSM."""

    name: str
    key_id: int
    public_key: bytes
    signer: Pkcs11Signer = field(repr=False, compare=False)

    def sign(self, text: bytes) -> bytes:
        return self.signer.sign(text)

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_id, self.public_key)


def note_signer(signer: Pkcs11Signer, name: str) -> TokenNoteSigner:
    """Sign signed notes (checkpoints) as ``name`` with an Ed25519 token key."""
    if signer.public_key.algorithm != "ed25519":
        raise BadKey(
            f"attest: signed notes need an Ed25519 key; {signer!r} is {signer.public_key.algorithm}"
        )
    if not is_valid_key_name(name):
        raise BadKey(f"attest: invalid note key name {name!r} (no spaces, no +)")
    key = serialization.load_der_public_key(signer.public_key.der)
    assert isinstance(key, ed25519.Ed25519PublicKey)
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return TokenNoteSigner(name, key_id(name, SIG_ED25519, raw), raw, signer)
