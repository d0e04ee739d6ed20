"""Group-buy vouchers (团购券) on the web. Consumer: a deal's page with Buy (an order paid at
the usual cashier `/orders/<id>/pay`), `/me/vouchers` with each code as a QR code. Merchant
console `/m/vouchers`: type or scan a code, see the voucher, redeem N uses (核销), today's
redemptions; owner and manager create, pause and resume deals. Every write is one
`marketing.voucher_services` call, so the pages refuse exactly what the API refuses."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from linli.core.errors import DomainError
from linli.core.qrcode import qr_svg as _qr_svg
from linli.marketing import voucher_selectors as selectors
from linli.marketing import voucher_services as services
from linli.marketing.voucher_models import Voucher
from linli.merchants import roles
from linli.merchants.catalog_rules import yuan_to_fen
from linli.merchants.selectors import StoreNotFound

from .common import consumer_required, error_context, merchant_required, refused, status_of
from .views_merchant import console_frame

MERCHANT_BASE = "web/merchant/base.html"
CONSOLE = "web/merchant/vouchers.html"


def qr_svg(code: str, *, label: str) -> str:
    return mark_safe(_qr_svg(code, scale=5, nl=False, svgclass="qr voucher-qr", title=label))  # noqa: S308 (segno output)


# --- consumer -------------------------------------------------------------------------------------

def _deal_context(deal: Any, **extra: Any) -> dict[str, Any]:
    return {"deal": deal, "saving_fen": deal.worth_fen - deal.price_fen, "buy_key": secrets.token_hex(12),
            "quantities": range(1, services.MAX_BUY + 1), "error": None, **extra}


@require_GET
def deal_page(request: HttpRequest, deal_id: str) -> HttpResponse:
    try:
        deal = selectors.deal_get(deal_id=deal_id)
    except DomainError as exc:
        return refused(request, exc, base="web/consumer/base.html")
    problem = services.deal_on_sale_problem(deal, timezone.now())
    return render(request, "web/consumer/deal.html",
                  _deal_context(deal, not_on_sale=error_context(problem) if problem else None))


@consumer_required
@require_POST
def deal_buy(request: HttpRequest, deal_id: str) -> HttpResponse:
    """Buy → the order's cashier. The page's key makes a double tap one order."""
    try:
        quantity = int(request.POST.get("quantity", "1"))
    except ValueError:
        quantity = 0
    try:
        placed = services.voucher_buy(consumer=request.user, deal_id=deal_id, quantity=quantity,  # type: ignore[arg-type]
                                      idempotency_key=request.POST.get("key", ""))
    except DomainError as exc:
        try:
            deal = selectors.deal_get(deal_id=deal_id)
        except DomainError:
            return refused(request, exc, base="web/consumer/base.html")
        error = error_context(exc)
        return render(request, "web/consumer/deal.html", _deal_context(deal, error=error, not_on_sale=None),
                      status=status_of(error))
    return redirect(f"/orders/{placed.order.public_id}/pay")


@consumer_required
@require_GET
def my_vouchers(request: HttpRequest) -> HttpResponse:
    vouchers = selectors.vouchers_of(user=request.user)  # type: ignore[arg-type]
    for v in vouchers:
        v.digits = services.code_display(v.code)  # type: ignore[attr-defined]
        v.qr = qr_svg(v.code, label=_("Voucher code")) if v.status == Voucher.Status.ACTIVE else ""  # type: ignore[attr-defined]
    active = [v for v in vouchers if v.status == Voucher.Status.ACTIVE]
    ended = [v for v in vouchers if v.status != Voucher.Status.ACTIVE]
    return render(request, "web/consumer/vouchers.html", {"active": active, "ended": ended})


@consumer_required
@require_POST
def voucher_refund(request: HttpRequest, voucher_id: str) -> HttpResponse:
    try:
        voucher = services.voucher_refund(consumer=request.user, voucher_id=voucher_id)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base="web/consumer/base.html")
    messages.success(request, _("Refunded ¥%(amount)s: it goes back the way you paid.")
                     % {"amount": f"{voucher.refunded_fen / 100:.2f}"})
    return redirect("/me/vouchers")


# --- merchant console -----------------------------------------------------------------------------

def _console(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    frame = console_frame(request, "vouchers")
    store = frame["store"]
    _store, today = selectors.redemptions_of_store(actor=request.user, store_id=store.public_id)  # type: ignore[arg-type]
    context = {**frame, "may_edit": roles.allows(frame["role"], roles.STORE_EDIT),
               "deals": selectors.deals_of_store(store=store, include_paused=True), "today": list(today),
               "voucher": None, "refusal": None, "code": "", "redeem_key": secrets.token_hex(12),
               "error": None, "deal_form": {"uses": "1", "days": "30"}, "deal_errors": {}}
    context.update(extra)
    return context


def _console_error(request: HttpRequest, exc: DomainError, **extra: Any) -> HttpResponse:
    error = error_context(exc)
    return render(request, CONSOLE, _console(request, error=error, **extra), status=status_of(error))


@merchant_required
@require_GET
def console_page(request: HttpRequest) -> HttpResponse:
    """`?code=` shows that voucher (deal, uses left, expiry, whether it can be redeemed here)."""
    try:
        context = _console(request)
    except StoreNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    code = request.GET.get("code", "").strip()[:40]
    if code:
        try:
            store, voucher = selectors.voucher_for_counter(actor=request.user, store_id=context["store"].public_id,  # type: ignore[arg-type]
                                                           code=code)
        except DomainError as exc:
            return _console_error(request, exc, code=code)
        refusal = services.voucher_refusal(voucher, store=store, uses=1, now=timezone.now())
        voucher.digits = services.code_display(voucher.code)  # type: ignore[attr-defined]
        context.update(code=code, voucher=voucher, refusal=error_context(refusal) if refusal else None,
                       uses_choices=range(1, voucher.uses_left + 1))
    return render(request, CONSOLE, context)


@merchant_required
@require_POST
def console_redeem(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("code", "").strip()[:40]
    try:
        store = console_frame(request, "vouchers")["store"]
        uses = int(request.POST.get("uses", "1")) if request.POST.get("uses", "1").isdigit() else 0
        done = services.voucher_redeem(actor=request.user, store_id=store.public_id, code=code, uses=uses,  # type: ignore[arg-type]
                                       counter="console", key=request.POST.get("key", ""), source="console")
    except StoreNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    except DomainError as exc:
        return _console_error(request, exc, code=code)
    r = done.redemption
    messages.success(request, _("Redeemed %(uses)s use(s) of %(title)s; %(left)s left.")
                     % {"uses": r.uses, "title": r.voucher.deal.title, "left": r.voucher.uses_left})
    return redirect("/m/vouchers")


def _whole(text: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()):
        raise ValueError(text)
    return int(text)


DEAL_FIELDS = {"title": "title", "price_fen": "price", "worth_fen": "worth", "uses_per_voucher": "uses",
               "valid_days": "days", "total_quota": "quota", "per_user_limit": "per_user"}


@merchant_required
@require_POST
def console_deal_create(request: HttpRequest) -> HttpResponse:
    form = {k: request.POST.get(k, "").strip() for k in
            ("title", "description", "price", "worth", "uses", "days", "quota", "per_user")}
    form["refund_anytime"] = "on" if request.POST.get("refund_anytime") else ""
    form["refund_on_expiry"] = "on" if request.POST.get("refund_on_expiry") else ""
    try:
        store = console_frame(request, "vouchers")["store"]
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}
        for field, parse in (("price", yuan_to_fen), ("worth", yuan_to_fen), ("uses", _whole), ("days", _whole),
                             ("quota", _whole), ("per_user", _whole)):
            try:
                values[field] = parse(form[field])
            except ValueError:
                errors[field] = _("Enter an amount in yuan, at most two decimals.") if field in ("price", "worth") \
                    else _("Give a whole number.")
        if errors:
            return _console_error(request, services.errors.VoucherDealInvalid(), deal_form=form, deal_errors=errors)
        deal = services.deal_create(actor=request.user, store_id=store.public_id, spec=services.DealSpec(  # type: ignore[arg-type]
            title=form["title"], description=form["description"], price_fen=values["price"],
            worth_fen=values["worth"], uses_per_voucher=values["uses"] or 1, valid_days=values["days"],
            refund_anytime=bool(form["refund_anytime"]), refund_unused_on_expiry=bool(form["refund_on_expiry"]),
            total_quota=values["quota"], per_user_limit=values["per_user"]))
    except StoreNotFound as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    except DomainError as exc:
        field = DEAL_FIELDS.get(str(exc.details.get("field", "")), "form")
        return _console_error(request, exc, deal_form=form, deal_errors={field: str(exc.message)})
    messages.success(request, _("Deal on sale: %(title)s") % {"title": deal.title})
    return redirect("/m/vouchers")


@merchant_required
@require_POST
def console_deal_act(request: HttpRequest, deal_id: str, action: str) -> HttpResponse:
    try:
        deal = services.deal_act(actor=request.user, deal_id=deal_id, action=action)  # type: ignore[arg-type]
    except DomainError as exc:
        return refused(request, exc, base=MERCHANT_BASE)
    messages.success(request, _("%(title)s: %(status)s") % {"title": deal.title, "status": deal.get_status_display()})
    return redirect("/m/vouchers")


# Appended to web/urls.py's patterns.
urlpatterns = [
    path("deals/<str:deal_id>", deal_page, name="web-deal"),
    path("deals/<str:deal_id>/buy", deal_buy, name="web-deal-buy"),
    path("me/vouchers", my_vouchers, name="web-my-vouchers"),
    path("me/vouchers/<str:voucher_id>/refund", voucher_refund, name="web-voucher-refund"),
    path("m/vouchers", console_page, name="web-merchant-vouchers"),
    path("m/vouchers/redeem", console_redeem, name="web-merchant-voucher-redeem"),
    path("m/vouchers/deals/new", console_deal_create, name="web-merchant-deal-add"),
    path("m/vouchers/deals/<str:deal_id>/<str:action>", console_deal_act, name="web-merchant-deal-act"),
]
