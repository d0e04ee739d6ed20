"""Pages of the fulfilment modes (issue 5). Consumer: a table's QR code (`/t/<table id>`)
opens the store's menu in dine-in mode; the table's tab (`/t/<table id>/tab`) lists every
order placed at the table and pays them all at once. Checkout: the slot picker of scheduled
orders and the dine-in choice (helpers called by views_consumer.checkout). Merchant console:
tables with printable QR codes and the open tabs grouped by table (`/m/tables`), the
pickup-code search (`/m/pickup`), and the split of the queue into "now" and "scheduled"."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from linli.core.errors import DomainError
from linli.merchants.models import Store
from linli.merchants.selectors import StoreNotFound
from linli.orders import errors as order_errors
from linli.orders.fulfilment import (
    order_lead_minutes,
    order_prepare_at,
    orders_by_pickup_code,
    tab_current,
    tab_unpaid_fen,
    table_create,
    table_for_diner,
    table_update,
    tables_list,
    tabs_for_store,
)
from linli.orders.models import Order, TableTab
from linli.orders.slots import slots_offered
from linli.orders.states import S
from linli.payments.services import payment_create_for_tab

from .common import consumer_required, error_context, merchant_required, refused, status_of

SESSION_TABLE = "web_table"  # {"table": tbl id, "label": "A12", "store": sto id}


# --- consumer: scanning a table ------------------------------------------------------------

def dine_in_for(request: HttpRequest, store: Store) -> dict[str, str] | None:
    """The table the consumer scanned, if it is one of this store's."""
    raw = request.session.get(SESSION_TABLE)
    return raw if isinstance(raw, dict) and raw.get("store") == store.public_id else None


@require_GET
def table_landing(request: HttpRequest, table_id: str) -> HttpResponse:
    """What a table's QR code opens: remember the table, show the store's menu."""
    try:
        table = table_for_diner(table_id=table_id)
    except DomainError as exc:
        return refused(request, exc, base="web/consumer/base.html")
    request.session[SESSION_TABLE] = {"table": table.public_id, "label": table.label,
                                      "store": table.store.public_id}
    return redirect(f"/stores/{table.store.public_id}")


@require_POST
def table_leave(request: HttpRequest) -> HttpResponse:
    raw = request.session.pop(SESSION_TABLE, None)
    store = raw.get("store") if isinstance(raw, dict) else None
    return redirect(f"/stores/{store}" if store else "/")


def _tab_context(request: HttpRequest, table_id: str) -> dict[str, Any]:
    try:
        table = table_for_diner(table_id=table_id)
    except DomainError as exc:
        raise Http404 from exc
    tab = tab_current(table=table, consumer=request.user)  # type: ignore[arg-type]
    return {"table": table, "store": table.store, "tab": tab, "error": None,
            "unpaid_fen": tab_unpaid_fen(tab) if tab else 0,
            "payable": bool(tab and tab.status in (TableTab.Status.OPEN, TableTab.Status.PAYING)
                            and tab_unpaid_fen(tab))}


@consumer_required
@require_GET
def tab_page(request: HttpRequest, table_id: str) -> HttpResponse:
    return render(request, "web/consumer/tab.html", _tab_context(request, table_id))


