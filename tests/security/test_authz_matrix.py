"""The authorisation matrix (issue 14): every API operation of /api/v1 (from the OpenAPI
document) and every web route (from the URL conf) called as every kind of caller, each
answer compared with the policy declared in `linli.core.access`.

- allowed: anything but 401/403/404 (and no server error); a 400/409/422 means the request
  got past authorisation and was refused on its merits, which is fine;
- refused: 401 for anonymous API calls, a redirect to the surface's login page for anonymous
  web calls, 403 for the wrong role, 404 for an object of another tenant.

Each call runs in a savepoint that is rolled back, so every caller meets the same world
(an owner deleting the product does not hide it from the manager who comes next). Bodies are
the smallest the schema accepts, generated from the OpenAPI document (required fields only),
so a refusal cannot hide behind a 422: validation runs before the service's checks.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from linli.core import access
from tests.security.world import ROLES, World, png

API_PREFIX = "/api/v1"

# Path parameters whose name means a different object on some routes, or a verb.
OVERRIDES: dict[str, dict[str, str]] = {
    "POST /merchant/orders/{order_id}/{action}": {"action": "prepare"},
    "POST /merchant/orders/{order_id}/cancel-request/{decision}": {"decision": "approve"},
    "POST /merchant/bookings/{booking_id}/{action}": {"action": "confirm"},
    "POST /merchant/reservations/{reservation_id}/{action}": {"action": "confirm"},
    "POST /merchant/queue/tickets/{ticket_id}/{action}": {"action": "seat", "ticket_id": "@queue_ticket_id"},
    "GET /queue/tickets/{ticket_id}": {"ticket_id": "@queue_ticket_id"},
    "POST /queue/tickets/{ticket_id}/cancel": {"ticket_id": "@queue_ticket_id"},
    "POST /finance/adjustments/{adjustment_id}/{decision}": {"decision": "approve"},
    "POST /orders/{order_id}/review": {"order_id": "@done_order_id"},
    "POST /orders/{order_id}/aftersales": {"order_id": "@done_order_id"},
    "POST /merchant/orders/{order_id}/collect": {"order_id": "@done_order_id"},
    "POST /merchant/orders/{order_id}/serve": {"order_id": "@done_order_id"},
}
WEB_OVERRIDES: dict[str, dict[str, str]] = {
    "web-order-action": {"action": "cancel"},
    "web-merchant-action": {"action": "prepare"},
    "web-rider-task": {"action": "arrive"},
    "web-merchant-transfer-step": {"action": "cancel"},
    "web-merchant-coupon-switch": {"action": "pause"},
    "web-merchant-promotion-switch": {"action": "pause"},
    "web-merchant-deal-act": {"action": "pause"},
    "web-aftersales-act": {"action": "cancel"},
    "web-merchant-aftersales-act": {"action": "agree"},
    "bookings-act": {"action": "confirm"},
    "web-merchant-reservation-act": {"action": "confirm"},
    "web-merchant-queue-act": {"action": "seat", "ticket_id": "@queue_ticket_id"},
    "web-queue-ticket": {"ticket_id": "@queue_ticket_id"},
    "web-queue-ticket-cancel": {"ticket_id": "@queue_ticket_id"},
    "web-queue-ticket-events": {"ticket_id": "@queue_ticket_id"},
    "web-complaint-detail": {"ticket_id": "@complaint_id"},
    "web-review-write": {"order_id": "@done_order_id"},
    "web-aftersales-new": {"order_id": "@done_order_id"},
    "web-merchant-staff-role": {"user_id": "@user_id"},
    "web-merchant-finance-statement": {"fmt": "csv"},
    "web-merchant-analytics-export": {"fmt": "csv"},
    "sandbox-pay": {"trade_no": "@open_trade_no"},
}
# Bodies and queries the schema alone cannot make valid (an enum in a plain string, a reason a
# service requires): without them the endpoint's input check would answer before its role check.
BODIES: dict[str, dict[str, Any]] = {
    "POST /orders/{order_id}/aftersales": {"kind": "refund_only", "reason": "quality"},
    "POST /merchant/aftersales/{request_id}/reject": {"reason": "商品无问题"},
    "POST /rider/tasks/{task_id}/reject": {"reason": "太远了"},
    "POST /rider/tasks/{task_id}/fail": {"reason": "unreachable"},
    "POST /ops/riders/{rider_id}/review": {"action": "approve"},
    "POST /chains/{merchant_id}/reroute": {"items": [{"sku": "GBJD", "quantity": 1}], "lat": 31.2304,
                                           "lng": 121.4737, "rejected_store": "@store_id"},
    "POST /chains/{merchant_id}/route": {"items": [{"sku": "GBJD", "quantity": 1}], "lat": 31.2304,
                                         "lng": 121.4737},
    "POST /finance/adjustments": {"merchant_id": "@merchant_id", "amount_fen": 100, "reason": "补差价"},
    "POST /ops/merchants/{merchant_id}/suspend": {"reason": "违规经营"},
    "POST /ops/merchants/{merchant_id}/reinstate": {"reason": "已整改"},
    "POST /orders/{order_id}/cancel-request": {"reason": "不想要了"},
    "POST /merchant/stores/{store_id}/vouchers/redeem": {"code": "@voucher_code"},
    "POST /merchant/stores/{store_id}/booking-services": {"product_id": "@service_product_id"},
    "POST /merchant/transfers": {"from_store": "@store_id", "to_store": "@branch_id",
                                 "lines": [{"product_id": "@product_id", "quantity": 1}]},
}
QUERIES: dict[str, dict[str, str]] = {
    "GET /merchant/stores/{store_id}/bookings": {"date": "@today"},
    "GET /merchant/stores/{store_id}/reservations": {"date": "@today"},
    "GET /merchant/stores/{store_id}/vouchers/lookup": {"code": "@voucher_code"},
    "GET /finance/balances": {"merchant_id": "@merchant_id"},
    "GET /finance/statement": {"merchant_id": "@merchant_id"},
    "GET /finance/batches": {"merchant_id": "@merchant_id"},
}
# Web forms a view checks before it calls the service (a refusal must not hide behind them),
# and query strings the page needs.
WEB_FORMS: dict[str, dict[str, str]] = {
    "web-merchant-product": {"price": "30", "stock": "10", "listed": "1"},
    "web-merchant-product-add": {"name": "鱼香肉丝", "category": "@category_id", "price": "28"},
    "web-merchant-review-reply": {"text": "谢谢光临"},
    "web-merchant-staff-role": {"role": "manager"},
    "web-merchant-deal-add": {"title": "单人餐", "price": "30", "worth": "40", "uses": "1", "days": "30"},
    "web-merchant-transfer-new": {"to_store": "@branch_id", "product-1": "@product_id", "qty-1": "1",
                                  "request_key": "authz"},
    "web-merchant-voucher-redeem": {"code": "@voucher_code"},
}
WEB_QUERY: dict[str, str] = {"web-merchant-queue-events": "?store=@store_id"}
TICKET_IS_COMPLAINT = ("/complaints/{ticket_id}", "/ops/complaints/{ticket_id}")
# Files, not views: static files and (LINLI_SERVE_MEDIA) public uploads.
SKIP_WEB = {"^static/(?P<path>.+)$", "^media/(?P<path>(?:stores|products|banners)/[^\\x00]+)$"}


# --- enumerating routes ---------------------------------------------------------------------

def api_operations() -> dict[str, dict[str, Any]]:
    from linli.api import api

    schema = api.get_openapi_schema()
    found: dict[str, dict[str, Any]] = {}
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            found[f"{method.upper()} {path.removeprefix(API_PREFIX)}"] = op
    found["#components"] = schema.get("components", {})
    return found


def web_routes() -> dict[str, str]:
    """URL name (or pattern, when unnamed) -> route pattern, outside /api/v1 and /ops/."""
    def walk(patterns: list[Any], prefix: str = "") -> Any:
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), p.name

    routes: dict[str, str] = {}
    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(("api/v1/", "ops/")):
            continue
        routes[name or route] = route
    return routes


# --- bodies from the schema -----------------------------------------------------------------

def _sample(schema: dict[str, Any], components: dict[str, Any], depth: int = 0,
            ids: dict[str, str] | None = None) -> Any:
    """The smallest value the schema accepts; a field named like a world id gets that id."""
    ids = ids or {}
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _sample(components["schemas"][name], components, depth + 1, ids)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [s for s in schema[key] if s.get("type") != "null"]
            return _sample(options[0], components, depth + 1, ids) if options else None
    if "allOf" in schema:
        return _sample(schema["allOf"][0], components, depth + 1, ids)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "string":
        fmt = schema.get("format", "")
        if fmt == "date-time":
            return (timezone.now() + timedelta(days=1)).isoformat()
        if fmt == "date":
            return timezone.now().date().isoformat()
        return "x" * max(1, schema.get("minLength", 1))
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return max(1.0, schema.get("minimum", 1.0))
    if kind == "boolean":
        return False
    if kind == "array":
        n = schema.get("minItems", 0)
        return [_sample(schema.get("items", {}), components, depth + 1, ids) for _ in range(n)]
    if kind == "object" or "properties" in schema:
        if depth > 6:
            return {}
        props = schema.get("properties", {})
        return {k: ids[k] if k in ids else _sample(props[k], components, depth + 1, ids)
                for k in schema.get("required", []) if k in props}
    return "x"


def request_for(key: str, op: dict[str, Any], components: dict[str, Any], ids: dict[str, str]
                ) -> tuple[str, str, dict[str, Any]]:
    """(method, url, client kwargs) for one operation, path filled with this tenant's ids."""
    method, path = key.split(" ", 1)
    values = dict(ids)
    if path.startswith(TICKET_IS_COMPLAINT):
        values["ticket_id"] = ids.get("complaint_id", "")
    for name, value in OVERRIDES.get(key, {}).items():
        values[name] = ids.get(value[1:], "") if value.startswith("@") else value
    url = API_PREFIX + re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "zzz_missing"), path)
    query = {}
    for param in op.get("parameters", []):
        if param.get("in") == "query" and param.get("required"):
            name = param["name"]
            query[name] = values.get(name) or _sample(param.get("schema", {}), components)
    query.update({k: _fill(v, values) for k, v in QUERIES.get(key, {}).items()})
    kwargs: dict[str, Any] = {}
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        schema = content["multipart/form-data"]["schema"]
        if "$ref" in schema:
            schema = components["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        data: dict[str, Any] = {}
        for name, prop in schema.get("properties", {}).items():
            if prop.get("format") == "binary" or name in ("file", "image"):
                data[name] = png()
            elif name in schema.get("required", []):
                data[name] = str(_sample(prop, components))
        kwargs = {"data": data}
    elif "application/json" in content:
        body = _fill(BODIES[key], values) if key in BODIES else \
            _sample(content["application/json"]["schema"], components, ids=values)
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return method, url, kwargs


def _fill(value: Any, ids: dict[str, str]) -> Any:
    """`"@name"` -> the world's id of that name, inside dicts and lists too."""
    if isinstance(value, str) and "@" in value:
        return re.sub(r"@(\w+)", lambda m: ids.get(m.group(1), "zzz_missing"), value)
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


# --- calling --------------------------------------------------------------------------------

def _call(client: Any, method: str, url: str, kwargs: dict[str, Any], headers: dict[str, str]) -> Any:
    """One call in a savepoint that is rolled back; the cache (rate limits) starts empty."""
    cache.clear()
    cookies = copy.copy(client.cookies)  # a logout must not log the next call out
    for value in kwargs.get("data", {}).values() if isinstance(kwargs.get("data"), dict) else ():
        if hasattr(value, "seek"):
            value.seek(0)
    with transaction.atomic():
        answer = client.generic(method, url, **_encode(method, kwargs), headers=headers) \
            if method not in ("GET", "POST") else getattr(client, method.lower())(url, **kwargs, headers=headers)
        if getattr(answer, "streaming", False):
            answer.close()
        transaction.set_rollback(True)
    client.cookies = cookies
    return answer


def _encode(method: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    if "content_type" in kwargs:
        return kwargs
    return {"data": "{}", "content_type": "application/json"}


def _verdict(decision: access.Decision, status: int, *, login: str = "", location: str = "",
             answers_401: bool = False) -> str:
    """'' when the answer matches the decision, else what was wrong."""
    if status >= 500:
        return f"server error {status}"
    refused = status in (403, 404) or (status == 401 and not answers_401)
    to_login = bool(login) and status in (301, 302) and location.split("?")[0] in ("/login", "/m/login", "/r/login")
    if decision.allowed:
        return "" if not refused and not to_login else f"allowed but got {status} {location}".rstrip()
    if decision.status == 401 and login:
        return "" if to_login and location.startswith(login) else f"expected redirect to {login}, got {status}"
    if status == decision.status or status in decision.also:
        return ""
    return f"expected {decision.status}, got {status}"


@pytest.fixture
def world(db) -> World:
    return World()


def test_every_api_operation_has_a_policy_and_every_policy_a_route() -> None:
    ops = set(api_operations()) - {"#components"}
    declared = set(access.API)
    assert not ops - declared, f"API operations without a policy in linli.core.access.API: {sorted(ops - declared)}"
    assert not declared - ops, f"policies for API operations that do not exist: {sorted(declared - ops)}"


def test_every_web_route_has_a_policy_and_every_policy_a_route() -> None:
    routes = set(web_routes())
    declared = set(access.WEB)
    assert not routes - declared, f"web routes without a policy in linli.core.access.WEB: {sorted(routes - declared)}"
    stale = declared - routes - {"^media/(?P<path>(?:stores|products|banners)/[^\\x00]+)$"}  # only with LINLI_SERVE_MEDIA
    assert not stale, f"policies for web routes that do not exist: {sorted(stale)}"


def test_policy_decisions_follow_the_rules() -> None:
    """The decision table itself, on a few hand-picked cells."""
    c = access.Caller
    assert access.PUBLIC.decide(c()).allowed
    assert access.USER.decide(c()).status == 401
    assert access.OWNER_OF_OBJECT.decide(c(signed_in=True)).status == 404
    cashier = c(signed_in=True, member_role="cashier", merchant_role="cashier")
    assert access.store_staff(access.R.MENU_EDIT).decide(cashier).status == 403
    assert access.store_staff(access.R.MENU_EDIT).decide(c(signed_in=True, merchant_role="owner")).status == 404
    assert access.OPERATOR_ONLY.decide(c(signed_in=True, platform_role="support")).status == 403
    assert access.API["POST /finance/commission-rules"].decide(c(signed_in=True, platform_role="support")).status == 403


def test_api_matrix(world: World) -> None:
    ops = api_operations()
    components = ops.pop("#components")
    failures: list[str] = []
    calls = 0
    partial = []
    for key, op in sorted(ops.items()):
        policy = access.API[key]
        method, url, kwargs = request_for(key, op, components, world.ids)
        unfilled = "zzz_missing" in url
        if unfilled:
            partial.append(key)
        for role in ROLES:
            api = world.apis[role]
            answer = _call(api.client, method, url, kwargs, api._headers(None))
            calls += 1
            decision = policy.decide(world.caller(role))
            wrong = _verdict(decision, answer.status_code, answers_401=policy.answers_401)
            if wrong and unfilled and role != "anonymous" and answer.status_code == 404:
                wrong = ""  # no object of this kind in the world: only the refusals are checked
            if wrong:
                failures.append(f"{key} as {role}: {wrong} [{policy.describe()}] {answer.content[:160]!r}")
    print(f"API matrix: {len(ops)} operations x {len(ROLES)} callers = {calls} calls; "
          f"{len(partial)} without an object in the world (refusals only): {partial}")
    assert not failures, f"{len(failures)} of {calls} answers differ from the policies:\n" + "\n".join(failures)
    assert not partial, f"the world has no object for these operations (tests/security/world.py): {partial}"


def test_web_matrix(world: World) -> None:
    routes = web_routes()
    failures: list[str] = []
    partial: list[str] = []
    calls = 0
    for name, route in sorted(routes.items()):
        if name in SKIP_WEB:
            continue
        policy = access.WEB[name]
        values = dict(world.ids)
        for param, value in WEB_OVERRIDES.get(name, {}).items():
            values[param] = world.ids.get(value[1:], "") if value.startswith("@") else value
        url = "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "zzz_missing"), route)
        url += _fill(WEB_QUERY.get(name, ""), values) if name in WEB_QUERY else ""
        unfilled = "zzz_missing" in url
        if unfilled:
            partial.append(name)
        method = "GET"
        prober = next((r for r in ROLES if policy.decide(world.caller(r)).allowed), "operator")
        if _call(world.web(prober), "GET", url, {}, {}).status_code == 405:
            method = "POST"
        form = _fill(WEB_FORMS.get(name, {}), values)
        for role in ROLES:
            answer = _call(world.web(role), method, url, {"data": form} if method == "POST" else {}, {})
            calls += 1
            decision = policy.decide(world.caller(role))
            wrong = _verdict(decision, answer.status_code, login=policy.login,
                             location=answer.headers.get("Location", ""))
            if wrong and unfilled and role != "anonymous" and answer.status_code == 404:
                wrong = ""
            if wrong:
                failures.append(f"{name} {method} {url} as {role}: {wrong} [{policy.describe()}]")
    print(f"web matrix: {calls // len(ROLES)} routes x {len(ROLES)} callers = {calls} calls")
    assert not failures, f"{len(failures)} of {calls} answers differ from the policies:\n" + "\n".join(failures)
    assert not partial, f"the world has no object for these web routes (tests/security/world.py): {partial}"
