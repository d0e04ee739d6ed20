"""The sandbox gateway's hosted pay page (stands in for the cashier page of Alipay/WeChat)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from .gateways.sandbox import sandbox_trade_pay
from .models import SandboxTrade


@require_http_methods(["GET", "POST"])
def sandbox_pay_page(request: HttpRequest, trade_no: str) -> HttpResponse:
    trade = SandboxTrade.objects.filter(trade_no=trade_no).first()
    if trade is None:
        raise Http404
    if request.method == "POST" and trade.status == SandboxTrade.Status.WAIT_PAY:
        sandbox_trade_pay(trade_no=trade_no)
        return redirect("sandbox-pay", trade_no=trade_no)
    return render(request, "payments/sandbox_pay.html", {
        "trade": trade, "amount_yuan": f"{trade.amount_fen / 100:.2f}",
    })
