from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as serve_static
from django.urls import include, path, re_path
from django.views.static import serve as serve_media
from ninja.openapi.views import openapi_view

from linli.core.views import healthz, home
from linli.payments.views import sandbox_pay_page

from .api import api

urlpatterns = [
    # The landing page with links for integrators moved to /about: / is the consumer H5.
    path("about", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("api/v1/", api.urls),
    path("api/docs", lambda request: openapi_view(request, api), name="api-docs"),
    path("pay/sandbox/<str:trade_no>", sandbox_pay_page, name="sandbox-pay"),
    path("ops/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),  # set_language: the language switch
    path("", include("linli.web.urls")),  # consumer H5 /, merchant console /m/, rider app /r/
    # Every middleware we use is async-capable, so under ASGI a request crosses from the
    # event loop to a thread once; a sync-only static middleware would add two more hops
    # to every API call. Static files go through this view instead.
    re_path(r"^static/(?P<path>.+)$", serve_static, {"insecure": True}),
]
if settings.LINLI_SERVE_MEDIA:
    # Uploaded images on the local disk (embedded mode). With S3-compatible storage the
    # storage backend hands out its own URLs and this route is off.
    # Only public images: licences and ID cards of merchant applications are never served.
    urlpatterns.append(re_path(r"^media/(?P<path>(?:stores|products|banners)/[^\x00]+)$", serve_media,
                               {"document_root": settings.MEDIA_ROOT}))
