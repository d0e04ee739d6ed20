"""One world for the authorisation matrix: a merchant ("this tenant") with a store, its
owner, manager and cashier, a consumer who owns one object of every kind at that store, a
rider with a task there, and their counterparts outside (another consumer, the owner of
another merchant, another rider), support and an operator.

Built through the real API and services (tests/fixtures.py factories), so it keeps working
when the models underneath change. `ids` maps a path parameter to the id of "this" tenant's
object; routes whose parameter means different things get their own value in the test.
"""

from __future__ import annotations

import io
import itertools
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from linli.accounts.models import PlatformRole, User
from linli.core.access import Caller
from linli.delivery.models import DeliveryTask, Rider
from linli.merchants.models import Product
from linli.orders.models import Order
from tests.fixtures import (
    PASSWORD,
    PEOPLES_SQUARE,
    Api,
    delivery_address,
    make_product,
    make_rider,
    make_staff,
    make_store,
    next_phone,
    token_api,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
ROLES = ("anonymous", "consumer", "other_consumer", "owner", "manager", "cashier", "other_staff",
         "rider", "other_rider", "support", "operator")
_keys = itertools.count(1)


def png(name: str = "photo.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 80, 40)).save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def _ok(answer: Any, *codes: int) -> dict[str, Any]:
    assert answer.status_code in (codes or (200, 201)), (answer.status_code, answer.content[:500])
    try:
        return answer.json()
    except ValueError:
        return {}


def _send(api: Api, method: str, path: str, body: Any) -> Any:
    import json

    return getattr(api.client, method)(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                                       headers=api._headers(None))


def _consumer(name: str) -> User:
    phone = next_phone()
    return User.objects.create_user(username=phone, phone=phone, display_name=name, password=PASSWORD)


class World:
    def __init__(self) -> None:
        self.users: dict[str, User | None] = {"anonymous": None}
        self.ids: dict[str, str] = {}
        self.missing: set[str] = set()  # path parameters no object could be made for
        self._build()
        self.apis = {role: (token_api(u) if u is not None else Api()) for role, u in self.users.items()}
        for api in self.apis.values():
            api.client.raise_request_exception = False  # a 500 is listed with the others, not raised
        self._webs: dict[str, Client] = {}

    # --- callers ---------------------------------------------------------------------------
    def caller(self, role: str) -> Caller:
        return {
            "anonymous": Caller(),
            "consumer": Caller(signed_in=True, owns_object=True),
            "other_consumer": Caller(signed_in=True),
            "owner": Caller(signed_in=True, member_role="owner", merchant_role="owner"),
            "manager": Caller(signed_in=True, member_role="manager", merchant_role="manager"),
            "cashier": Caller(signed_in=True, member_role="cashier", merchant_role="cashier"),
            "other_staff": Caller(signed_in=True, merchant_role="owner"),
            "rider": Caller(signed_in=True, rider=True, task_rider=True),
            "other_rider": Caller(signed_in=True, rider=True),
            "support": Caller(signed_in=True, platform_role="support"),
            "operator": Caller(signed_in=True, platform_role="operator"),
        }[role]

    def web(self, role: str) -> Client:
        if role not in self._webs:
            client = Client(raise_request_exception=False)
            user = self.users[role]
            if user is not None:
                client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
            self._webs[role] = client
        return self._webs[role]

    # --- the objects -----------------------------------------------------------------------
    def _build(self) -> None:
        lat, lng = PEOPLES_SQUARE
        u = self.users
        self.store = make_store(name="邻里小馆")
        u["owner"] = self.store.merchant.members.get(role="owner").user
        u["manager"] = make_staff(self.store, role="manager")
        u["cashier"] = make_staff(self.store, role="cashier")
        self.product = make_product(self.store, name="宫保鸡丁", price_fen=3000, stock=500)
        self.other_store = make_store(name="别家小馆", lat=lat + 0.01)
        u["other_staff"] = self.other_store.merchant.members.get(role="owner").user
        make_product(self.other_store, name="鱼香肉丝")
        u["consumer"] = _consumer("张三")
        u["other_consumer"] = _consumer("李四")
        u["rider"] = make_rider(lat=lat, lng=lng)
        u["other_rider"] = make_rider(lat=lat, lng=lng, online=False)
        u["support"] = User.objects.create_user(username=f"support-{next_phone()}", password=PASSWORD,
                                                platform_role=PlatformRole.SUPPORT, is_staff=True)
        u["operator"] = User.objects.create_user(username=f"ops-{next_phone()}", password=PASSWORD,
                                                 platform_role=PlatformRole.OPERATOR, is_staff=True)
        ids = self.ids
        ids["store_id"] = self.store.public_id
        ids["merchant_id"] = self.store.merchant.public_id
        ids["product_id"] = self.product.public_id
        ids["category_id"] = self.product.menu_category.public_id
        ids["user_id"] = u["cashier"].public_id
        ids["rider_id"] = u["rider"].rider_profile.public_id
        ids["provider"] = "sandbox"
        ids["fmt"] = "csv"
        ids["today"] = timezone.now().astimezone(SHANGHAI).date().isoformat()
        owner, consumer = token_api(u["owner"]), token_api(u["consumer"])
        self._orders(owner, consumer)
        self._consumer_things(consumer)
        self._merchant_things(owner, consumer)
        self._bookings(owner, consumer)
        self._tables(owner, consumer)
        self._ops_things(consumer)

    def _pay(self, consumer: Api, order_id: str) -> None:
        from tests.payments.helpers import buyer_pays_at_sandbox

        payment = _ok(consumer.post(f"/orders/{order_id}/payments", {"provider": "sandbox"}))
        buyer_pays_at_sandbox(payment["pay_url"])

    def _order(self, consumer: Api, fulfilment: str = "delivery") -> str:
        body: dict[str, Any] = {"store_id": self.store.public_id, "fulfilment": fulfilment,
                                "items": [{"product_id": self.product.public_id, "quantity": 1}]}
        if fulfilment == "delivery":
            body["address"] = delivery_address()
        return _ok(consumer.post("/orders", body, headers={"Idempotency-Key": f"authz-{next(_keys)}"}))["id"]

    def _orders(self, owner: Api, consumer: Api) -> None:
        from linli.orders.services import order_act

        # an order being delivered: paid, accepted, a task for our rider
        order_id = self._order(consumer)
        self._pay(consumer, order_id)
        order_act(order_id=order_id, actor=self.users["owner"], action="accept")
        self.ids["order_id"] = order_id
        self.ids["payment_id"] = Order.objects.get(public_id=order_id).payments.first().public_id
        task = DeliveryTask.objects.filter(order__public_id=order_id).first()
        if task is None or task.rider is None or task.rider.user_id != self.users["rider"].pk:
            rider = Rider.objects.get(user=self.users["rider"])
            task = task or DeliveryTask.objects.create(
                order=Order.objects.get(public_id=order_id), city_code=self.store.city_code,
                pickup_lat=self.store.lat, pickup_lng=self.store.lng, dropoff_lat=31.2330, dropoff_lng=121.4760)
            DeliveryTask.objects.filter(pk=task.pk).update(rider=rider, status="assigned")
        self.ids["task_id"] = task.public_id
        # a completed order to review and complain about
        done_id = self._order(consumer, fulfilment="pickup")
        self._pay(consumer, done_id)
        done = Order.objects.get(public_id=done_id)
        for action in ("accept", "prepare", "ready"):
            order_act(order_id=done_id, actor=self.users["owner"], action=action)
        order_act(order_id=done_id, actor=self.users["owner"], action="collect", pickup_code=done.pickup_code)
        self.ids["done_order_id"] = done_id

    def _consumer_things(self, consumer: Api) -> None:
        ids = self.ids
        ids["address_id"] = _ok(consumer.post("/me/addresses", {
            "contact_name": "张三", "contact_phone": "13912345678", "text": "黄浦区人民大道 200 号",
            "lat": 31.2330, "lng": 121.4760}))["id"]
        ids["application_id"] = _ok(consumer.post("/merchant-applications", {}))["id"]
        topup = _ok(consumer.post("/me/wallet/topups", {"amount_fen": 1000}))
        ids["topup_id"] = topup["id"]
        ids["open_trade_no"] = topup["payment"]["pay_url"].rsplit("/", 1)[-1]
        review = _ok(consumer.post(f"/orders/{ids['done_order_id']}/review", {
            "stars": 5, "text": "好吃"}), 200, 201)
        ids["review_id"] = review.get("id", "")
        request = _ok(consumer.post(f"/orders/{ids['done_order_id']}/aftersales", {
            "kind": "refund_only", "reason": "quality", "description": "太咸"},
            headers={"Idempotency-Key": f"authz-{next(_keys)}"}))
        ids["request_id"] = request["id"]
        ids["complaint_id"] = _ok(consumer.post("/complaints", {
            "subject_kind": "merchant", "category": "service", "description": "态度差",
            "store_id": self.store.public_id}))["id"]
        from linli.notifications.models import Message

        message = Message.objects.filter(user=self.users["consumer"]).first()
        if message is None:
            from linli.notifications.services import notify

            notify(self.users["consumer"], "system", "你好")
            message = Message.objects.filter(user=self.users["consumer"]).first()
        ids["message_id"] = message.public_id

    def _merchant_things(self, owner: Api, consumer: Api) -> None:
        from linli.marketing.models import CouponTemplate, VoucherDeal
        from tests.marketing.engagement_helpers import make_lottery

        ids, sid = self.ids, self.store.public_id
        template = CouponTemplate(name="满30减5", kind="amount_off", amount_fen=500, threshold_fen=3000,
                                  valid_days=7, total_quota=100, per_user_limit=1, store=self.store,
                                  scope=CouponTemplate.Scope.STORE)
        template.full_clean()
        template.save()
        ids["template_id"] = template.public_id
        from tests.marketing.helpers import make_promotion

        ids["promotion_id"] = make_promotion(self.store).public_id
        deal = VoucherDeal(store=self.store, title="双人套餐", description="两荤一素", price_fen=8800,
                           worth_fen=12800, uses_per_voucher=1, valid_days=30)
        deal.full_clean()
        deal.save()
        ids["deal_id"] = deal.public_id
        bought = _ok(consumer.post(f"/voucher-deals/{deal.public_id}/buy", {"quantity": 1},
                                   headers={"Idempotency-Key": f"authz-{next(_keys)}"}))
        self._pay(consumer, bought["order_id"])
        mine = consumer.get("/me/vouchers").json()["items"]
        ids["voucher_id"] = mine[0]["id"]
        ids["voucher_code"] = mine[0]["code"]
        ids["lottery_id"] = make_lottery(prizes=[]).public_id
        ids["table_id"] = _ok(owner.post(f"/merchant/stores/{sid}/tables", {"label": "A1"}))["id"]
        dine_in = _ok(consumer.post("/orders", {
            "store_id": sid, "fulfilment": "dine_in", "table_id": ids["table_id"],
            "items": [{"product_id": self.product.public_id, "quantity": 1}]},
            headers={"Idempotency-Key": f"authz-{next(_keys)}"}))
        if dine_in.get("tab_id"):
            ids["tab_id"] = dine_in["tab_id"]
        ids["photo_id"] = _ok(owner.client.post(f"/api/v1/merchant/stores/{sid}/photos", {"file": png()},
                                                headers=owner._headers(None)))["id"]
        counter = _ok(owner.post(f"/pos/stores/{sid}/counters", {"name": "1号收银台"}))["id"]
        ids["counter_id"] = counter
        sale = _ok(owner.post(f"/pos/stores/{sid}/sales", {
            "counter_id": counter, "client_sale_id": f"s-{next(_keys)}", "payment_method": "cash",
            "lines": [{"product_id": self.product.public_id, "quantity": 1}]}))
        ids["sale_id"] = sale["id"]
        from linli.pos.ean import ean13_check_digit

        barcode = "690000000001"
        barcode += ean13_check_digit(barcode)
        _ok(owner.post(f"/pos/stores/{sid}/barcodes", {"product_id": self.product.public_id, "code": barcode}))
        _ok(owner.post("/pos/sync", {"counter_id": counter, "sales": [{  # more than the stock: a conflict
            "client_sale_id": f"off-{next(_keys)}", "payment_method": "cash", "total_fen": 3000 * 10000,
            "lines": [{"barcode": barcode, "quantity": 10000, "unit_price_fen": 3000}]}]}))
        conflicts = _ok(owner.get(f"/pos/stores/{sid}/conflicts"))
        if conflicts:
            ids["conflict_id"] = conflicts[0]["id"]
        # a second store of the merchant, for a stock transfer between them
        branch = make_store(merchant=self.store.merchant, name="邻里小馆二店")
        ids["branch_id"] = ids["to_store"] = branch.public_id
        ids["from_store"] = sid
        twin = make_product(branch, name="宫保鸡丁")
        for product, store in ((self.product, self.store), (twin, branch)):
            _ok(_send(owner, "put", f"/merchant/stock/{product.public_id}/sku", {"sku": "GBJD"}))
        transfer = _ok(owner.post("/merchant/transfers", {
            "from_store": sid, "to_store": branch.public_id,
            "lines": [{"product_id": self.product.public_id, "quantity": 1}]},
            headers={"Idempotency-Key": f"authz-{next(_keys)}"}))
        ids["transfer_id"] = transfer["id"]
        from linli.inventory.models import StockAlert

        _ok(_send(owner, "put", f"/merchant/stock/{self.product.public_id}/threshold", {"threshold": 10000}))
        alert = StockAlert.objects.filter(product=self.product).first()
        if alert is not None:
            ids["alert_id"] = alert.public_id

    def _bookings(self, owner: Api, consumer: Api) -> None:
        from linli.bookings.models import BookableService, Resource
        from linli.merchants.models import MenuCategory

        section, _ = MenuCategory.objects.get_or_create(store=self.store, name="服务")
        service = Product.objects.create(store=self.store, menu_category=section, name="按摩", price_fen=8800,
                                         kind=Product.Kind.SERVICE, duration_minutes=60)
        bookable = BookableService.objects.create(product=service, store=self.store)
        resource = Resource.objects.create(store=self.store, name="Tony")
        self.ids["resource_id"] = resource.public_id
        self.ids["service_product_id"] = service.public_id
        day = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=2)
        start = datetime.combine(day, time(15, 0), tzinfo=SHANGHAI)
        booking = _ok(consumer.post("/bookings", {"store_id": self.store.public_id,
                                                  "service_id": bookable.product.public_id, "start": start.isoformat()},
                                    headers={"Idempotency-Key": f"authz-{next(_keys)}"}))
        self.ids["booking_id"] = booking["id"]

    def _tables(self, owner: Api, consumer: Api) -> None:
        sid = self.store.public_id
        _ok(_send(owner, "put", f"/merchant/stores/{sid}/table-setup", {"takes_reservations": True,
                                                                           "takes_queue": True}))
        self.ids["type_id"] = _ok(owner.post(f"/merchant/stores/{sid}/table-types",
                                             {"name": "四人桌", "seats": 4, "count": 2}))["id"]
        day = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=1)
        start = datetime.combine(day, time(18, 0), tzinfo=SHANGHAI)
        self.ids["reservation_id"] = _ok(consumer.post(f"/stores/{sid}/reservations", {
            "party_size": 2, "starts_at": start.isoformat()},
            headers={"Idempotency-Key": f"authz-{next(_keys)}"}))["id"]
        self.ids["queue_ticket_id"] = _ok(consumer.post(f"/stores/{sid}/queue", {"party_size": 2}))["id"]

    def _ops_things(self, consumer: Api) -> None:
        operator = token_api(self.users["operator"])
        from linli.finance.models import MerchantHold, Payout

        later = (timezone.now() + timedelta(days=30)).astimezone(SHANGHAI).date().isoformat()
        settled = operator.post("/finance/settlement-runs", {"day": later})  # sweeps the completed order first
        if settled.status_code == 201:
            found = Payout.objects.filter(merchant=self.store.merchant).first()
            if found is not None:
                self.ids["payout_id"] = found.public_id
        hold = _ok(operator.post("/finance/holds", {"merchant_id": self.store.merchant.public_id,
                                                     "reason": "other", "note": "核查"}))
        self.ids["hold_id"] = hold["id"]
        assert MerchantHold.objects.filter(public_id=hold["id"]).exists()
        first_operator = token_api(User.objects.create_user(username=f"ops-{next_phone()}",
                                                            platform_role=PlatformRole.OPERATOR))
        adjustment = _ok(first_operator.post("/finance/adjustments", {  # above the threshold: awaits a second
            "merchant_id": self.store.merchant.public_id, "amount_fen": 10_000_00, "reason": "补偿"}))
        self.ids["adjustment_id"] = adjustment["id"]
        campaign = _ok(operator.post("/campaigns", {
            "name": "老客召回", "segment_rule": {"match": "all", "conditions": [{"kind": "dormant", "days": 30}]},
            "instrument": "lottery", "lottery_id": self.ids["lottery_id"], "message_title": "回来看看",
            "message_body": "送你一次抽奖"}))
        self.ids["campaign_id"] = campaign["id"]
