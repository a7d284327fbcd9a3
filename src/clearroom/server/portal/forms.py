"""The portal's forms: create an API token, withdraw a release. They check the shape of the input;
the services decide whether the action is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.db.models import QuerySet

from clearroom.server.accounts.tokens import DEFAULT_LIFETIME, MAX_LIFETIME
from clearroom.server.authz import Permission
from clearroom.server.authz.permissions import RULES
from clearroom.server.catalog.models import Product


class ProductChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.slug})"


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        label="Name",
        help_text="Say where the token is used, for example “release pipeline”.",
    )
    scopes = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple,
        label="Scopes",
        help_text="What the token may do; only what your role in this organisation allows.",
        error_messages={"required": "Choose at least one scope."},
    )
    product = ProductChoiceField(
        queryset=Product.objects.none(),
        required=False,
        label="Product (optional)",
        empty_label="Every product of the organisation",
        help_text="Narrow the token to one product.",
    )
    lifetime_days = forms.IntegerField(
        min_value=1,
        max_value=MAX_LIFETIME.days,
        initial=DEFAULT_LIFETIME.days,
        label="Lifetime in days",
        help_text=f"The token stops working after this many days (at most {MAX_LIFETIME.days}).",
    )

    def __init__(
        self,
        *args: Any,
        allowed: Iterable[Permission],
        products: QuerySet[Product],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        granted = set(allowed)
        self.scope_help = [(p.value, RULES[p].summary) for p in Permission if p in granted]
        self.fields["scopes"].choices = [(p, p) for p, _ in self.scope_help]  # type: ignore[attr-defined]
        self.fields["product"].queryset = products  # type: ignore[attr-defined]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        max_length=2000,
        label="Reason for withdrawal",
        help_text="Shown to everyone beside the release, e.g. the advisory that made it unsafe.",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the release is withdrawn; it is shown to everyone."},
    )
