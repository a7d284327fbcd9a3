"""Getting notifications out: email over SMTP (at once or in a daily digest, per person and kind)
and signed webhooks (per organisation). Run by jobs (:mod:`.tasks`), never on a request's path.

Webhooks are signed like Stripe's and GitHub's, so receivers can use what they know: the header
``Clearroom-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" under the secret>``.
A receiver recomputes it and refuses a stale ``t``. Targets on loopback, private, link-local or
otherwise non-public addresses (:mod:`.addresses`) are refused - at registration and again at
every delivery. A delivery resolves the name once, checks every address, and connects to the
checked address itself (sending the original ``Host`` and, for https, its SNI and verifying the
certificate for that name), so a DNS answer that changes between check and connection (DNS
rebinding) cannot turn a webhook against the centre's own network. Proxies from the environment
are ignored for the same reason."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from clearroom.server.accounts.models import Membership, User
from clearroom.server.errors import Invalid
from clearroom.server.notifications.addresses import Address, why_not_public
from clearroom.server.notifications.models import Delivery, Notification, Preference, Webhook

log = logging.getLogger("clearroom.notifications")
SIGNATURE_HEADER = "Clearroom-Signature"


# -- who hears what -----------------------------------------------------------------------------


def recipients(notification: Notification) -> list[User]:
    """The person, or the organisation's members who may see what it is about."""
    if notification.user_id is not None:
        return [notification.user]  # type: ignore[list-item]
    members = User.objects.filter(
        pk__in=Membership.objects.filter(organisation_id=notification.organisation_id).values(
            "user_id"
        ),
        is_active=True,
    )
    return list(members)


def email_choice(user: User, kind: str) -> str:
    saved = Preference.objects.filter(user=user, kind=kind).values_list("email", flat=True).first()
    return saved or Preference.DEFAULTS.get(kind, Preference.Email.DAILY)


def deliver(notification: Notification) -> dict[str, int]:
    """Email those who want it now (and queue the digest for the others); POST to the
    organisation's webhooks. Raises on a failed webhook so the job retries it."""
    counts = {"emails": 0, "digest": 0, "webhooks": 0}
    for user in recipients(notification):
        choice = email_choice(user, notification.kind)
        if choice == Preference.Email.OFF or not user.email:
            continue
        if choice == Preference.Email.DAILY:
            Delivery.objects.create(
                notification=notification, channel="email", user=user, state="pending"
            )
            counts["digest"] += 1
            continue
        send_email(user.email, f"[Clearroom] {notification.text}", _body([notification]))
        Delivery.objects.create(notification=notification, channel="email", user=user, state="sent")
        counts["emails"] += 1
    failures = []
    if notification.organisation_id is not None:
        hooks = Webhook.objects.filter(organisation_id=notification.organisation_id, active=True)
        for hook in hooks:
            if hook.kinds and notification.kind not in hook.kinds:
                continue
            try:
                post_webhook(hook, notification)
                counts["webhooks"] += 1
            except (httpx.HTTPError, Invalid, OSError) as exc:
                failures.append(f"{hook.url}: {exc}")
    if failures:
        raise RuntimeError("webhook delivery failed: " + "; ".join(failures))
    return counts


def send_digest(user: User) -> int:
    """One email with every notification waiting for this person's digest."""
    pending = Delivery.objects.filter(user=user, channel="email", state="pending").select_related(
        "notification"
    )
    rows = list(pending.order_by("notification__created_at"))
    if not rows or not user.email:
        return 0
    subject = f"[Clearroom] {len(rows)} notification{'s' if len(rows) != 1 else ''} today"
    send_email(user.email, subject, _body([d.notification for d in rows]))
    Delivery.objects.filter(pk__in=[d.pk for d in rows]).update(state="sent", at=timezone.now())
    return len(rows)


def users_with_digests() -> list[int]:
    return list(
        Delivery.objects.filter(channel="email", state="pending")
        .values_list("user_id", flat=True)
        .distinct()
    )


# -- email ---------------------------------------------------------------------------------------


def _absolute(url: str) -> str:
    return settings.CONFIG.base_url.rstrip("/") + url if url.startswith("/") else url


def _body(notifications: list[Notification]) -> str:
    lines = [
        f"- {n.created_at:%Y-%m-%d %H:%M} UTC  {n.text}\n  {_absolute(n.url)}"
        for n in notifications
    ]
    settings_url = _absolute("/-/notifications/")
    return "\n".join(lines) + f"\n\nChoose what you receive by email: {settings_url}\n"


def send_email(address: str, subject: str, body: str) -> bool:
    """Send one plain-text email through the configured server; False when none is set."""
    config = settings.CONFIG
    if not config.smtp_host:
        return False
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend",
        host=config.smtp_host,
        port=config.smtp_port,
        username=config.smtp_user or None,
        password=config.smtp_password or None,
        use_tls=config.smtp_starttls,
        timeout=10,
    )
    EmailMessage(subject[:200], body, config.email_from, [address], connection=connection).send()
    return True


