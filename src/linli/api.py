"""Assembles the Ninja routers under /api/v1 and maps every error to one JSON shape:
`{"code": "...", "message": "...", "details": {...}}` with a 4xx status."""

from __future__ import annotations

from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi.schema import OpenAPISchema

from linli.accounts.api import router as accounts_router
from linli.core.errors import DomainError
from linli.core.openapi_file import read_prebuilt
from linli.delivery.api import router as delivery_router
from linli.discovery.api import router as discovery_router
from linli.merchants.api_catalog import router as catalog_router
from linli.orders.api import router as orders_router
from linli.payments.api import router as payments_router


class ErrorOut(Schema):
    """The body of every 4xx/5xx answer (see the handlers below)."""

    code: str
    message: str
    details: dict[str, Any]


# Every operation may answer these: bad JSON, no or expired token, not allowed, no such
# object, a state conflict, invalid input, a rate limit. Declared once here rather than on
# each of the ~250 operations, so the document and the handlers below cannot drift apart.
ERROR_STATUSES = {400: "Malformed request", 401: "Not authenticated", 403: "Not allowed",
                  404: "Not found", 409: "Conflicts with the current state", 422: "Invalid input",
                  429: "Too many requests"}


class LinliAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        """What `/api/v1/openapi.json` answers: the document built at deploy time when
        `LINLI_OPENAPI_FILE` names one (core/openapi_file.py), else built here."""
        prebuilt = read_prebuilt()
        if prebuilt is not None:
            return cast(OpenAPISchema, prebuilt)
        return self.build_openapi_schema(path_prefix=path_prefix, path_params=path_params)

    def build_openapi_schema(self, *, path_prefix: str | None = None,
                             path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        """The document from the code: every operation, with our error answers added."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = error
        body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
        for operations in schema["paths"].values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                for status, description in ERROR_STATUSES.items():
                    responses.setdefault(status, {"description": description, "content": body})
        return schema


api = LinliAPI(
    title="Linli API",
    version="1",
    description="邻里 O2O local commerce. Money is integer fen; times are UTC ISO 8601; "
    "ids are opaque strings. Errors: `{code, message, details}`.",
    urls_namespace="api-v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, code: str, message: str,
           details: dict[str, Any] | None = None) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "details": details or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = _error(request, exc.status, exc.code, str(exc.message), exc.details)
    if exc.status == 503:  # an upstream (payment provider) is down: say when to retry
        response["Retry-After"] = "5"
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"loc": [str(p) for p in e.get("loc", [])], "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors
    ]
    return _error(request, 422, "invalid_input", _("The request is invalid."), {"errors": errors})


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, "not_authenticated", _("Please log in first."))


@api.exception_handler(Http404)
def on_404(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("The requested resource does not exist."))


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:  # Ninja raises this for a body that is not valid JSON
        return _error(request, 400, "malformed_body", _("The request body is not valid JSON."))
    return _error(request, exc.status_code, "http_error", str(exc))


api.add_router("", accounts_router)
api.add_router("", "linli.accounts.api_addresses.router")
api.add_router("", "linli.accounts.api_data_rights.router")
api.add_router("", discovery_router)
api.add_router("", "linli.discovery.api_search.router")
api.add_router("", "linli.discovery.api_recommend.router")
api.add_router("", catalog_router)
api.add_router("", "linli.merchants.api_onboarding.router")
api.add_router("", "linli.merchants.api_store.router")
api.add_router("", orders_router)
api.add_router("", payments_router)
api.add_router("", delivery_router)
api.add_router("", "linli.accounts.api_member_code.router")
api.add_router("", "linli.pos.api.router")
api.add_router("", "linli.marketing.api.router")
api.add_router("", "linli.inventory.api.router")
api.add_router("", "linli.marketing.api_engagement.router")
api.add_router("", "linli.notifications.api.router")
api.add_router("", "linli.marketing.voucher_api.router")
api.add_router("", "linli.reviews.api.router")
api.add_router("", "linli.aftersales.api.router")
api.add_router("", "linli.bookings.api.router")
api.add_router("", "linli.bookings.tables.api.router")
api.add_router("", "linli.finance.api.router")
api.add_router("", "linli.analytics.api.router")
