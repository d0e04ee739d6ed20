"""Consumer cashier (收银台) and wallet (储值) pages.

Thin views over `linli.payments.services`: the cashier opens the order's payment with
the chosen method (wallet, or a gateway with or without the balance first), the wallet
page tops up, lists the history and withdraws principal. A DomainError is shown in the
page with its code and HTTP status; nothing is half done (the services are atomic).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.errors import DomainError
from linli.core.security import client_ip
from linli.orders.models import Order
from linli.payments import money, services
from linli.payments.gateways import available_providers
from linli.payments.gateways.support import yuan_to_fen
from linli.payments.models import Payment, TopupBonusRule, WalletTopup

from .common import consumer_required, error_context, status_of
from .views_consumer import _own_order

PROVIDER_NAMES = {"alipay": _("Alipay"), "wechatpay": _("WeChat Pay"), "sandbox": _("Sandbox pay")}
PROVIDER_ORDER = ("alipay", "wechatpay", "sandbox")  # the real wallets first, as buyers expect
CHANNELS = ("h5", "qr")
ENTRY_LABELS = {
    "topup": _("Top-up"), "wallet_pay": _("Order payment"), "wallet_hold": _("Held for a payment"),
    "wallet_release": _("Hold released"), "refund": _("Refund"),
    "refund_requested": _("Withdrawal"), "refund_failed": _("Withdrawal failed, money back"),
    "bonus_forfeit": _("Bonus forfeited"),
}
HISTORY_PAGE = 20
RECENT_TOPUPS_SYNCED = 3


@dataclass(frozen=True)
class Method:
    code: str
    name: Any


def _methods() -> list[Method]:
    offered = set(available_providers())
    return [Method(code, PROVIDER_NAMES.get(code, code)) for code in PROVIDER_ORDER if code in offered]


def parse_yuan(text: str, *, field: str = "amount") -> int:
    """"100", "12.5", "0.01" → fen, exactly; anything else (empty, "abc", "-1", "1e3",
    "12.345") is `invalid_amount`. Zero and the upper bound are the services' to refuse."""
    try:
        return yuan_to_fen(text or "")
    except ValueError as exc:
        raise services.InvalidAmount(field=field, value=text[:20]) from exc


def _return_path(path: str, provider: str, request: HttpRequest) -> str:
    """The sandbox takes a local path (`?return_to=`); real gateways need an absolute URL."""
    return path if provider == "sandbox" else request.build_absolute_uri(path)


def _gateway_redirect(payment: Payment, back_to: str) -> HttpResponse:
    if payment.provider == "sandbox":  # the sandbox's hosted page sends the buyer back itself
        return redirect(f"{payment.pay_url}?{urlencode({'return_to': back_to})}")
    return redirect(payment.pay_url)


# --- the cashier -----------------------------------------------------------------------------

def _cashier_context(request: HttpRequest, order: Order, *, error: dict[str, Any] | None = None,
                     form: dict[str, str] | None = None, payment: Payment | None = None) -> dict[str, Any]:
    balance = services.wallet_balance(request.user)  # type: ignore[arg-type]
    methods = _methods()
    seconds_left = max(int((order.pay_deadline - timezone.now()).total_seconds()), 0)
    chosen = (form or {}).get("method") or ("wallet" if balance.total_fen >= order.total_fen
                                            else methods[0].code if methods else "")
    return {
        "order": order, "balance": balance, "methods": methods, "error": error, "payment": payment,
        "wallet_covers": balance.total_fen >= order.total_fen,
        "rest_fen": max(order.total_fen - balance.total_fen, 0),
        "seconds_left": seconds_left, "minutes_left": seconds_left // 60, "secs_left": seconds_left % 60,
        "chosen": chosen, "use_wallet": (form or {}).get("use_wallet") == "1",
        "qr_url": request.build_absolute_uri(payment.qr_code) if payment and payment.qr_code.startswith("/")
        else (payment.qr_code if payment else ""),
    }


