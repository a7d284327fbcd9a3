"""The inbox through the API: a token reads it only with the inbox scope (and only its own
organisation's inbox), and email choices are set with a JSON body, as the schema says."""

from __future__ import annotations

import json

from tests.server.conftest import _member

from clearroom.server.accounts.models import Membership, Organisation
from clearroom.server.authz.permissions import Permission, grantable
from clearroom.server.notifications.services import notify

INBOX = "/api/notifications"
PREFERENCES = "/api/notifications/preferences"


def _post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def test_token_cannot_read_inbox_without_the_inbox_scope(world):
    notify("finding", "a finding about the router", organisations=[world.vendor])
    notify("mention", "you were mentioned", users=[world.maintainer])
    everything_else = sorted(
        p.value
        for p in grantable("maintainer", "vendor")
        if p not in (Permission.INBOX_READ, Permission.INBOX_MANAGE)
    )
    no_inbox = world.client(world.token_for(world.maintainer, world.vendor, everything_else))
    for answer in (
        no_inbox.get(INBOX),
        no_inbox.get(PREFERENCES),
        _post(no_inbox, PREFERENCES, {"finding": "off"}),
    ):
        assert answer.status_code == 403, answer.content
        assert "account:" in answer.json()["detail"]
    reader = world.client(world.token_for(world.maintainer, world.vendor, ["account:inbox:read"]))
    texts = {n["text"] for n in reader.get(INBOX).json()}
    assert texts == {"a finding about the router", "you were mentioned"}
    assert _post(reader, PREFERENCES, {"finding": "off"}).status_code == 403  # read is not manage


def test_token_narrowed_to_a_product_cannot_read_inbox(world):
    narrowed = world.client(
        world.token_for(
            world.maintainer, world.vendor, ["account:inbox:read"], product=world.product
        )
    )
    assert narrowed.get(INBOX).status_code == 403


def test_token_reads_only_its_own_organisations_inbox(world):
    """A person in two organisations: a token for one never shows the other's inbox."""
    notify("finding", "acme's news", organisations=[world.vendor])
    notify("evaluation", "lab's news", organisations=[world.lab])
    both = _member("both", world.vendor, "viewer")
    Membership.objects.create(user=both, organisation=world.lab, role="viewer")
    acme_token = world.client(world.token_for(both, world.vendor, ["account:inbox:read"]))
    assert [n["text"] for n in acme_token.get(INBOX).json()] == ["acme's news"]


def test_preferences_body_is_json_in_the_schema_and_sets_choices(world):
    schema = world.client().get("/api/openapi.json").json()
    operation = schema["paths"][PREFERENCES]["post"]
    assert operation["parameters"] == []
    assert "application/json" in operation["requestBody"]["content"]
    manager = world.client(
        world.token_for(world.maintainer, world.vendor, ["account:notification:manage"])
    )
    answer = _post(manager, PREFERENCES, {"finding": "immediate", "vulnerability": "off"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["finding"] == "immediate" and answer.json()["vulnerability"] == "off"
    wrong = _post(manager, PREFERENCES, {"finding": "hourly"})
    assert wrong.status_code == 422 and "choose one of" in wrong.json()["detail"]
    not_an_object = _post(manager, PREFERENCES, ["finding"])
    assert not_an_object.status_code in (400, 422)
    assert not_an_object["Content-Type"].startswith("application/problem+json")


def test_a_member_may_put_inbox_scopes_on_a_token():
    for kind in Organisation.Kind.values:
        if kind == "operator":
            continue
        assert {Permission.INBOX_READ, Permission.INBOX_MANAGE} <= grantable("viewer", kind)
        assert Permission.ACCOUNT_MANAGE not in grantable("owner", kind)
