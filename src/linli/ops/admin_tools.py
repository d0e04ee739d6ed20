"""Pieces every app's admin.py shares in the back office.

- `PublicIdAdmin`: models with a `public_id` are linked and opened by it
  (`/ops/orders/order/ord_.../change/`); integer keys still resolve, for old bookmarks.
- `ReadOnlyInline`: history and evidence rows, shown and never edited.
- `PublicIdInputFilter`: a list filter where the operator pastes a public id (a store's,
  say) instead of scrolling a list of 100,000 stores.
- `admin_link` and `money`: how related objects and amounts are shown.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.admin.views.main import ChangeList
from django.db import models
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .charts import yuan


def money(amount_fen: int | None) -> str:
    return "" if amount_fen is None else yuan(amount_fen)


def change_url(obj: models.Model, site_name: str = "admin") -> str | None:
    """The back-office page of `obj`, by public id when it has one; None if not registered."""
    meta = obj._meta
    # Public ids are URL-safe as they are (and admin's quote() would turn "_" into "_5F").
    key = getattr(obj, "public_id", None) or quote(obj.pk)
    try:
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=(key,),
                       current_app=site_name)
    except NoReverseMatch:
        return None


def object_label(obj: models.Model) -> str:
    """`name · public_id`, or just the public id when the model has no name of its own."""
    text = str(obj)
    public_id = getattr(obj, "public_id", "")
    if text == f"{obj._meta.object_name} object ({obj.pk})":
        return public_id or text
    return f"{text} · {public_id}" if public_id and public_id != text else text


def admin_link(obj: models.Model | None, text: Any = None) -> str:
    """`name · public_id` linked to its page (by public id): what operators read and copy."""
    if obj is None:
        return "-"
    public_id = getattr(obj, "public_id", "")
    label = text if text is not None else str(obj)
    url = change_url(obj)
    if public_id and str(label) != public_id:
        body = format_html('{} <code class="ops-id">{}</code>', label, public_id)
    else:
        body = format_html('<code class="ops-id">{}</code>', label)
    return format_html('<a href="{}">{}</a>', url, body) if url else body


class PublicIdChangeList(ChangeList):
    def url_for_result(self, result: models.Model) -> str:
        meta = self.opts
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change",
                       args=(result.public_id,), current_app=self.model_admin.admin_site.name)


class PublicIdAdmin(admin.ModelAdmin):
    """For models with a `public_id`: list rows link by it, pages open by it, and it is
    read-only (it is generated)."""

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PublicIdChangeList

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None):  # type: ignore[no-untyped-def]
        if from_field is None and not object_id.isdigit():
            if "\x00" in object_id:
                return None
            return self.get_queryset(request).filter(public_id=object_id).first()
        return super().get_object(request, object_id, from_field)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):  # type: ignore[no-untyped-def]
        fields = list(super().get_readonly_fields(request, obj))
        return fields if "public_id" in fields else ["public_id", *fields]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
        obj = self.get_object(request, object_id) if object_id else None
        if obj is not None:
            label = object_label(obj)
            extra_context = {"subtitle": label, "ops_label": label, **(extra_context or {})}
        return super().change_view(request, object_id, form_url, extra_context)

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None):  # type: ignore[no-untyped-def]
        return super().response_add(request, obj, post_url_continue or change_url(obj, self.admin_site.name))


class ReadOnlyAdminMixin:
    """Model pages that are records, not forms (orders, payments, ledgers, deliveries,
    applications decided through their own buttons): viewable, never added, edited or
    deleted by hand."""

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class ReadOnlyInline(admin.TabularInline):
    """History and uploaded evidence: shown, never added, edited or deleted by hand."""

    extra = 0
    can_delete = False
    show_change_link = False
    template = "ops/readonly_tabular.html"

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class PublicIdInputFilter(admin.SimpleListFilter):
    """A text box in the filter sidebar: rows whose `field` (a related object's public id
    path, e.g. `store__public_id`) equals what the operator pasted."""

    template = "ops/input_filter.html"
    field = ""  # set by subclasses

    def lookups(self, request, model_admin):  # type: ignore[no-untyped-def]
        return (("", ""),)  # the sidebar shows the filter only when it has some lookup

    def queryset(self, request, queryset):  # type: ignore[no-untyped-def]
        value = (self.value() or "").strip()
        if value and "\x00" not in value:
            return queryset.filter(**{self.field: value})
        return queryset

    def choices(self, changelist):  # type: ignore[no-untyped-def]
        """What the template needs: the current value and the other query parameters, to
        keep them as hidden fields."""
        others = []
        for key, values in changelist.get_filters_params().items():
            if key == self.parameter_name:
                continue
            for value in values if isinstance(values, list) else [values]:
                others.append((key, value))
        for key in ("q", "o"):
            if key in changelist.params:
                value = changelist.params[key]
                others.append((key, value[-1] if isinstance(value, list) else value))
        yield {"value": self.value() or "", "others": others, "parameter": self.parameter_name,
               "clear_url": changelist.get_query_string(remove=[self.parameter_name])}


class StoreFilter(PublicIdInputFilter):
    title = _("store (public id)")
    parameter_name = "store"
    field = "store__public_id"


class EventHistoryInline(ReadOnlyInline):
    """The audit trail of a state machine's event rows (`from_status`, `to_status`,
    `actor`, `actor_role`, `created_at`): who, in which role, when, from which status to
    which. Subclasses set `model` and `fields`."""

    verbose_name_plural = _("history")
    classes = ("ops-events",)

    def get_queryset(self, request):  # type: ignore[no-untyped-def]
        return super().get_queryset(request).select_related("actor")

    @admin.display(description=_("from → to"))
    def transition(self, obj: Any) -> str:
        return f"{obj.from_status or '-'} → {obj.to_status}"

    @admin.display(description=_("who"))
    def actor_display(self, obj: Any) -> str:
        return admin_link(obj.actor) if obj.actor else "-"