# -- webhooks ------------------------------------------------------------------------------------


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives for ``host``."""
    return [str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


resolve: Callable[[str, int], list[str]] = system_resolver
"""How webhook host names become addresses: called once per check (tests answer with a
resolver of their own, e.g. one that rebinds)."""


@dataclass(frozen=True)
class Target:
    """A checked webhook target: the URL as registered and the address to connect to."""

    url: httpx.URL
    address: Address

    def pinned_url(self) -> httpx.URL:
        return self.url.copy_with(host=str(self.address))


def check_target(url: str) -> Target:
    """Refuse a webhook target that is not http(s) or that resolves to any non-public address;
    return it with the checked address deliveries must connect to."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = httpx.URL()
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    if parsed.scheme not in ("https", "http") or not parsed.host or not 0 < port < 65536:
        raise Invalid("url: a webhook is an http:// or https:// URL with a host name")
    host = parsed.raw_host.decode("ascii")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        try:
            addresses = [ipaddress.ip_address(a) for a in resolve(host, port)]
        except (OSError, UnicodeError, ValueError) as exc:
            raise Invalid(f"url: {host} does not resolve ({exc})") from None
    if not addresses:
        raise Invalid(f"url: {host} does not resolve")
    if not settings.CONFIG.webhook_allow_private:
        for address in addresses:
            reason = why_not_public(address)
            if reason is not None:
                raise Invalid(
                    f"url: {host} resolves to {address}, a private, loopback or reserved address"
                    f" ({reason}); webhooks go to public endpoints only"
                )
    return Target(parsed, addresses[0])


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def payload(notification: Notification) -> dict[str, Any]:
    release = notification.release
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "text": notification.text,
        "url": _absolute(notification.url) if notification.url else None,
        "organisation": notification.organisation.slug if notification.organisation else None,
        "release": None
        if release is None
        else {
            "vendor": release.product.vendor.slug,
            "product": release.product.slug,
            "version": release.version,
        },
        "created_at": notification.created_at.isoformat(),
    }


MAX_ANSWER_BYTES = 64 * 1024
"""How much of a receiver's answer is read: plenty for a status page or a diagnostic."""


def read_answer(response: httpx.Response, deadline: float) -> bytes:
    """At most `MAX_ANSWER_BYTES` of a streamed answer, as sent (not decompressed, so a small
    gzip bomb stays small), read until the cap or ``deadline`` (a monotonic time); the rest is
    dropped when the connection closes. A receiver that answers forever, fast or one byte at a
    time, neither grows the worker's memory nor holds the job past its timeout (plus at most
    one read timeout for the chunk under way). The status decides the delivery, so a body
    that breaks off or falls silent ends the reading, not the delivery (no duplicate retries)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_raw():  # each as it arrives, one network read (<= 64 KiB)
            chunks.append(chunk[: MAX_ANSWER_BYTES - size])
            size += len(chunks[-1])
            if size >= MAX_ANSWER_BYTES or time.monotonic() >= deadline:
                break
    except httpx.TransportError:
        pass  # the status line and headers arrived; what follows is only a diagnostic
    return b"".join(chunks)


def post_webhook(hook: Webhook, notification: Notification) -> None:
    target = check_target(hook.url)
    body = json.dumps(payload(notification), sort_keys=True).encode()
    headers = {
        "Host": target.url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "User-Agent": "Clearroom-Webhook/1",
        "Clearroom-Event": notification.kind,
        SIGNATURE_HEADER: signature(hook.secret, int(time.time()), body),
    }
    extensions = {"sni_hostname": target.url.raw_host.decode("ascii")}
    try:
        with httpx.Client(
            trust_env=False,  # a proxy would resolve the name again
            verify=httpx.create_ssl_context(),  # certifi, or SSL_CERT_FILE / SSL_CERT_DIR
            timeout=settings.CONFIG.webhook_timeout_seconds,
            follow_redirects=False,
        ) as client:
            request = client.build_request(
                "POST", target.pinned_url(), content=body, headers=headers, extensions=extensions
            )
            response = client.send(request, stream=True)
            try:
                read_answer(response, time.monotonic() + settings.CONFIG.webhook_timeout_seconds)
            finally:
                response.close()
        status = f"{response.status_code}"
        response.raise_for_status()
    except httpx.HTTPError as exc:
        status = f"failed connecting to {target.address}: {exc}"[:200]
        raise
    finally:
        Webhook.objects.filter(pk=hook.pk).update(
            last_status=status, last_delivery_at=timezone.now()
        )
    Delivery.objects.create(
        notification=notification, channel="webhook", webhook=hook, state="sent"
    )
