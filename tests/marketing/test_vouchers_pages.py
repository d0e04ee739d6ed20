"""Group-buy voucher pages: the store page's deals, a deal page whose Buy leads to the
cashier, /me/vouchers with each code as a QR code, and the /m/vouchers console (look up,
redeem, refusals shown, deals created and paused by a manager, read-only for a cashier)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from linli.marketing.models import Voucher, VoucherDeal, VoucherRedemption
from linli.orders.models import Order
from tests.fixtures import make_staff, make_store, next_phone
from tests.web.helpers import web_password_login, web_sms_login

from .test_vouchers import make_deal, pay

pytestmark = pytest.mark.django_db


def console(store, role: str = "manager") -> Client:
    return web_password_login(make_staff(store, role=role).username, "m")


def buy_on_the_web(deal: VoucherDeal, quantity: int = 1) -> tuple[Client, str]:
    """Log in, open the deal, press Buy: answers the client and the order id (unpaid)."""
    web = web_sms_login(next_phone())
    page = web.get(f"/deals/{deal.public_id}").content.decode()
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    answer = web.post(f"/deals/{deal.public_id}/buy", {"quantity": quantity, "key": key})
    assert answer.status_code == 302 and answer["Location"].endswith("/pay"), answer.content
    again = web.post(f"/deals/{deal.public_id}/buy", {"quantity": quantity, "key": key})
    assert again["Location"] == answer["Location"]  # a double tap is one order
    return web, answer["Location"].split("/")[2]


def test_store_page_shows_deals_and_buying_leads_to_the_cashier_then_the_qr_code():
    store = make_store()
    deal = make_deal(store)
    make_deal(store, title="暂停的套餐", status="paused")
    html = Client().get(f"/stores/{store.public_id}").content.decode()
    assert 'data-testid="store-deals"' in html and "双人套餐" in html and "暂停的套餐" not in html
    deal_page = Client().get(f"/deals/{deal.public_id}").content.decode()
    assert "88.00" in deal_page and "128.00" in deal_page

    web, order_id = buy_on_the_web(deal, quantity=2)
    assert web.get(f"/orders/{order_id}/pay").status_code == 200
    from tests.fixtures import token_api

    order = Order.objects.get(public_id=order_id)
    pay(token_api(order.consumer), order_id)
    assert web.get(f"/orders/{order_id}").status_code == 200  # the order's own page renders a voucher order
    assert web.get("/orders").status_code == 200
    page = web.get("/me/vouchers").content.decode()
    assert page.count('data-testid="voucher"') == 2 and page.count("<svg") == 2
    digits = re.findall(r'data-testid="voucher-digits">([\d ]+)<', page)
    assert {d.replace(" ", "") for d in digits} == set(Voucher.objects.values_list("code", flat=True))


def test_buy_refusal_is_shown_on_the_deal_page_with_nothing_written():
    deal = make_deal(make_store(), total_quota=1)
    VoucherDeal.objects.filter(pk=deal.pk).update(sold_count=1)
    web = web_sms_login(next_phone())
    answer = web.post(f"/deals/{deal.public_id}/buy", {"quantity": 1, "key": "k"})
    assert answer.status_code == 409 and 'data-code="voucher_sold_out"' in answer.content.decode()
    assert not Order.objects.exists()


def test_console_looks_up_and_redeems_and_shows_todays_redemptions():
    store = make_store()
    deal = make_deal(store, uses_per_voucher=3)
    web, order_id = buy_on_the_web(deal)
    from tests.fixtures import token_api

    pay(token_api(Order.objects.get(public_id=order_id).consumer), order_id)
    voucher = Voucher.objects.get()
    till = console(store, role="cashier")
    spaced = f"{voucher.code[:4]} {voucher.code[4:8]} {voucher.code[8:]}"
    page = till.get("/m/vouchers", {"code": spaced}).content.decode()
    assert 'data-testid="voucher-found"' in page and 'data-testid="redeem-form"' in page
    assert re.findall(r'<option value="(\d)">', page) == ["1", "2", "3"]  # up to the uses left
    key = re.search(r'name="key" value="([0-9a-f]+)"', page).group(1)
    done = till.post("/m/vouchers/redeem", {"code": voucher.code, "uses": 2, "key": key})
    assert done.status_code == 302
    again = till.post("/m/vouchers/redeem", {"code": voucher.code, "uses": 2, "key": key})
    assert again.status_code == 302
    voucher.refresh_from_db()
    assert voucher.uses_left == 1 and VoucherRedemption.objects.count() == 1
    listed = till.get("/m/vouchers").content.decode()
    assert listed.count('data-testid="redemption"') == 1
    too_many = till.post("/m/vouchers/redeem", {"code": voucher.code, "uses": 2, "key": "other"})
    assert too_many.status_code == 409 and 'data-code="voucher_uses_exceeded"' in too_many.content.decode()
    unknown = till.get("/m/vouchers", {"code": "123456789012"})
    assert unknown.status_code == 404 and 'data-code="voucher_not_found"' in unknown.content.decode()
    assert 'data-testid="add-deal-form"' not in listed  # a cashier does not manage deals
    assert till.get("/m/").status_code == 200  # the order console with a voucher order in the day


def test_manager_creates_and_pauses_a_deal_from_the_console_bad_terms_inline():
    store = make_store()
    manager = console(store)
    bad = manager.post("/m/vouchers/deals/new", {"title": "单人餐", "price": "39", "worth": "30", "days": "30",
                                                  "uses": "1", "refund_anytime": "on"})
    assert bad.status_code == 422 and 'data-field="deal_worth"' in bad.content.decode()
    assert not VoucherDeal.objects.exists()
    made = manager.post("/m/vouchers/deals/new", {"title": "单人餐", "price": "39", "worth": "58.5", "days": "30",
                                                   "uses": "1", "refund_anytime": "on"})
    assert made.status_code == 302
    deal = VoucherDeal.objects.get()
    assert (deal.price_fen, deal.worth_fen, deal.refund_anytime, deal.refund_unused_on_expiry) == \
        (3900, 5850, True, False)
    assert manager.post(f"/m/vouchers/deals/{deal.public_id}/pause").status_code == 302
    assert VoucherDeal.objects.get().status == "paused"
    cashier = console(store, role="cashier")
    assert cashier.post(f"/m/vouchers/deals/{deal.public_id}/resume").status_code == 403


def test_back_office_lists_deals_vouchers_and_redemptions_and_freezes_sold_terms():
    from django.contrib.auth.models import Permission

    from tests.fixtures import token_api
    from tests.ops.helpers import operator_user, staff_client

    store = make_store()
    deal = make_deal(store, uses_per_voucher=2)
    _web, order_id = buy_on_the_web(deal)
    pay(token_api(Order.objects.get(public_id=order_id).consumer), order_id)
    voucher = Voucher.objects.get()
    user = operator_user()
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="marketing"))
    ops = staff_client(user)
    for path in ("voucherdeal", "voucher", "voucherredemption"):
        assert ops.get(f"/ops/marketing/{path}/").status_code == 200, path
    change = ops.get(f"/ops/marketing/voucherdeal/{deal.pk}/change/").content.decode()
    assert 'name="price_fen"' not in change and 'name="title"' in change  # sold: price frozen
    shown = ops.get(f"/ops/marketing/voucher/{voucher.pk}/change/").content.decode()
    assert voucher.code not in shown  # the consumer's code is not shown to operators