@consumer_required
@require_http_methods(["GET", "POST"])
def cashier(request: HttpRequest, order_id: str) -> HttpResponse:
    """GET: amount, countdown to the pay deadline, wallet and providers. POST `method`
    (wallet | a provider), `use_wallet` (balance first, the rest through the provider),
    `channel` (h5, or qr to show a code to scan): `payments.services.payment_create`."""
    order = _own_order(request, order_id)
    order_page = f"/orders/{order.public_id}"
    if request.method == "GET":
        if order.status == Order.Status.PENDING_PAYMENT and _sync_open_payments(request, order):
            order.refresh_from_db()  # paid at the gateway meanwhile: the query found out
        if order.status != Order.Status.PENDING_PAYMENT:
            return redirect(order_page)
        return render(request, "web/consumer/cashier.html", _cashier_context(request, order))
    if "method" not in request.POST:  # the order page's old "Pay" form: show the choice
        return redirect(f"{order_page}/pay")
    form = {"method": request.POST.get("method", ""), "use_wallet": request.POST.get("use_wallet", ""),
            "channel": request.POST.get("channel", "h5")}
    method = form["method"]
    channel = form["channel"] if form["channel"] in CHANNELS else "h5"
    back_to = f"{order_page}/pay/return"
    try:
        payment = services.payment_create(
            order_id=order.public_id, consumer=request.user,  # type: ignore[arg-type]
            provider=method, use_wallet=method != Payment.WALLET and form["use_wallet"] == "1",
            channel=channel, return_url=_return_path(back_to, method, request),
            client_ip=client_ip(request))
    except DomainError as exc:
        error = error_context(exc)
        return render(request, "web/consumer/cashier.html",
                      _cashier_context(request, _own_order(request, order_id), error=error, form=form),
                      status=status_of(error))
    if payment.status in Payment.PAID_STATES:  # the wallet paid it all
        return redirect(order_page)
    if channel == "qr" and payment.qr_code:
        return render(request, "web/consumer/cashier.html",
                      _cashier_context(request, order, form=form, payment=payment))
    return _gateway_redirect(payment, back_to)


@consumer_required
@require_GET
def pay_return(request: HttpRequest, order_id: str) -> HttpResponse:
    """Where the gateway sends the buyer back: ask the gateway about the order's open
    payments (a verified query, `payment_get`), so a notification that never came does not
    leave the buyer waiting, then show the order."""
    order = _own_order(request, order_id)
    _sync_open_payments(request, order)
    return redirect(f"/orders/{order.public_id}")


def _sync_open_payments(request: HttpRequest, order: Order) -> bool:
    """A verified query (`payment_get`, at most every few seconds per payment) of the
    order's open gateway payments; True if one of them turned out paid."""
    paid = False
    for payment_id in order.payments.filter(status=Payment.Status.PENDING, payer=request.user,
                                            gateway_part__isnull=True).exclude(
            provider=Payment.WALLET).values_list("public_id", flat=True)[:3]:
        payment = services.payment_get(payment_id=payment_id, actor=request.user)  # type: ignore[arg-type]
        paid = paid or payment.status in Payment.PAID_STATES
    return paid


# --- the wallet ------------------------------------------------------------------------------

def active_bonus_rules() -> list[TopupBonusRule]:
    """The top-up bonus rules in force now (the same filter as `services.topup_bonus_for`)."""
    now = timezone.now()
    return list(TopupBonusRule.objects.filter(is_active=True)
                .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
                .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).order_by("threshold_fen"))


def _history(request: HttpRequest) -> tuple[list[dict[str, Any]], int | None]:
    before = request.GET.get("before", "")
    before_id = int(before) if before.isdigit() and len(before) < 19 else None
    rows = services.wallet_entries(user=request.user, limit=HISTORY_PAGE, before_id=before_id)  # type: ignore[arg-type]
    for row in rows:
        row["label"] = ENTRY_LABELS.get(row["kind"], row["kind"])
        row["total_fen"] = row["cash_fen"] + row["bonus_fen"]
    more = rows[-1]["cursor"] if len(rows) == HISTORY_PAGE else None
    return rows, more


