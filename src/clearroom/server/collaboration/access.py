"""Who sees an evaluation, a finding or a thread: the members of its two parties, the vendor
and the counterpart (any role). Everyone else gets "not found", for a missing object too."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from clearroom.server.accounts.models import Organisation
from clearroom.server.authz import Actor, Permission
from clearroom.server.authz.permissions import RULES
from clearroom.server.collaboration.models import Evaluation, ReviewFinding, Thread
from clearroom.server.errors import NotFound

_COUNTERPART = {Evaluation: "evaluator", ReviewFinding: "raised_by", Thread: "counterpart"}
_VENDOR = {
    Evaluation: "release__product__vendor",
    ReviewFinding: "release__product__vendor",
    Thread: "product__vendor",
}
_PRODUCT = {
    Evaluation: "release__product_id",
    ReviewFinding: "release__product_id",
    Thread: "product_id",
}
_MODELS: dict[str, Any] = {"evaluation": Evaluation, "finding": ReviewFinding, "thread": Thread}


def visible(actor: Actor, model: Any) -> QuerySet[Any]:
    """The objects of ``model`` whose parties include one of the actor's organisations."""
    member_of = list(actor.memberships())
    parties = Q(**{f"{_VENDOR[model]}_id__in": member_of}) | Q(
        **{f"{_COUNTERPART[model]}_id__in": member_of}
    )
    return model.objects.filter(parties) if member_of else model.objects.none()


def readable(actor: Actor, model: Any, permission: Permission) -> QuerySet[Any]:
    """The objects of ``model`` on which the actor holds ``permission``, by that permission's
    rule (``party``: either side; ``organisation``: the vendor; ``counterpart``: the other
    side), its token's scopes and product included: what a list shows is exactly what the
    detail route would allow, never more."""
    sides = {
        "party": (_VENDOR[model], _COUNTERPART[model]),
        "organisation": (_VENDOR[model],),
        "counterpart": (_COUNTERPART[model],),
    }.get(RULES[permission].who)
    if sides is None:
        raise ValueError(f"{permission.value} is not a permission on one party's objects")
    held = actor.organisations_for(permission)
    if not held:
        return model.objects.none()
    parties = Q()
    for side in sides:
        parties |= Q(**{f"{side}_id__in": held})
    found = model.objects.filter(parties)
    product = actor.token_product_id
    return found if product is None else found.filter(**{_PRODUCT[model]: product})


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
