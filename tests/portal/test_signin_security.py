"""Signing in: Argon2id hashes, the lockout against guessing, the second factor (TOTP) with
replay refused, the operator's rule that some roles must have one, and invitations."""

from __future__ import annotations

import dataclasses
import json
import re
import time

import pyotp
import pytest
from django.test import Client

from clearroom.server.accounts.models import Invitation, Membership, TotpDevice, User
from clearroom.server.audit.models import AuditEvent
from tests.portal.conftest import World

PASSWORD = "a long enough passphrase 42"


@pytest.fixture
def mia(world: World) -> User:
    world.maintainer.set_password(PASSWORD)
    world.maintainer.save()
    return world.maintainer


def _sign_in(client: Client, username: str, password: str = PASSWORD):
    return client.post("/login/", {"username": username, "password": password})


def _code(device: TotpDevice, offset: int = 0) -> str:
    return pyotp.TOTP(device.secret).at(time.time() + offset)


def test_new_passwords_are_hashed_with_argon2id(db, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.Argon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = User.objects.create_user("ada", password=PASSWORD)
    assert user.password.startswith("argon2$argon2id$")


def test_guessing_locks_the_account_even_for_the_right_password(mia):
    client = Client()
    for _ in range(5):
        assert _sign_in(client, "mia", "wrong").status_code == 200
    locked = _sign_in(client, "mia")
    assert "Too many failed attempts" in locked.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEvent.objects.filter(action="account:session:create", outcome="denied").count() == 6
    # an account that does not exist answers the same
    for _ in range(5):
        _sign_in(client, "nobody", "wrong")
    assert "Too many failed attempts" in _sign_in(client, "nobody").content.decode()


def test_one_address_guessing_many_accounts_is_stopped(world, mia):
    client = Client()
    for i in range(20):
        _sign_in(client, f"user{i}", "wrong")
    assert "Too many failed attempts" in _sign_in(client, "mia").content.decode()


def test_a_second_factor_is_set_up_then_asked_for(mia):
    client = Client()
    assert _sign_in(client, "mia").status_code == 302
    client.post("/-/account/act", {"action": "start"})
    device = TotpDevice.objects.get(user=mia)
    page = client.get("/-/account/").content.decode()
    assert "<svg" in page and device.secret in page
    assert client.post("/-/account/act", {"action": "confirm", "code": "000000"}).status_code == 422
    client.post("/-/account/act", {"action": "confirm", "code": _code(device)})
    device.refresh_from_db()
    assert device.confirmed_at is not None
    client.post("/logout/")

    fresh = Client()
    asked = fresh.post("/login/", {"username": "mia", "password": PASSWORD, "next": "/help/"})
    assert asked["Location"] == "/login/second-factor"
    assert "_auth_user_id" not in fresh.session  # not signed in on the password alone
    assert fresh.post("/login/second-factor", {"code": "123456"}).status_code == 422
    used = _code(device)  # the code of this step was used to confirm: refused again
    assert fresh.post("/login/second-factor", {"code": used}).status_code == 422
    later = _code(device, 30)
    done = fresh.post("/login/second-factor", {"code": later})
    assert done.status_code == 302 and done["Location"] == "/help/"
    assert fresh.session["_auth_user_id"] == str(mia.pk)


def test_the_operator_can_require_a_second_factor(world, mia, settings):
    settings.CONFIG = dataclasses.replace(settings.CONFIG, require_second_factor=True)
    client = Client()
    _sign_in(client, "mia")
    blocked = client.get("/orgs/acme/")
    assert blocked.status_code == 302 and blocked["Location"] == "/-/account/"
    assert "Set up a second factor to continue" in client.get("/-/account/").content.decode()
    client.post("/-/account/act", {"action": "start"})
    device = TotpDevice.objects.get(user=mia)
    client.post("/-/account/act", {"action": "confirm", "code": _code(device)})
    assert client.get("/orgs/acme/").status_code == 200
    # a viewer is not required to have one
    world.viewer.set_password(PASSWORD)
    world.viewer.save()
    other = Client()
    _sign_in(other, "vic")
    assert other.get("/orgs/acme/").status_code == 200


@pytest.mark.parametrize("kind", ["staff", "superuser"])
def test_staff_without_second_factor_must_set_one_up_when_required(db, settings, kind):
    """Staff and superusers belong to no organisation but reach the admin site: with the
    operator's rule on, signing in (the admin's sign-in is the portal's) leads them to set up a
    second factor before the admin opens, and they cannot remove their only one."""
    settings.CONFIG = dataclasses.replace(settings.CONFIG, require_second_factor=True)
    User.objects.create_user(
        "root", password=PASSWORD, is_staff=True, is_superuser=kind == "superuser"
    )
    client = Client()
    asked = client.get("/admin/")
    assert asked.status_code == 302 and asked["Location"].startswith("/admin/login/")
    assert client.get(asked["Location"])["Location"].startswith("/login/")
    _sign_in(client, "root")
    blocked = client.get("/admin/")
    assert blocked.status_code == 302 and blocked["Location"] == "/-/account/"
    assert "Set up a second factor to continue" in client.get("/-/account/").content.decode()
    client.post("/-/account/act", {"action": "start"})
    device = TotpDevice.objects.get(user__username="root")
    client.post("/-/account/act", {"action": "confirm", "code": _code(device)})
    assert client.get("/admin/").status_code == 200
    kept = client.post("/-/account/act", {"action": "remove", "code": _code(device, 30)})
    assert kept.status_code == 422 and TotpDevice.objects.filter(pk=device.pk).exists()


def test_an_owner_invites_and_the_link_works_once(world, db):
    owner = world.client("owner")
    made = owner.post("/orgs/acme/-/invitations/", {"email": "new@acme.test", "role": "expert"})
    assert made.status_code == 302
    link = re.search(r"/invitations/[\w-]+/", owner.get("/orgs/acme/").content.decode())
    assert link is not None
    url = link.group(0)
    visitor = Client()
    assert "as <strong>expert</strong>" in visitor.get(url).content.decode()
    weak = visitor.post(url, {"username": "newbie", "password": "short"})
    assert weak.status_code == 422
    joined = visitor.post(url, {"username": "newbie", "password": PASSWORD})
    assert joined.status_code == 302
    newbie = User.objects.get(username="newbie")
    assert Membership.objects.get(user=newbie).role == "expert" and newbie.email == "new@acme.test"
    assert Client().get(url).status_code == 404  # used
    assert Invitation.objects.get().accepted_by == newbie
    viewer = world.client("viewer")
    refused = viewer.post("/orgs/acme/-/invitations/", {"email": "x@acme.test", "role": "owner"})
    assert refused.status_code == 403


def test_bad_passkey_answers_are_refused(mia):
    client = Client()
    _sign_in(client, "mia")
    no_ceremony = client.post(
        "/-/account/passkeys/register", '{"credential": {"id": "x"}}', "application/json"
    )
    assert no_ceremony.status_code == 422 and "no ceremony" in no_ceremony.json()["detail"]
    options = client.post("/-/account/passkeys/options").json()
    assert options["rp"]["id"] and options["user"]["name"] == "mia"
    forged = {"credential": {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": {}}}
    refused = client.post("/-/account/passkeys/register", json.dumps(forged), "application/json")
    assert refused.status_code == 422 and "does not check out" in refused.json()["detail"]
    assert (
        client.post("/-/account/passkeys/register", "not json", "application/json").status_code
        == 422
    )
    assert not mia.passkeys.exists()
    anonymous = Client()
    assert (
        anonymous.post("/login/second-factor/passkey", "{}", "application/json").status_code == 400
    )


def test_the_admin_site_signs_in_through_the_portal(db):
    response = Client().get("/admin/login/?next=/admin/catalog/release/")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/catalog/release/"
    offsite = Client().get("/admin/login/?next=https://evil.example/")
    assert offsite["Location"] == "/login/?next=/admin/"
