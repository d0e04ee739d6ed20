from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import path, re_path
from django.views.static import serve as serve_media
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
    # Every middleware we use is async-capable, so under ASGI a request crosses from the
    # event loop to a thread once; a sync-only static middleware would add two more hops
    # to every API call. Static files go through this view instead.
    re_path(r"^static/(?P<path>.+)$", serve_static, {"insecure": True}),
]
if settings.LINLI_SERVE_MEDIA:
    # Uploaded images on the local disk (embedded mode). With S3-compatible storage the
    # storage backend hands out its own URLs and this route is off.
    urlpatterns.append(re_path(r"^media/(?P<path>.+)$", serve_media, {"document_root": settings.MEDIA_ROOT}))
