"""Merchant console, promotions (`/m/promotions`): the current store's promotions and its
store-scoped coupon templates; a tiered 满减 promotion and a merchant-funded store coupon
are created here, and each can be paused and resumed.

Marketing has no write service for merchants yet, so the page builds the model instances
and validates them with the very `clean()` the back office uses (`full_clean()`): the terms
rules live in `marketing.models` / `marketing.rules` only. The scope is always the current
store and the funding always the merchant. Writes need `store.edit` (owner, manager); a
cashier sees the page read-only and gets 403 on a post. Every change is written to Django's
admin log (actor and time), where the back office's changes of the same rows are."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from linli.marketing import rules
from linli.marketing.errors import CouponTemplateNotFound
from linli.marketing.models import Coupon, CouponTemplate, Funding, Promotion
from linli.merchants import roles
from linli.merchants.catalog_rules import yuan_to_fen
from linli.merchants.models import Store
from linli.merchants.selectors import StoreNotFound

from .common import error_context, merchant_required, refused, status_of
from .views_merchant import console_frame

BASE = "web/merchant/base.html"
PAGE = "web/merchant/promotions.html"
MAX_DAYS = 365


class PromotionNotFound(NotFound):
    code = "promotion_not_found"
    message = gettext_lazy("No such promotion at this store.")


class InvalidPromotionTerms(InvalidInput):
    """The form's terms were refused (by the form's parsing or by the model's `clean()`);
    the messages are shown next to their fields."""

    code = "invalid_promotion_terms"
    message = gettext_lazy("Check the highlighted fields.")


# --- form values -----------------------------------------------------------------------------

def tiers_from_text(text: str) -> list[list[int]]:
    """"30-5, 50-10" (yuan) -> [[3000, 500], [5000, 1000]], exactly in fen. ValueError when a
    tier is not "threshold-amount" with at most two decimals; the order and the amounts are
    judged by `Promotion.clean` (the back office's rule), not here."""
    tiers = []
    for part in text.replace("，", ",").split(","):
        if not part.strip():
            continue
        threshold, sep, amount = part.partition("-")
        if not sep:
            raise ValueError(part)
        tiers.append([yuan_to_fen(threshold), yuan_to_fen(amount)])
    return tiers


def _whole(text: str, *, blank: int | None = None) -> int | None:
    text = text.strip()
    if not text and blank is not None:
        return blank
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    return int(text)


def _messages_of(exc: ValidationError, fields: dict[str, str]) -> dict[str, str]:
    """{form field: message} from a model's ValidationError; the rest goes to `form` (shown
    above the forms)."""
    errors: dict[str, str] = {}
    for field, problems in exc.message_dict.items():
        name = fields.get(field, "form")
        errors[name] = " ".join(filter(None, (errors.get(name), *problems)))
    return errors


def _saved(instance: models.Model, fields: dict[str, str]) -> None:
    """`full_clean()` then save, the back office's validation; refusals as one domain error."""
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise InvalidPromotionTerms(errors=_messages_of(exc, fields)) from None
    instance.save()


def _log(request: HttpRequest, instance: models.Model, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(user_id=request.user.pk, queryset=[instance], action_flag=flag,
                                 change_message=message, single_object=True)


# --- reading ------------------------------------------------------------------------------------

def _promotion_row(promotion: Promotion, now: Any) -> Promotion:
    promotion.terms = " / ".join(rules.tier_label(t) for t in promotion.tier_list()) \
        if promotion.kind == Promotion.Kind.TIERED else ""  # type: ignore[attr-defined]
    promotion.running = (promotion.is_active  # type: ignore[attr-defined]
                         and promotion.starts_at <= now < promotion.ends_at)
    return promotion


def _template_row(template: CouponTemplate) -> CouponTemplate:
    template.terms = rules.tier_label(rules.Tier(template.threshold_fen, template.amount_fen)) \
        if template.threshold_fen else _("%(amount)s yuan off, no threshold") % {  # type: ignore[attr-defined]
            "amount": rules.yuan(template.amount_fen)}
    return template


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    frame = console_frame(request, "promotions")
    store: Store = frame["store"]
    now = timezone.now()
    promotions = [_promotion_row(p, now) for p in
                  Promotion.objects.filter(store=store).order_by("-is_active", "-ends_at", "-pk")]
    templates = [_template_row(t) for t in
                 CouponTemplate.objects.filter(scope=CouponTemplate.Scope.STORE, store=store)
                 .annotate(used_total=Count("coupons", filter=Q(coupons__status=Coupon.Status.USED)))
                 .order_by("-is_active", "-pk")]
    may_edit = roles.allows(frame["role"], roles.STORE_EDIT)
    context = {**frame, "promotions": promotions, "templates": templates, "may_edit": may_edit,
               "error": None, "promo_form": {"days": "30"}, "promo_errors": {},
               "coupon_form": {"days": "7", "per_user": "1"}, "coupon_errors": {}}
    context.update(extra)
    return context


def _page_error(request: HttpRequest, exc: DomainError, **extra: Any) -> HttpResponse:
    error = error_context(exc)
    return render(request, PAGE, _context(request, error=error, **extra), status=status_of(error))


@merchant_required
@require_GET
def promotions_page(request: HttpRequest) -> HttpResponse:
    try:
        context = _context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=BASE)
    return render(request, PAGE, context)


# --- writes -----------------------------------------------------------------------------------

def _store_for_writes(request: HttpRequest) -> Store:
    """The current store, when the member's role may manage its promotions."""
    frame = console_frame(request, "promotions")
    if not roles.allows(frame["role"], roles.STORE_EDIT):
        raise PermissionDenied(permission="promotions.manage")
    store: Store = frame["store"]
    return store


def _writer(view: Any) -> Any:
    """Refuses before anything is read from the form: no store (404), a cashier (403)."""
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            store = _store_for_writes(request)
        except DomainError as exc:
            return refused(request, exc, base=BASE)
        return view(request, store, *args, **kwargs)
    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return merchant_required(require_POST(wrapper))


PROMOTION_FIELDS = {"tiers": "tiers", "name": "name", "ends_at": "days", "starts_at": "days"}
TEMPLATE_FIELDS = {"amount_fen": "amount", "threshold_fen": "threshold", "valid_days": "days",
                   "total_quota": "quota", "per_user_limit": "per_user", "name": "name",
                   "__all__": "threshold"}  # the amount/threshold terms are refused as a whole


@_writer
def promotion_create(request: HttpRequest, store: Store) -> HttpResponse:
    """A tiered 满减 promotion of the current store, from now for N days, funded by the merchant."""
    form = {key: request.POST.get(key, "").strip() for key in ("tiers", "name", "days")}
    try:
        with transaction.atomic():
            errors: dict[str, str] = {}
            try:
                tiers = tiers_from_text(form["tiers"])
            except ValueError:
                tiers = []
                errors["tiers"] = _('Write the tiers in yuan as "threshold-amount", separated by commas, '
                                    'e.g. "30-5, 50-10".')
            try:
                days = _whole(form["days"])
                if days is None or not 1 <= days <= MAX_DAYS:
                    raise ValueError(form["days"])
            except ValueError:
                days = 1
                errors["days"] = _("Give a number of days from 1 to %(max)s.") % {"max": MAX_DAYS}
            if errors:
                raise InvalidPromotionTerms(errors=errors)
            now = timezone.now()
            label = form["name"] or " / ".join(rules.tier_label(rules.Tier(t, a)) for t, a in tiers)[:40]
            promotion = Promotion(store=store, kind=Promotion.Kind.TIERED, name=label, tiers=tiers,
                                  starts_at=now, ends_at=now + timedelta(days=days),
                                  funded_by=Funding.MERCHANT)
            _saved(promotion, PROMOTION_FIELDS)
            _log(request, promotion, ADDITION, "merchant console: created")
    except InvalidPromotionTerms as exc:
        return _page_error(request, exc, promo_form=form, promo_errors=exc.details["errors"])
    messages.success(request, _("Promotion created: %(name)s") % {"name": promotion.name})
    return redirect("/m/promotions")


@_writer
def coupon_create(request: HttpRequest, store: Store) -> HttpResponse:
    """A 满减 coupon of the current store only, funded by the merchant, valid N days after claim."""
    form = {key: request.POST.get(key, "").strip()
            for key in ("amount", "threshold", "days", "quota", "per_user")}
    try:
        with transaction.atomic():
            errors: dict[str, str] = {}
            values: dict[str, Any] = {}
            for field, parse, message in (
                    ("amount", lambda t: yuan_to_fen(t), _("Enter an amount in yuan, at most two decimals.")),
                    ("threshold", lambda t: yuan_to_fen(t) if t else 0,
                     _("Enter a threshold in yuan (0 or empty = no threshold), at most two decimals.")),
                    ("days", lambda t: _whole(t), _("Give a whole number of days.")),
                    ("quota", lambda t: _whole(t), _("Give a whole number (empty = unlimited).")),
                    ("per_user", lambda t: _whole(t, blank=1), _("Give a whole number."))):
                try:
                    values[field] = parse(form[field])
                except ValueError:
                    errors[field] = message
            if not errors and values["days"] is None:
                errors["days"] = _("Give a whole number of days.")
            if errors:
                raise InvalidPromotionTerms(errors=errors)
            amount, threshold = values["amount"], values["threshold"]
            label = rules.tier_label(rules.Tier(threshold, amount)) if threshold else \
                _("%(amount)s yuan off, no threshold") % {"amount": rules.yuan(amount)}
            template = CouponTemplate(
                name=label[:40], kind=CouponTemplate.Kind.AMOUNT_OFF, amount_fen=amount, threshold_fen=threshold,
                scope=CouponTemplate.Scope.STORE, store=store, funded_by=Funding.MERCHANT,
                valid_days=values["days"], total_quota=values["quota"], per_user_limit=values["per_user"])
            _saved(template, TEMPLATE_FIELDS)
            _log(request, template, ADDITION, "merchant console: created")
    except InvalidPromotionTerms as exc:
        return _page_error(request, exc, coupon_form=form, coupon_errors=exc.details["errors"])
    messages.success(request, _("Coupon created: %(name)s") % {"name": template.name})
    return redirect("/m/promotions")


def _switched(request: HttpRequest, instance: Promotion | CouponTemplate, active: bool) -> HttpResponse:
    """Pause or resume; a resume is validated again (a promotion may now overlap another)."""
    instance.is_active = active
    try:
        with transaction.atomic():
            _saved(instance, {})
            _log(request, instance, CHANGE, "merchant console: " + ("resumed" if active else "paused"))
    except InvalidPromotionTerms as exc:
        return _page_error(request, exc, promo_errors=exc.details["errors"])
    messages.success(request, (_("Resumed: %(name)s") if active else _("Paused: %(name)s"))
                     % {"name": instance.name})
    return redirect("/m/promotions")


@_writer
def promotion_switch(request: HttpRequest, store: Store, promotion_id: str, action: str) -> HttpResponse:
    promotion = Promotion.objects.filter(public_id=promotion_id, store=store).first()
    if promotion is None or action not in ("pause", "resume"):
        return _page_error(request, PromotionNotFound(promotion_id=promotion_id))
    return _switched(request, promotion, action == "resume")


@_writer
def coupon_switch(request: HttpRequest, store: Store, template_id: str, action: str) -> HttpResponse:
    template = CouponTemplate.objects.filter(public_id=template_id, store=store,
                                             scope=CouponTemplate.Scope.STORE).first()
    if template is None or action not in ("pause", "resume"):
        return _page_error(request, CouponTemplateNotFound(template_id=template_id))
    return _switched(request, template, action == "resume")


# Spliced into web/urls.py's patterns (`*merchant_promotions.urlpatterns`).
urlpatterns = [
    path("m/promotions", promotions_page, name="web-merchant-promotions"),
    path("m/promotions/new", promotion_create, name="web-merchant-promotion-add"),
    path("m/promotions/coupons/new", coupon_create, name="web-merchant-coupon-add"),
    path("m/promotions/coupons/<str:template_id>/<str:action>", coupon_switch, name="web-merchant-coupon-switch"),
    path("m/promotions/<str:promotion_id>/<str:action>", promotion_switch, name="web-merchant-promotion-switch"),
]
