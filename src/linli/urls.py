from django.contrib import admin
from django.urls import path
from ninja.openapi.views import openapi_view

from linli.core.views import healthz, home
from linli.payments.views import sandbox_pay_page

from .api import api

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("api/docs", lambda request: openapi_view(request, api), name="api-docs"),
    path("pay/sandbox/<str:trade_no>", sandbox_pay_page, name="sandbox-pay"),
    path("ops/", admin.site.urls),
]