def _sync_recent_topups(request: HttpRequest) -> None:
    """Back from the gateway: a verified query of the latest open top-ups."""
    for payment_id in WalletTopup.objects.filter(
            user=request.user, status=WalletTopup.Status.PENDING).order_by("-id").values_list(
            "payment__public_id", flat=True)[:RECENT_TOPUPS_SYNCED]:
        services.payment_get(payment_id=payment_id, actor=request.user)  # type: ignore[arg-type]


def _wallet_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    rows, more = _history(request)
    context = {"balance": services.wallet_balance(request.user),  # type: ignore[arg-type]
               "rules": active_bonus_rules(), "methods": _methods(), "rows": rows, "more": more,
               "error": None, "form": {}, "confirm": None, "notice": "",
               "max_topup_fen": services.MAX_TOPUP_FEN, "city_tz": settings.LINLI_DEFAULT_CITY_TZ}
    context.update(extra)
    return context


def _wallet_page(request: HttpRequest, **extra: Any) -> HttpResponse:
    context = _wallet_context(request, **extra)
    return render(request, "web/consumer/wallet.html", context, status=status_of(context["error"]))


@consumer_required
@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    if request.GET.get("from") == "topup":
        _sync_recent_topups(request)
    notice = ""
    if request.GET.get("withdrawn"):
        notice = _("Withdrawal requested: the money goes back the way you topped up.")
    return _wallet_page(request, notice=notice)


@consumer_required
@require_POST
def wallet_topup(request: HttpRequest) -> HttpResponse:
    """`amount` in yuan (a rule's button or the custom field) and `provider`:
    `services.topup_create`, then the gateway's page, which comes back to the wallet."""
    form = {"amount": (request.POST.get("amount") or request.POST.get("custom_amount") or "").strip(),
            "provider": request.POST.get("provider", "sandbox")}
    back_to = "/me/wallet?from=topup"
    try:
        topup = services.topup_create(
            user=request.user, amount_fen=parse_yuan(form["amount"]),  # type: ignore[arg-type]
            provider=form["provider"], channel="h5",
            return_url=_return_path(back_to, form["provider"], request),
            client_ip=client_ip(request))
    except DomainError as exc:
        return _wallet_page(request, error=error_context(exc), form=form)
    return _gateway_redirect(topup.payment, back_to)


@consumer_required
@require_POST
def wallet_withdraw(request: HttpRequest) -> HttpResponse:
    """Two steps: the amount (yuan) → a confirmation stating the bonus forfeited
    (`money.withdrawal_forfeit`) with a one-time token → `services.withdrawal_create`.
    The token is spent atomically in the cache, so a double submit withdraws once."""
    form = {"withdraw_amount": request.POST.get("amount", "").strip()}
    try:
        amount_fen = parse_yuan(form["withdraw_amount"])
        if request.POST.get("step") != "confirm":
            balance = services.wallet_balance(request.user)  # type: ignore[arg-type]
            if amount_fen <= 0 or amount_fen > services.MAX_WALLET_FEN:
                raise services.InvalidAmount(field="amount", maximum=services.MAX_WALLET_FEN)
            if amount_fen > balance.cash_fen:
                raise services.InsufficientBalance(balance_fen=balance.cash_fen, needed_fen=amount_fen)
            forfeit = money.withdrawal_forfeit(amount_fen, cash_fen=balance.cash_fen,
                                               bonus_fen=balance.bonus_fen)
            token = secrets.token_urlsafe(18)
            return _wallet_page(request, form=form, confirm={
                "amount_fen": amount_fen, "forfeit_fen": forfeit, "token": token})
        token = request.POST.get("token", "")
        if not (8 <= len(token) <= 64) or not cache.add(f"web:withdraw:{token}", 1, timeout=24 * 3600):
            return redirect("/me/wallet")  # already done (double submit) or not from our page
        withdrawal = services.withdrawal_create(user=request.user, amount_fen=amount_fen)  # type: ignore[arg-type]
    except DomainError as exc:
        return _wallet_page(request, error=error_context(exc), form=form)
    return redirect(f"/me/wallet?withdrawn={withdrawal.public_id}")
