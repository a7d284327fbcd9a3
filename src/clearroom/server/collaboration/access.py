"""Who sees an evaluation, a finding or a thread: the members of its two parties, the vendor
and the counterpart (any role). Everyone else gets "not found", for a missing object too."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from clearroom.server.accounts.models import Organisation
from clearroom.server.authz import Actor
from clearroom.server.collaboration.models import Evaluation, ReviewFinding, Thread
from clearroom.server.errors import NotFound

_COUNTERPART = {Evaluation: "evaluator", ReviewFinding: "raised_by", Thread: "counterpart"}
_VENDOR = {
    Evaluation: "release__product__vendor",
    ReviewFinding: "release__product__vendor",
    Thread: "product__vendor",
}
_MODELS: dict[str, Any] = {"evaluation": Evaluation, "finding": ReviewFinding, "thread": Thread}


def visible(actor: Actor, model: Any) -> QuerySet[Any]:
    """The objects of ``model`` whose parties include one of the actor's organisations."""
    member_of = list(actor.memberships())
    parties = Q(**{f"{_VENDOR[model]}_id__in": member_of}) | Q(
        **{f"{_COUNTERPART[model]}_id__in": member_of}
    )
    return model.objects.filter(parties) if member_of else model.objects.none()


def get(actor: Actor, kind: str, ref: str) -> Any:
    model = _MODELS[kind]
    missing = NotFound(f"{kind} {ref} does not exist or is not visible to you")
    try:
        key = uuid.UUID(ref)
    except ValueError:
        raise missing from None
    related = "release__product__vendor" if model is not Thread else "product__vendor"
    found = visible(actor, model).select_related(related).filter(ref=key).first()
    if found is None:
        raise missing
    return found


def counterpart(obj: Any) -> Organisation:
    return getattr(obj, _COUNTERPART[type(obj)])
