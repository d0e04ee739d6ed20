"""Who may call what: the one table of authorisation policies (issue 14).

Every API operation (`"METHOD /path"` as the OpenAPI document of /api/v1 spells it, without
the `/api/v1` prefix) and every web route (its URL name; its pattern for the few unnamed
ones) is declared here with a `Policy`. The checks themselves stay where they were, in the
services (`merchants.selectors.store_for_member`, `accounts.models.is_platform_staff`, the
owner filters of each selector): this table is the *declaration* they must match, and
`tests/security/test_authz_matrix.py` calls every route as every kind of caller and fails
when an answer differs from it, when a route has no entry, or when an entry names a route
that no longer exists.

Why a table and not decorators next to the endpoints: the routes live in some forty
modules; one screen that lists them all is what a reviewer (or a newcomer adding a route)
reads to see at a glance that nothing merchant-only is public, and the matrix test needs
the list anyway. Adding a route without a line here fails the test with its name.

How a policy decides (`Policy.decide`), docs/security.md "Authorisation" has the table:
- allowed: any of the policy's grants lets the caller in; the answer is then whatever the
  endpoint says (a 4xx for a bad body is fine), never 401/403/404;
- anonymous (no token, no session) and not public: 401 on the API, a redirect to the
  surface's login page on the web;
- signed in, a member of the object's merchant, but the role lacks the permission: 403;
- signed in, outside the object's tenant (another consumer's order, another merchant's
  store, another rider's task): 404, never 403, so ids cannot be probed;
- signed in, the wrong kind of caller for a role-only route (a consumer on /ops/, support on
  an operator-only action): 403;
- signed in and able to *see* the object elsewhere (`seen_by`: store staff on the consumer's
  "confirm receipt"): 403, or the state machine's 409/422 where the endpoint checks the state
  before the role; it tells them nothing they could not read anyway.

This module imports no Django: the policies are plain data.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from linli.merchants import roles

# --- who a grant lets in ------------------------------------------------------------------

ANYONE = "anyone"  # no login needed
SIGNED_IN = "signed_in"  # any signed-in user, acting on their own data (me/..., creates)
OWNER = "owner"  # the consumer the object in the path belongs to
STAFF = "staff"  # a member of the merchant that owns the store/object in the path
MERCHANT = "merchant"  # a member of any merchant, acting on their own stores (no id in the path)
RIDER = "rider"  # anyone with a rider profile
TASK_RIDER = "task_rider"  # the rider the delivery task in the path is assigned to
SUPPORT = "support"  # platform staff: operator or support agent
OPERATOR = "operator"  # operators only (platform-wide changes: money rules, merchants)

_OBJECT_SCOPED = frozenset({OWNER, STAFF, TASK_RIDER})  # outsiders get 404


@dataclass(frozen=True)
class Grant:
    who: str
    permission: str = ""  # STAFF / MERCHANT: a merchants.roles permission; "" = any member

    def __post_init__(self) -> None:
        if self.permission and self.permission not in roles.ALL_PERMISSIONS:
            raise ValueError(f"unknown permission {self.permission!r}")


@dataclass(frozen=True)
class Caller:
    """What the policy needs to know about a caller, relative to the object in the path."""

    signed_in: bool = False
    owns_object: bool = False  # the consumer whose order/booking/... it is
    member_role: str = ""  # role at the object's merchant ("" = not a member)
    merchant_role: str = ""  # role at their own merchant, wherever it is ("" = none)
    rider: bool = False
    task_rider: bool = False
    platform_role: str = ""  # "", "support" or "operator"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    status: int = 0  # when refused: 401, 403 or 404
    # Also acceptable refusals: for a caller who may see the object, an endpoint whose state
    # machine or input check runs before its role check answers 409/422 instead of 403; it
    # tells them nothing they could not read anyway.
    also: tuple[int, ...] = ()


@dataclass(frozen=True)
class Policy:
    grants: tuple[Grant, ...]
    note: str = ""
    # Where a web route sends anonymous callers ("" on the API: 401).
    login: str = field(default="", compare=False)
    # A surface that admits only its own kind of caller before it looks at the object
    # ("merchant": the console, "rider": the rider app): anyone else gets 403 there, and
    # only a caller of that kind who is outside the object's tenant gets 404.
    gate: str = field(default="", compare=False)
    # Who may *see* the object without being allowed this action: they get 403, not 404.
    seen: tuple[Grant, ...] = field(default=(), compare=False)
    state_first: bool = field(default=False, compare=False)
    answers_401: bool = field(default=False, compare=False)  # a login endpoint's "wrong password"

    def __or__(self, other: Policy) -> Policy:
        return replace(self, grants=self.grants + other.grants, note=self.note or other.note,
                       login=self.login or other.login, gate=self.gate or other.gate)

    def web(self, login: str, gate: str = "") -> Policy:
        return replace(self, login=login, gate=gate or self.gate)

    def gated(self, gate: str) -> Policy:
        return replace(self, gate=gate)

    def seen_by(self, *others: Policy, state_first: bool = False) -> Policy:
        """Callers of `others` see the object (another endpoint shows it to them) but may not
        do this: 403. `state_first`: the endpoint checks the state or the input before the
        role, so they may meet that 409/422 first."""
        return replace(self, seen=tuple(g for p in others for g in p.grants), state_first=state_first)

    def with_note(self, note: str) -> Policy:
        return replace(self, note=note)

    @property
    def public(self) -> bool:
        return any(g.who == ANYONE for g in self.grants)

    def decide(self, caller: Caller) -> Decision:
        if self.public or any(_lets_in(g, caller) for g in self.grants):
            return Decision(True)
        if not caller.signed_in:
            return Decision(False, 401)
        if (self.gate == "merchant" and not caller.merchant_role) or (self.gate == "rider" and not caller.rider):
            return Decision(False, 403)
        also = (409, 422) if self.state_first else ()
        for g in self.grants:
            if g.who == STAFF and caller.member_role:
                return Decision(False, 403, also)  # right tenant, role lacks the permission
        if any(_lets_in(g, caller) for g in self.seen):
            return Decision(False, 403, also)
        if any(g.who in _OBJECT_SCOPED for g in self.grants):
            return Decision(False, 404)  # someone else's object: do not say it exists
        return Decision(False, 403)

    def describe(self) -> str:
        parts = [g.who + (f"({g.permission})" if g.permission else "") for g in self.grants]
        return " | ".join(parts)


def _lets_in(g: Grant, c: Caller) -> bool:
    if not c.signed_in:
        return False
    if g.who == SIGNED_IN:
        return True
    if g.who == OWNER:
        return c.owns_object
    if g.who == STAFF:
        return bool(c.member_role) and (not g.permission or roles.allows(c.member_role, g.permission))
    if g.who == MERCHANT:
        return bool(c.merchant_role) and (not g.permission or roles.allows(c.merchant_role, g.permission))
    if g.who == RIDER:
        return c.rider
    if g.who == TASK_RIDER:
        return c.task_rider
    if g.who == SUPPORT:
        return c.platform_role in ("support", "operator")
    if g.who == OPERATOR:
        return c.platform_role == "operator"
    raise ValueError(f"unknown grant {g.who!r}")


def _p(who: str, permission: str = "", note: str = "") -> Policy:
    return Policy((Grant(who, permission),), note=note)


PUBLIC = _p(ANYONE)
USER = _p(SIGNED_IN, note="own data only: the caller is the subject, there is no id to probe")
OWNER_OF_OBJECT = _p(OWNER)
RIDER_ONLY = _p(RIDER)
RIDER_OF_TASK = _p(TASK_RIDER)
SUPPORT_OR_OPERATOR = _p(SUPPORT)
OPERATOR_ONLY = _p(OPERATOR)


def store_staff(permission: str = "") -> Policy:
    """A member of the merchant owning the store/object in the path, with `permission`."""
    return _p(STAFF, permission)


def merchant_staff(permission: str = "") -> Policy:
    """A member of any merchant, working on their own stores (the store is not in the path)."""
    return _p(MERCHANT, permission)


ANY_MEMBER = store_staff()
R = roles
# Who sees an order: its consumer, the store's staff, its rider, support (GET /orders/{id}).
ORDER_PARTIES = OWNER_OF_OBJECT | ANY_MEMBER | RIDER_OF_TASK | SUPPORT_OR_OPERATOR
# Who the order state machine knows as actors (orders/states.py): refused actions get 403 (or
# its 409 when the state is checked first); the rider and support are not actors there: 404.
ORDER_ACTORS = OWNER_OF_OBJECT | ANY_MEMBER | OPERATOR_ONLY
RIDER_TASK = RIDER_OF_TASK.gated("rider")  # not a rider: 403; another rider's task: 404
CREDENTIALS = replace(PUBLIC, note="checks the credentials in the body itself: a wrong one is its 401",
                      answers_401=True)

# --- the API (/api/v1) --------------------------------------------------------------------

API: dict[str, Policy] = {
    # accounts
    "POST /auth/sms-code": PUBLIC,
    "POST /auth/login": PUBLIC,
    "POST /auth/password-login": CREDENTIALS,
    "POST /auth/refresh": CREDENTIALS,
    "GET /me": USER,
    "GET /me/addresses": USER,
    "POST /me/addresses": USER,
    "GET /me/addresses/{address_id}": OWNER_OF_OBJECT,
    "PATCH /me/addresses/{address_id}": OWNER_OF_OBJECT,
    "DELETE /me/addresses/{address_id}": OWNER_OF_OBJECT,
    "POST /me/addresses/{address_id}/default": OWNER_OF_OBJECT,
    "GET /geocode": PUBLIC,
    "GET /geocode/reverse": PUBLIC,
    "GET /me/data-export": USER,
    "POST /me/delete-account": USER,
    "GET /me/member-code": USER,
    # discovery
    "GET /stores/nearby": PUBLIC,
    "GET /stores/{store_id}": PUBLIC,
    "GET /search": PUBLIC,
    "GET /home": PUBLIC,
    "GET /recommendations": PUBLIC,
    "GET /stores/{store_id}/also-bought": PUBLIC,
    # catalog (merchants.roles: menu.*)
    "GET /stores/{store_id}/menu": PUBLIC,
    "GET /merchant/stores/{store_id}/menu-categories": store_staff(R.MENU_VIEW),
    "POST /merchant/stores/{store_id}/menu-categories": store_staff(R.MENU_EDIT),
    "POST /merchant/stores/{store_id}/menu-categories/reorder": store_staff(R.MENU_EDIT),
    "PATCH /merchant/menu-categories/{category_id}": store_staff(R.MENU_EDIT),
    "DELETE /merchant/menu-categories/{category_id}": store_staff(R.MENU_EDIT),
    "GET /merchant/stores/{store_id}/products": store_staff(R.MENU_VIEW),
    "POST /merchant/stores/{store_id}/products": store_staff(R.MENU_EDIT),
    "PATCH /merchant/products/{product_id}": store_staff(R.MENU_EDIT),
    "DELETE /merchant/products/{product_id}": store_staff(R.MENU_EDIT),
    "POST /merchant/products/{product_id}/sold-out": store_staff(R.MENU_SOLD_OUT),
    "PUT /merchant/products/{product_id}/stock": store_staff(R.STOCK_SET),
    "POST /merchant/products/{product_id}/image": store_staff(R.MENU_EDIT),
    "GET /merchant/stores/{store_id}/menu/export": store_staff(R.MENU_VIEW),
    "POST /merchant/stores/{store_id}/menu/import": store_staff(R.MENU_EDIT),
    # onboarding: the applicant; the review queue is operators only (not support)
    "POST /merchant-applications": USER,
    "GET /merchant-applications": USER,
    "GET /merchant-applications/{application_id}": OWNER_OF_OBJECT,
    "PATCH /merchant-applications/{application_id}": OWNER_OF_OBJECT,
    "POST /merchant-applications/{application_id}/documents": OWNER_OF_OBJECT,
    "POST /merchant-applications/{application_id}/submit": OWNER_OF_OBJECT,
    "GET /ops/merchant-applications": OPERATOR_ONLY,
    "GET /ops/merchant-applications/{application_id}": OPERATOR_ONLY,
    "POST /ops/merchant-applications/{application_id}/approve": OPERATOR_ONLY,
    "POST /ops/merchant-applications/{application_id}/reject": OPERATOR_ONLY,
    "POST /ops/merchant-applications/{application_id}/request-changes": OPERATOR_ONLY,
    "POST /ops/merchants/{merchant_id}/suspend": OPERATOR_ONLY,
    "POST /ops/merchants/{merchant_id}/reinstate": OPERATOR_ONLY,
    # store profile and staff
    "GET /merchant/stores": USER,  # the stores I work for: empty for anyone else
    "POST /merchant/stores": store_staff(R.STORES_OPEN),  # from_store: one of the merchant's stores
    "GET /merchant/stores/{store_id}": store_staff(R.STORE_VIEW),
    "PATCH /merchant/stores/{store_id}": store_staff(R.STORE_EDIT),
    "POST /merchant/stores/{store_id}/pause": store_staff(R.STORE_PAUSE),
    "POST /merchant/stores/{store_id}/resume": store_staff(R.STORE_PAUSE),
    "POST /merchant/stores/{store_id}/photos": store_staff(R.STORE_EDIT),
    "DELETE /merchant/stores/{store_id}/photos/{photo_id}": store_staff(R.STORE_EDIT),
    "GET /merchant/stores/{store_id}/members": store_staff(R.STAFF_MANAGE),
    "POST /merchant/stores/{store_id}/members": store_staff(R.STAFF_MANAGE),
    "PATCH /merchant/stores/{store_id}/members/{user_id}": store_staff(R.STAFF_MANAGE),
    "DELETE /merchant/stores/{store_id}/members/{user_id}": store_staff(R.STAFF_MANAGE),
    # orders
    "POST /orders": USER,
    "GET /orders": USER,
    "GET /orders/{order_id}": ORDER_PARTIES,
    "POST /orders/{order_id}/cancel": (OWNER_OF_OBJECT | OPERATOR_ONLY).seen_by(ORDER_ACTORS, state_first=True),
    "POST /orders/{order_id}/confirm": OWNER_OF_OBJECT.seen_by(ORDER_ACTORS, state_first=True),
    "POST /orders/{order_id}/cancel-request": OWNER_OF_OBJECT.seen_by(ORDER_ACTORS, state_first=True),
    "POST /orders/{order_id}/reorder": OWNER_OF_OBJECT,
    "GET /merchant/orders": USER,  # the live queue of my stores: empty for anyone else
    "POST /merchant/orders/{order_id}/collect": store_staff(R.ORDERS_ACT).seen_by(ORDER_ACTORS, state_first=True),
    "POST /merchant/orders/{order_id}/serve": store_staff(R.ORDERS_ACT).seen_by(ORDER_ACTORS, state_first=True),
    "POST /merchant/orders/{order_id}/{action}": store_staff(R.ORDERS_ACT).seen_by(ORDER_ACTORS,
                                                                                   state_first=True),
    "POST /merchant/orders/{order_id}/cancel-request/{decision}": store_staff(R.ORDERS_ACT).seen_by(
        ORDER_ACTORS, state_first=True),
    "GET /merchant/stores/{store_id}/order-settings": store_staff(R.STORE_VIEW),
    "PUT /merchant/stores/{store_id}/order-settings": store_staff(R.STORE_EDIT),
    "GET /stores/{store_id}/slots": PUBLIC,
    "GET /stores/{store_id}/delivery-estimate": PUBLIC,
    "GET /merchant/stores/{store_id}/tables": store_staff(R.STORE_VIEW),
    "POST /merchant/stores/{store_id}/tables": store_staff(R.STORE_EDIT),
    "PATCH /merchant/stores/{store_id}/tables/{table_id}": store_staff(R.STORE_EDIT),
    "GET /tables/{table_id}": PUBLIC,  # what the printed QR code on the table opens
    "GET /tabs/{tab_id}": OWNER_OF_OBJECT,  # a diner who ordered on the tab
    "POST /tabs/{tab_id}/payments": OWNER_OF_OBJECT,
    "GET /merchant/stores/{store_id}/pickup-orders": store_staff(R.ORDERS_ACT),
    "GET /merchant/stores/{store_id}/tabs": store_staff(R.ORDERS_ACT),
    # payments and wallet
    "GET /payments/providers": PUBLIC,
    "POST /orders/{order_id}/payments": OWNER_OF_OBJECT,
    "GET /payments/{payment_id}": OWNER_OF_OBJECT,
    "POST /payments/{payment_id}/close": OWNER_OF_OBJECT,
    "POST /payments/callbacks/{provider}": PUBLIC,  # the gateway's signature is the check
    "POST /orders/{order_id}/refunds": SUPPORT_OR_OPERATOR,
    "GET /orders/{order_id}/refunds": OWNER_OF_OBJECT | SUPPORT_OR_OPERATOR,
    "GET /me/wallet": USER,
    "GET /me/wallet/entries": USER,
    "POST /me/wallet/topups": USER,
    "GET /me/wallet/topups/{topup_id}": OWNER_OF_OBJECT,
    "POST /me/wallet/withdrawals": USER,
    # delivery
    "POST /rider/apply": USER,
    "GET /rider/me": RIDER_ONLY,
    "POST /rider/shift": RIDER_ONLY,
    "POST /rider/location": RIDER_ONLY,
    "GET /rider/tasks": RIDER_ONLY,
    "GET /rider/earnings/today": RIDER_ONLY,
    "POST /rider/tasks/{task_id}/accept": RIDER_TASK,
    "POST /rider/tasks/{task_id}/reject": RIDER_TASK,
    "POST /rider/tasks/{task_id}/fail": RIDER_TASK,
    "POST /rider/tasks/{task_id}/return": RIDER_TASK,
    "POST /rider/tasks/{task_id}/arrive": RIDER_TASK,
    "POST /rider/tasks/{task_id}/pickup": RIDER_TASK,
    "POST /rider/tasks/{task_id}/deliver": RIDER_TASK,
    "POST /ops/riders/{rider_id}/review": OPERATOR_ONLY,
    "POST /support/delivery-tasks/{task_id}/unlock-code": SUPPORT_OR_OPERATOR,
    "GET /orders/{order_id}/eta": ORDER_PARTIES,
    # counter (pos)
    "POST /pos/stores/{store_id}/counters": store_staff(R.STORE_EDIT),
    "POST /pos/stores/{store_id}/barcodes": store_staff(R.MENU_EDIT),
    "POST /pos/stores/{store_id}/member-prices": store_staff(R.MENU_EDIT),
    "POST /pos/members/identify": store_staff(R.ORDERS_ACT),  # the store and counter are in the body
    "POST /pos/stores/{store_id}/sales": store_staff(R.ORDERS_ACT),
    "GET /pos/sales/{sale_id}": store_staff(R.ORDERS_ACT),
    "POST /pos/sales/{sale_id}/cancel-qr": store_staff(R.ORDERS_ACT),
    "GET /pos/sales/{sale_id}/receipt": store_staff(R.ORDERS_ACT),
    "POST /pos/sales/{sale_id}/returns": store_staff(R.STOCK_SET).with_note(
        "and the cashier who rang the sale up, the same day"),
    "POST /pos/sync": store_staff(R.ORDERS_ACT),
    "GET /pos/stores/{store_id}/conflicts": store_staff(R.STOCK_SET),
    "POST /pos/conflicts/{conflict_id}/resolve": store_staff(R.STOCK_SET),
    "GET /me/points": USER,
    # marketing
    "POST /coupons/{template_id}/claim": USER,  # templates are public offers
    "GET /me/coupons": USER,
    "GET /stores/{store_id}/coupons/best": USER,
    "GET /lotteries/{lottery_id}": PUBLIC,
    "POST /lotteries/{lottery_id}/draw": USER,
    "GET /me/draws": USER,
    "POST /campaigns": OPERATOR_ONLY,
    "POST /campaigns/{campaign_id}/launch": OPERATOR_ONLY,
    "GET /campaigns/{campaign_id}/stats": OPERATOR_ONLY,
    "GET /stores/{store_id}/voucher-deals": PUBLIC,
    "GET /voucher-deals/{deal_id}": PUBLIC,
    "POST /voucher-deals/{deal_id}/buy": USER,
    "GET /me/vouchers": USER,
    "POST /me/vouchers/{voucher_id}/refund": OWNER_OF_OBJECT,
    "GET /merchant/stores/{store_id}/vouchers/lookup": store_staff(R.ORDERS_ACT),
    "POST /merchant/stores/{store_id}/vouchers/redeem": store_staff(R.ORDERS_ACT),
    "GET /merchant/stores/{store_id}/voucher-redemptions": store_staff(R.ORDERS_ACT),
    "GET /merchant/stores/{store_id}/voucher-deals": store_staff(R.MENU_VIEW),
    "POST /merchant/stores/{store_id}/voucher-deals": store_staff(R.MENU_EDIT),
    "POST /merchant/voucher-deals/{deal_id}/status": store_staff(R.MENU_EDIT),
    # inventory
    "POST /merchant/transfers": store_staff(R.STOCK_SET),  # both stores are in the body
    "GET /merchant/transfers": USER,  # my merchants' transfers: empty for anyone else
    "GET /merchant/transfers/{transfer_id}": store_staff(R.STOCK_SET),
    "POST /merchant/transfers/{transfer_id}/ship": store_staff(R.STOCK_SET),
    "POST /merchant/transfers/{transfer_id}/receive": store_staff(R.STOCK_SET),
    "POST /merchant/transfers/{transfer_id}/cancel": store_staff(R.STOCK_SET),
    "GET /merchant/stock/{product_id}/history": store_staff(R.MENU_VIEW),
    "GET /merchant/stock/{product_id}/in-transit": store_staff(R.MENU_VIEW),
    "PUT /merchant/stock/{product_id}/threshold": store_staff(R.STOCK_SET),
    "PUT /merchant/stock/{product_id}/sku": store_staff(R.MENU_EDIT),
    "GET /merchant/stores/{store_id}/alerts": store_staff(R.MENU_VIEW),
    "POST /merchant/alerts/{alert_id}/acknowledge": store_staff(R.STOCK_SET),
    # Which store of a chain should take a cart: a read over public menus and stock, nothing written.
    "POST /chains/{merchant_id}/route": USER,
    "POST /chains/{merchant_id}/reroute": USER,
    # notifications
    "GET /me/messages": USER,
    "POST /me/messages/read-all": USER,
    "POST /me/messages/{message_id}/read": OWNER_OF_OBJECT,
    "GET /me/notification-preferences": USER,
    "POST /me/notification-preferences": USER,
    # reviews
    "POST /reviews/photos": USER,
    "POST /orders/{order_id}/review": OWNER_OF_OBJECT,
    "POST /vouchers/{voucher_id}/review": OWNER_OF_OBJECT,
    "POST /bookings/{booking_id}/review": OWNER_OF_OBJECT,
    "GET /ops/reviews": SUPPORT_OR_OPERATOR,
    "POST /ops/reviews/{review_id}/moderate": SUPPORT_OR_OPERATOR,
    "GET /stores/{store_id}/reviews": PUBLIC,
    "GET /stores/{store_id}/rating": PUBLIC,
    "POST /reviews/{review_id}/helpful": USER,  # published reviews are public
    "DELETE /reviews/{review_id}/helpful": USER,
    "POST /reviews/{review_id}/reply": store_staff(R.STORE_EDIT),
    "GET /me/reviews": USER,
    "PUT /me/favourites/stores/{store_id}": USER,
    "DELETE /me/favourites/stores/{store_id}": USER,
    "PUT /me/favourites/products/{product_id}": USER,
    "DELETE /me/favourites/products/{product_id}": USER,
    "GET /me/favourites": USER,
    # after-sales and complaints
    "POST /aftersales/photos": USER,
    "POST /orders/{order_id}/aftersales": OWNER_OF_OBJECT,
    "GET /me/aftersales": USER,
    "GET /aftersales/{request_id}": OWNER_OF_OBJECT,
    "POST /aftersales/{request_id}/accept-partial": OWNER_OF_OBJECT,
    "POST /aftersales/{request_id}/escalate": OWNER_OF_OBJECT,
    "POST /aftersales/{request_id}/cancel": OWNER_OF_OBJECT,
    "POST /aftersales/{request_id}/ship-back": OWNER_OF_OBJECT,
    "GET /merchant/aftersales": USER,  # the queue of my stores: empty for anyone else
    "GET /merchant/aftersales/{request_id}": store_staff(R.ORDERS_ACT),
    "POST /merchant/aftersales/{request_id}/agree": store_staff(R.ORDERS_ACT),
    "POST /merchant/aftersales/{request_id}/reject": store_staff(R.ORDERS_ACT),
    "POST /merchant/aftersales/{request_id}/propose-partial": store_staff(R.ORDERS_ACT),
    "POST /merchant/aftersales/{request_id}/confirm-return": store_staff(R.ORDERS_ACT),
    "POST /merchant/aftersales/{request_id}/resend": store_staff(R.ORDERS_ACT),
    "GET /ops/aftersales/arbitration": SUPPORT_OR_OPERATOR,
    "POST /ops/aftersales/{request_id}/arbitrate": SUPPORT_OR_OPERATOR,
    "POST /complaints": USER,
    "GET /me/complaints": USER,
    "GET /complaints/{ticket_id}": OWNER_OF_OBJECT,  # support reads it in the back office
    "POST /complaints/{ticket_id}/close": OWNER_OF_OBJECT | SUPPORT_OR_OPERATOR,
    "POST /complaints/{ticket_id}/reopen": OWNER_OF_OBJECT,
    "POST /ops/complaints/{ticket_id}/assign": SUPPORT_OR_OPERATOR,
    "POST /ops/complaints/{ticket_id}/notes": SUPPORT_OR_OPERATOR,
    "POST /ops/complaints/{ticket_id}/resolve": SUPPORT_OR_OPERATOR,
    # bookings
    "GET /stores/{store_id}/booking-services": PUBLIC,
    "GET /stores/{store_id}/availability": PUBLIC,
    "POST /bookings": USER,
    "GET /bookings": USER,
    "GET /bookings/{booking_id}": OWNER_OF_OBJECT,
    # One service serves both sides: the caller's role at the booking sets the rules (the
    # consumer's deadlines and late fee, the store's until the start), whichever path is used.
    "POST /bookings/{booking_id}/cancel": OWNER_OF_OBJECT | store_staff(R.ORDERS_ACT),
    "POST /bookings/{booking_id}/reschedule": OWNER_OF_OBJECT | store_staff(R.ORDERS_ACT),
    "GET /merchant/stores/{store_id}/booking-settings": store_staff(R.STORE_VIEW),
    "POST /merchant/stores/{store_id}/booking-settings": store_staff(R.STORE_EDIT),
    "POST /merchant/stores/{store_id}/booking-services": store_staff(R.MENU_EDIT),
    "GET /merchant/stores/{store_id}/resources": store_staff(R.STORE_VIEW),
    "POST /merchant/stores/{store_id}/resources": store_staff(R.STORE_EDIT),
    "POST /merchant/stores/{store_id}/resources/{resource_id}": store_staff(R.STORE_EDIT),
    "POST /merchant/stores/{store_id}/resources/{resource_id}/time-off": store_staff(R.STORE_EDIT),
    "GET /merchant/stores/{store_id}/bookings": store_staff(R.ORDERS_ACT),
    "POST /merchant/bookings/{booking_id}/reschedule": store_staff(R.ORDERS_ACT) | OWNER_OF_OBJECT,
    "POST /merchant/bookings/{booking_id}/{action}": (store_staff(R.ORDERS_ACT) | OWNER_OF_OBJECT).with_note(
        "the booking state machine lets the consumer only cancel"),
    # table reservations and the walk-in queue
    "GET /stores/{store_id}/tables": PUBLIC,
    "GET /stores/{store_id}/tables/availability": PUBLIC,
    "POST /stores/{store_id}/reservations": USER,
    "GET /me/reservations": USER,
    "GET /reservations/{reservation_id}": OWNER_OF_OBJECT,
    "POST /reservations/{reservation_id}/cancel": OWNER_OF_OBJECT,
    "POST /stores/{store_id}/queue": USER,
    "GET /queue/tickets/{ticket_id}": OWNER_OF_OBJECT,
    "POST /queue/tickets/{ticket_id}/cancel": OWNER_OF_OBJECT,
    "PUT /merchant/stores/{store_id}/table-setup": store_staff(R.STORE_EDIT),
    "POST /merchant/stores/{store_id}/table-types": store_staff(R.STORE_EDIT),
    "PATCH /merchant/table-types/{type_id}": store_staff(R.STORE_EDIT),
    "GET /merchant/stores/{store_id}/reservations": store_staff(R.ORDERS_ACT),
    "POST /merchant/reservations/{reservation_id}/{action}": store_staff(R.ORDERS_ACT),
    "GET /merchant/stores/{store_id}/queue": store_staff(R.ORDERS_ACT),
    "POST /merchant/stores/{store_id}/queue/call": store_staff(R.ORDERS_ACT),
    "POST /merchant/queue/tickets/{ticket_id}/{action}": store_staff(R.ORDERS_ACT),
    # finance: the merchant reads its own money; every change is an operator's (not support's)
    # (merchant_id in the query; owner and manager: finance.selectors.merchant_for_user)
    "GET /finance/balances": store_staff(R.STORE_EDIT) | SUPPORT_OR_OPERATOR,
    "GET /finance/statement": store_staff(R.STORE_EDIT) | SUPPORT_OR_OPERATOR,
    "GET /finance/batches": store_staff(R.STORE_EDIT) | SUPPORT_OR_OPERATOR,
    "POST /finance/commission-rules": OPERATOR_ONLY,
    "POST /finance/settlement-runs": OPERATOR_ONLY,
    "POST /finance/merchants/{merchant_id}/settlements": OPERATOR_ONLY,
    "POST /finance/payouts/{payout_id}/send": OPERATOR_ONLY,
    "POST /finance/holds": OPERATOR_ONLY,
    "POST /finance/holds/{hold_id}/release": OPERATOR_ONLY,
    "POST /finance/adjustments": OPERATOR_ONLY,
    "POST /finance/adjustments/{adjustment_id}/{decision}": OPERATOR_ONLY,
    # analytics
    "GET /merchant/stores/{store_id}/analytics": store_staff(R.STORE_EDIT),  # owner and manager
    "GET /merchant/stores/{store_id}/analytics/export": store_staff(R.STORE_EDIT),
    "GET /ops/analytics": SUPPORT_OR_OPERATOR,
}

# --- the web surfaces (URL names) ---------------------------------------------------------

_C = "/login"  # consumer H5
_M = "/m/login"  # merchant console
_R = "/r/login"  # rider app
C_USER = USER.web(_C)
C_OWNER = OWNER_OF_OBJECT.web(_C)


def m_staff(permission: str = "") -> Policy:
    """A console page of the caller's own store (the store is the session's, not in the path)."""
    return merchant_staff(permission).web(_M, gate="merchant")


def m_object(permission: str = "") -> Policy:
    """A console page or action on an object (order, product, sale, ...) in the path."""
    return store_staff(permission).web(_M, gate="merchant")


WEB: dict[str, Policy] = {
    "home": PUBLIC,
    "healthz": PUBLIC,
    "api-docs": PUBLIC,
    "sandbox-pay": PUBLIC,  # the sandbox gateway's hosted page, like a real gateway's
    "set_language": PUBLIC,
    "^static/(?P<path>.+)$": PUBLIC,
    "^media/(?P<path>(?:stores|products|banners)/[^\\x00]+)$": PUBLIC,
    # consumer H5
    "web-home": PUBLIC,
    "web-search": PUBLIC,
    "web-login": PUBLIC,
    "web-logout": PUBLIC,
    "web-store": PUBLIC,
    "web-cart": PUBLIC,  # the cart lives in the session
    "web-checkout": C_USER,
    "web-coupon-claim": C_USER,
    "web-my-coupons": C_USER,
    "web-orders": C_USER,
    "web-order": C_OWNER,
    "web-order-pay": C_OWNER,
    "web-order-pay-return": C_OWNER,
    "web-order-reorder": C_OWNER,
    "web-order-action": C_OWNER,
    "web-order-events": C_OWNER,
    "web-table-leave": PUBLIC,
    "web-table": PUBLIC,
    "web-table-tab": C_USER,
    "web-table-tab-pay": C_OWNER,  # the caller's own tab at this table; without one: 404
    "web-member-code": C_USER,
    "web-shelf-product": PUBLIC,
    "web-wallet": C_USER,
    "web-wallet-topup": C_USER,
    "web-wallet-withdraw": C_USER,
    "web-addresses": C_USER,
    "web-address-new": C_USER,
    "web-address-edit": C_OWNER,
    "web-address-delete": C_OWNER,
    "web-address-default": C_OWNER,
    "web-lottery": PUBLIC,
    "web-lottery-draw": C_USER,
    "web-my-messages": C_USER,
    "web-my-messages-read-all": C_USER,
    "web-my-message-settings": C_USER,
    "web-my-message-read": C_OWNER,
    "web-deal": PUBLIC,
    "web-deal-buy": C_USER,
    "web-my-vouchers": C_USER,
    "web-voucher-refund": C_OWNER,
    "web-review-write": C_OWNER,
    "web-review-helpful": C_USER,
    "web-store-favourite": C_USER,
    "web-my-favourites": C_USER,
    "web-aftersales-new": C_OWNER,
    "web-aftersales-detail": C_OWNER,
    "web-aftersales-act": C_OWNER,
    "web-my-aftersales": C_USER,
    "web-complaint-new": C_USER,
    "web-complaint-detail": C_OWNER,
    "web-my-complaints": C_USER,
    "bookings-book": PUBLIC,
    "bookings-book-submit": C_USER,
    "bookings-mine": C_USER,
    "bookings-cancel": C_OWNER | store_staff(R.ORDERS_ACT).web(_C),  # as its API: the role sets the rules
    "bookings-reschedule": C_OWNER,
    "web-tables": PUBLIC,
    "web-tables-reserve": C_USER,
    "web-tables-queue-take": C_USER,
    "web-my-reservations": C_USER,
    "web-reservation-cancel": C_OWNER,
    "web-queue-ticket": C_OWNER,
    "web-queue-ticket-cancel": C_OWNER,
    "web-queue-ticket-events": C_OWNER,
    "web-privacy": C_USER,
    "web-privacy-export": C_USER,
    "web-privacy-delete": C_USER,
    # merchant console
    "web-merchant": m_staff(),
    "web-merchant-login": PUBLIC,
    "web-merchant-logout": PUBLIC,
    "web-merchant-tables": m_staff(R.ORDERS_ACT),
    "web-merchant-pickup": m_staff(R.ORDERS_ACT),
    "web-merchant-action": m_object(R.ORDERS_ACT),
    "web-merchant-pos": m_staff(R.ORDERS_ACT),
    "web-merchant-pos-counter": m_staff(R.STORE_EDIT),
    "web-merchant-pos-identify": m_staff(R.ORDERS_ACT),
    "web-merchant-pos-sales": m_staff(R.ORDERS_ACT),
    "web-merchant-pos-receipt": m_object(R.ORDERS_ACT),
    "web-merchant-pos-return": m_object(R.STOCK_SET),  # and the cashier's own sale of the day
    "web-merchant-pos-sync": m_staff(R.ORDERS_ACT),
    "web-merchant-shelf-codes": m_staff(R.MENU_VIEW),
    "web-merchant-pos-sale-status": m_object(R.ORDERS_ACT),
    "web-merchant-pos-cancel-qr": m_object(R.ORDERS_ACT),
    "web-merchant-pos-conflicts": m_staff(R.STOCK_SET),
    "web-merchant-pos-conflict-resolve": m_object(R.STOCK_SET),
    "web-merchant-menu": m_staff(R.MENU_VIEW),
    "web-merchant-product-add": m_staff(R.MENU_EDIT),  # another store's category: 422, as a missing one
    "web-merchant-category-add": m_staff(R.MENU_EDIT),
    "web-merchant-product": m_object(R.MENU_EDIT),
    "web-merchant-sold-out": m_object(R.MENU_SOLD_OUT),
    "web-merchant-stock": m_object(R.MENU_VIEW),
    "web-merchant-store": m_staff(R.STORE_EDIT),
    "web-merchant-store-save": m_staff(R.STORE_EDIT),
    "web-merchant-pause": m_staff(R.STORE_PAUSE),
    "web-merchant-resume": m_staff(R.STORE_PAUSE),
    "web-merchant-promotions": m_staff(R.MENU_VIEW),
    "web-merchant-promotion-add": m_staff(R.MENU_EDIT),
    "web-merchant-coupon-add": m_staff(R.MENU_EDIT),
    "web-merchant-coupon-switch": m_object(R.MENU_EDIT),
    "web-merchant-promotion-switch": m_object(R.MENU_EDIT),
    "web-merchant-staff": m_staff(R.STAFF_MANAGE),
    "web-merchant-staff-add": m_staff(R.STAFF_MANAGE),
    "web-merchant-staff-role": m_object(R.STAFF_MANAGE),
    "web-merchant-staff-remove": m_object(R.STAFF_MANAGE),
    "web-store-events": m_object(R.ORDERS_ACT),
    "web-merchant-campaigns": m_staff(R.MENU_VIEW),
    "web-merchant-transfers": m_staff(R.STOCK_SET),
    "web-merchant-transfer-new": m_object(R.STOCK_SET),  # the destination store is in the form
    "web-merchant-transfer-step": m_object(R.STOCK_SET),
    "web-merchant-alerts": m_staff(R.STOCK_SET),
    "web-merchant-alert-ack": m_object(R.STOCK_SET),
    "web-merchant-vouchers": m_staff(R.ORDERS_ACT),
    # At the caller's own counter; another store's code: 422 voucher_wrong_store and nothing about it
    # (the customer brought the wrong voucher), as on the API (marketing.voucher_selectors).
    "web-merchant-voucher-redeem": m_staff(R.ORDERS_ACT),
    "web-merchant-deal-add": m_staff(R.MENU_EDIT),
    "web-merchant-deal-act": m_object(R.MENU_EDIT),
    "web-merchant-reviews": m_staff(R.STORE_VIEW),
    "web-merchant-review-reply": m_object(R.STORE_EDIT),
    "web-merchant-aftersales": m_staff(R.ORDERS_ACT),
    "web-merchant-aftersales-detail": m_object(R.ORDERS_ACT),
    "web-merchant-aftersales-act": m_object(R.ORDERS_ACT),
    "bookings-calendar": m_staff(R.ORDERS_ACT),
    "bookings-act": m_object(R.ORDERS_ACT),
    "web-merchant-reservations": m_staff(R.ORDERS_ACT),
    "web-merchant-tables-setup": m_staff(R.STORE_VIEW),
    "web-merchant-tables-setup-save": m_staff(R.STORE_EDIT),
    "web-merchant-table-type-add": m_staff(R.STORE_EDIT),
    "web-merchant-table-type-change": m_object(R.STORE_EDIT),
    "web-merchant-reservation-act": m_object(R.ORDERS_ACT),
    "web-merchant-queue": m_staff(R.ORDERS_ACT),
    "web-merchant-queue-call": m_staff(R.ORDERS_ACT),
    "web-merchant-queue-act": m_object(R.ORDERS_ACT),
    "web-merchant-queue-events": m_object(R.ORDERS_ACT),  # ?store=
    "web-merchant-finance": m_staff(R.STORE_EDIT),  # owner and manager
    "web-merchant-finance-statement": m_staff(R.STORE_EDIT),
    "web-merchant-analytics": m_staff(R.STORE_EDIT),
    "web-merchant-analytics-export": m_staff(R.STORE_EDIT),
    # rider app
    "web-rider": RIDER_ONLY.web(_R),
    "web-rider-login": PUBLIC,
    "web-rider-logout": PUBLIC,
    "web-rider-shift": RIDER_ONLY.web(_R),
    "web-rider-task": RIDER_OF_TASK.web(_R, gate="rider"),
    "web-rider-events": RIDER_ONLY.web(_R),
}
