"""The sandbox gateway's hosted pay page (stands in for the cashier page of Alipay/WeChat)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from .gateways.sandbox import sandbox_trade_pay
from .models import SandboxTrade


@require_http_methods(["GET", "POST"])
def sandbox_pay_page(request: HttpRequest, trade_no: str) -> HttpResponse:
    trade = SandboxTrade.objects.filter(trade_no=trade_no).first()
    if trade is None:
        raise Http404
    # Where the merchant's page wants the buyer back after paying (a local path only).
    return_to = request.GET.get("return_to", "")
    if not url_has_allowed_host_and_scheme(return_to, allowed_hosts=set()) or not return_to.startswith("/"):
        return_to = ""
    if request.method == "POST" and trade.status == SandboxTrade.Status.WAIT_PAY:
        sandbox_trade_pay(trade_no=trade_no)
        return redirect(return_to) if return_to else redirect("sandbox-pay", trade_no=trade_no)
    return render(request, "payments/sandbox_pay.html", {
        "trade": trade, "amount_yuan": f"{trade.amount_fen / 100:.2f}", "return_to": return_to,
    })