@consumer_required
@require_POST
def tab_pay(request: HttpRequest, table_id: str) -> HttpResponse:
    """One payment for every unpaid order on the table's tab, then back to the tab."""
    context = _tab_context(request, table_id)
    try:
        if context["tab"] is None:
            raise order_errors.TabNotFound(table_id=table_id)
        payment = payment_create_for_tab(tab_id=context["tab"].public_id,
                                         consumer=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        context["error"] = error_context(exc)
        return render(request, "web/consumer/tab.html", context, status=exc.status)
    return redirect(f"{payment.pay_url}?{urlencode({'return_to': f'/t/{table_id}/tab'})}")


# --- consumer: checkout (called by views_consumer.checkout) --------------------------------

def checkout_fulfilment(request: HttpRequest, store: Store, *,
                        delivery_distance_m: int | None) -> dict[str, Any]:
    """The dine-in table (if scanned here) and the slots of scheduled delivery and pickup,
    by the rule order_place checks (`orders.slots`)."""
    now = timezone.now()

    def offered(fulfilment: str, distance_m: int | None) -> list[datetime]:
        if store.status != Store.Status.OPEN:
            return []
        return slots_offered(now=now, tz=store.timezone, weekly=store.opening_hours,
                             special=store.special_hours,
                             lead=order_lead_minutes(store, fulfilment, distance_m))

    return {"dine_in": dine_in_for(request, store),
            "slots_delivery": offered("delivery", delivery_distance_m),
            "slots_pickup": offered("pickup", None)}


def checkout_scheduled_for(request: HttpRequest, fulfilment: str) -> datetime | None:
    """The slot chosen on the checkout form (none: as soon as possible)."""
    field = {"delivery": "scheduled_delivery", "pickup": "scheduled_pickup"}.get(fulfilment)
    raw = request.POST.get(field, "").strip() if field else ""
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise order_errors.InvalidSlot(reason="unreadable", value=raw[:40]) from exc


def checkout_table_id(request: HttpRequest, store: Store) -> str | None:
    dine_in = dine_in_for(request, store)
    return dine_in["table"] if dine_in else None


def after_dine_in_order(order: Order) -> HttpResponse:
    """A dine-in order goes on the table's tab (paid at the end): show the tab."""
    return redirect(f"/t/{order.table.public_id}/tab")  # type: ignore[union-attr]


# --- merchant console ----------------------------------------------------------------------

def console_fulfilment(store: Store, orders: list[Order]) -> dict[str, Any]:
    """Split the queue: scheduled orders wait in their own list until it is time to prepare
    them (slot minus preparation and the ride); dine-in tabs, grouped by table."""
    now = timezone.now()
    due, later = [], []
    for order in orders:
        prepare_at = order_prepare_at(order)
        if prepare_at is not None and prepare_at > now and order.status in (S.PAID, S.ACCEPTED):
            order.prepare_at = prepare_at  # type: ignore[attr-defined]
            later.append(order)
        else:
            due.append(order)
    later.sort(key=lambda o: o.scheduled_for)
    return {"orders": due, "scheduled": later, "tabs": tabs_for_store(store=store)}


def _tables_context(request: HttpRequest) -> dict[str, Any]:
    from .views_merchant import console_frame

    frame = console_frame(request, "tables")
    store, tables = tables_list(actor=request.user, store_id=frame["store"].public_id)  # type: ignore[arg-type]
    return {**frame, "tables": [(t, request.build_absolute_uri(f"/t/{t.public_id}")) for t in tables],
            "tabs": tabs_for_store(store=store), "error": None, "field_errors": {}, "label": ""}


@merchant_required
@require_http_methods(["GET", "POST"])
def tables_page(request: HttpRequest) -> HttpResponse:
    """The store's tables with printable QR codes (owner/manager add and switch them) and
    the open tabs grouped by table."""
    try:
        context = _tables_context(request)
    except StoreNotFound as exc:
        return refused(request, exc, base="web/merchant/base.html")
    if request.method == "POST":
        store_id = context["store"].public_id
        try:
            if request.POST.get("op") == "toggle":
                table_id = request.POST.get("table_id", "")
                current = next((t for t, _url in context["tables"] if t.public_id == table_id), None)
                if current is None:
                    raise order_errors.TableNotFound(table_id=table_id)
                table_update(actor=request.user, store_id=store_id, table_id=table_id,  # type: ignore[arg-type]
                             is_active=not current.is_active)
            else:
                table_create(actor=request.user, store_id=store_id,  # type: ignore[arg-type]
                             label=request.POST.get("label", ""))
        except DomainError as exc:
            context["error"] = error_context(exc)
            context["label"] = request.POST.get("label", "")[:40]
            if exc.details.get("field") == "label":
                context["field_errors"] = {"label": str(exc.message)}
            return render(request, "web/merchant/tables.html", context, status=status_of(context["error"]))
        return redirect("/m/tables")
    return render(request, "web/merchant/tables.html", context)


@merchant_required
@require_GET
def pickup_search(request: HttpRequest) -> HttpResponse:
    """The console's search box: the store's live orders with the pickup code typed (or
    scanned from the customer's QR code), each with its "Collected" button."""
    from .views_merchant import console_frame

    try:
        frame = console_frame(request, "orders")
    except StoreNotFound as exc:
        return refused(request, exc, base="web/merchant/base.html")
    code = request.GET.get("code", "").strip()[:12]
    orders, error = [], None
    try:
        orders = orders_by_pickup_code(actor=request.user, store_id=frame["store"].public_id,  # type: ignore[arg-type]
                                       code=code)
    except DomainError as exc:
        error = error_context(exc)
    return render(request, "web/merchant/pickup.html",
                  {**frame, "code": code, "found": orders, "error": error}, status=status_of(error))
