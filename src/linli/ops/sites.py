"""The back office's AdminSite: Django's admin (its login, `is_staff` gate and model pages)
with a dashboard as the index page and every page in the platform city's time zone."""

from __future__ import annotations

from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.template.response import SimpleTemplateResponse, TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.core.ratelimit import (
    LoginLocked,
    client_address,
    login_check,
    login_failed,
    login_succeeded,
)

from . import charts, selectors

BRAND = "邻里 Linli 运营后台"  # the platform's name, the same in every language


class OpsSite(admin.AdminSite):
    site_header = BRAND
    site_title = BRAND
    index_title = _("Dashboard")
    site_url = "/"  # "view site": the consumer H5
    enable_nav_sidebar = False  # the dashboard lists the models; tables get the whole width

    def each_context(self, request: HttpRequest) -> dict[str, Any]:
        context = super().each_context(request)
        # Other apps may set admin.site's titles at start-up; the brand wins.
        context.update(site_header=BRAND, site_title=BRAND)
        return context

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """The back office's login, under the same lockout as every password login
        (core.ratelimit): a failed form counts, a success clears, a locked pair gets 429."""
        if request.method != "POST":
            return super().login(request, extra_context)
        login, address = request.POST.get("username", ""), client_address(request)
        try:
            login_check(login, address)
        except LoginLocked as exc:
            return HttpResponse(str(exc.message), status=429, content_type="text/plain; charset=utf-8")
        response = super().login(request, extra_context)
        if response.status_code in (301, 302):
            login_succeeded(login, address)
        else:
            login_failed(login, address)
        return response

    def admin_view(self, view, cacheable=False):  # type: ignore[no-untyped-def]
        """Operators read times in the city's time zone: dates in lists, filters ("today")
        and the date hierarchy are all local. The response is rendered inside the override
        (template responses otherwise render after the view has returned)."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def in_city_time(request, *args, **kwargs):  # type: ignore[no-untyped-def]
            with timezone.override(settings.LINLI_DEFAULT_CITY_TZ):
                response = inner(request, *args, **kwargs)
                if isinstance(response, SimpleTemplateResponse) and not response.is_rendered:
                    response.render()
            return response

        return in_city_time

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> TemplateResponse:
        board = selectors.dashboard()
        queue_url = reverse("admin:merchants_merchantapplication_changelist", current_app=self.name)
        context = {
            "title": self.index_title,  # (linli.core sets admin.site.index_title at start-up)
            "board": board,
            "gmv": charts.yuan(board.gmv_fen),
            "hour_chart": charts.hour_chart([p.orders for p in board.per_hour],
                                            [p.gmv_fen for p in board.per_hour],
                                            until=timezone.localtime(timezone=selectors.city_zone()).hour),
            "day_chart": charts.day_chart([(p.day, p.orders, p.gmv_fen) for p in board.days]),
            "days": [{"day": p.day, "orders": p.orders, "paid_orders": p.paid_orders,
                      "gmv": charts.yuan(p.gmv_fen)} for p in reversed(board.days)],
            "queue_url": f"{queue_url}?status__exact=submitted",
            "orders_url": reverse("admin:orders_order_changelist", current_app=self.name),
            "riders_url": reverse("admin:delivery_rider_changelist", current_app=self.name)
            + "?is_online__exact=1",
            "users_url": reverse("admin:accounts_user_changelist", current_app=self.name),
            **(extra_context or {}),
        }
        return super().index(request, context)
