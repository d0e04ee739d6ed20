"""Personal data at rest (issue 14): what the services and the API write is encrypted in
the database (a dump shows no phone, address, ID or bank number), lookups by phone go
through the keyed hash, keys rotate, and phones are masked in logs."""

from __future__ import annotations

import base64
import io
import logging
import os
import subprocess

import pytest
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.db.models import TextField
from django.db.models.functions import Cast

from linli.accounts.data_rights import account_delete, data_export
from linli.accounts.models import Address, User, phone_hash
from linli.core.crypto import token_kid
from linli.core.field_keys import encrypted_models
from linli.core.logmask import PhoneMaskFilter, phones_mask
from linli.delivery.models import Rider
from linli.merchants.models import MerchantApplication
from linli.orders.models import Order
from tests.fixtures import make_product, make_store, sms_login, token_api
from tests.merchants.test_onboarding import FULL as APPLICATION

CONSUMER, CONTACT, ORDER_CONTACT, RIDER, APPLICANT = (
    "13911110001", "13922220002", "13933330003", "13944440004", "13955550005")
ADDRESS_LINE, ADDRESS_DETAIL, ORDER_LINE = "黄浦区隐私路 88 号", "7 号楼 1203 室", "静安区保密街 99 号"
ID_NUMBER = "11010519491231002X"
BANK_ACCOUNT = "6222021234567891234"  # FULL sends it as "6222 0212 3456 7891 234"


def _dump() -> str:
    """The whole database as text, the way a stolen backup would read."""
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    db = connection.settings_dict
    env = {**os.environ, **({"PGPASSWORD": str(db["PASSWORD"])} if db.get("PASSWORD") else {})}
    done = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", "--host", str(db.get("HOST") or "127.0.0.1"),
         "--port", str(db.get("PORT") or 5432), "--username", str(db.get("USER") or "postgres"),
         "--no-password", str(db["NAME"])], env=env, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.mark.django_db(transaction=True)
def test_a_database_dump_shows_no_phone_address_id_or_bank_number():
    store = make_store()
    product = make_product(store)
    consumer, _ = sms_login(CONSUMER)
    saved = consumer.post("/me/addresses", {
        "label": "家", "contact_name": "隐私甲", "contact_phone": CONTACT, "text": ADDRESS_LINE,
        "detail": ADDRESS_DETAIL, "lat": 31.2330, "lng": 121.4760})
    assert saved.status_code == 201, saved.content
    placed = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery",
        "address": {"text": ORDER_LINE, "lat": 31.2330, "lng": 121.4760, "contact_name": "隐私乙",
                    "contact_phone": ORDER_CONTACT},
        "items": [{"product_id": product.public_id, "quantity": 1}]}, headers={"Idempotency-Key": "dump-1"})
    assert placed.status_code == 201, placed.content
    assert placed.json()["address"]["contact_phone"] == f"+86{ORDER_CONTACT}"  # the buyer sees it whole
    rider, _ = sms_login(RIDER)
    applied = rider.post("/rider/apply", {"city_code": "shanghai", "name": "王师傅", "id_number": ID_NUMBER,
                                          "vehicle": "scooter", "plate": "沪A12345"})
    assert applied.status_code == 201, applied.content
    applicant, _ = sms_login(APPLICANT)
    application = applicant.post("/merchant-applications", APPLICATION)
    assert application.status_code == 201, application.content
    assert application.json()["bank_account_masked"].endswith("1234")

    # The application reads the values back whole...
    user = User.objects.get(phone_hash=phone_hash(f"+86{CONSUMER}"))
    assert user.phone == f"+86{CONSUMER}" and CONSUMER not in user.username
    assert Address.objects.get(user=user).text == ADDRESS_LINE
    assert Order.objects.get(public_id=placed.json()["id"]).address["text"] == ORDER_LINE
    assert Rider.objects.get().id_number == ID_NUMBER
    assert MerchantApplication.objects.get().bank_account_number == BANK_ACCOUNT
    # ...but the database holds none of them.
    dump = _dump()
    assert "enc1:" in dump
    for secret in (CONSUMER, CONTACT, ORDER_CONTACT, RIDER, APPLICANT, "13912345678",  # FULL's contact
                   ADDRESS_LINE, ADDRESS_DETAIL, ORDER_LINE, "隐私甲", "隐私乙", ID_NUMBER, BANK_ACCOUNT):
        assert secret not in dump, f"{secret} is in the dump"


@pytest.mark.django_db
def test_lookups_by_phone_use_the_keyed_hash():
    user = User.objects.create_user(username="someone", phone="+8613911110001")
    assert user.phone_hash == phone_hash("+8613911110001")
    assert User.objects.get(phone_hash=phone_hash("+8613911110001")) == user
    assert User.objects.get(phone="+8613911110001") == user  # equality compares the hash
    assert not User.objects.filter(phone="+8613911110002").exists()
    user.phone = "+8613911110002"
    user.save(update_fields=["phone"])  # the hash follows the phone even with update_fields
    assert User.objects.get(phone_hash=phone_hash("+8613911110002")) == user
    with pytest.raises(FieldError):  # ciphertext cannot be searched
        list(User.objects.filter(phone__contains="1391111"))
    with pytest.raises(FieldError):  # an encrypted column without a hash refuses equality
        list(Address.objects.filter(text="黄浦区隐私路 88 号"))


@pytest.mark.django_db
def test_an_sms_sign_up_gets_an_opaque_username():
    sms_login("13911110001")
    user = User.objects.get(phone="+8613911110001")
    assert user.username.startswith("u_") and "13911110001" not in user.username


@pytest.mark.django_db
def test_deleting_the_account_redacts_the_order_address_snapshots():
    store = make_store()
    product = make_product(store)
    consumer, _ = sms_login(CONSUMER)
    placed = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery",
        "address": {"text": ORDER_LINE, "lat": 31.233049, "lng": 121.476051, "contact_name": "隐私乙",
                    "contact_phone": ORDER_CONTACT},
        "items": [{"product_id": product.public_id, "quantity": 1}]}, headers={"Idempotency-Key": "del-1"})
    assert placed.status_code == 201, placed.content
    Order.objects.filter(public_id=placed.json()["id"]).update(status="cancelled")
    user = User.objects.get(phone=f"+86{CONSUMER}")
    export = data_export(user=user)  # the consumer's own copy holds the values decrypted
    assert export["profile"]["phone"] == f"+86{CONSUMER}" and "phone_hash" not in export["profile"]
    assert export["orders"][0]["address"]["contact_phone"] == f"+86{ORDER_CONTACT}"
    account_delete(user=user, confirm="DELETE")
    address = Order.objects.get(public_id=placed.json()["id"]).address
    assert address == {"text": "", "contact_name": "", "contact_phone": "", "redacted": True,
                       "lat": 31.23, "lng": 121.48}
    assert User.objects.get(pk=user.pk).phone is None and not User.objects.filter(phone_hash=phone_hash(
        f"+86{CONSUMER}")).exists()


@pytest.mark.django_db
def test_the_merchant_sees_the_delivery_phone_whole_only_while_the_order_runs():
    store = make_store()
    product = make_product(store)
    consumer, _ = sms_login(CONSUMER)
    placed = consumer.post("/orders", {
        "store_id": store.public_id, "fulfilment": "delivery",
        "address": {"text": ORDER_LINE, "lat": 31.2330, "lng": 121.4760, "contact_name": "隐私乙",
                    "contact_phone": ORDER_CONTACT},
        "items": [{"product_id": product.public_id, "quantity": 1}]}, headers={"Idempotency-Key": "m-1"})
    order_id = placed.json()["id"]
    merchant = token_api(store.merchant.members.get(role="owner").user)
    assert merchant.get(f"/orders/{order_id}").json()["address"]["contact_phone"] == f"+86{ORDER_CONTACT}"
    Order.objects.filter(public_id=order_id).update(status="completed")
    assert merchant.get(f"/orders/{order_id}").json()["address"]["contact_phone"] == "+86139****0003"
    assert consumer.get(f"/orders/{order_id}").json()["address"]["contact_phone"] == f"+86{ORDER_CONTACT}"


@pytest.mark.django_db
def test_the_rider_sees_the_consumer_phone_masked_and_only_during_the_task():
    from linli.delivery.api import task_out
    from linli.delivery.models import DeliveryTask
    from tests.delivery.test_rider_flow import _accept, _order
    from tests.fixtures import make_rider, make_staff

    store = make_store()
    rider = make_rider(lat=31.2310, lng=121.4740)
    order, _ = _order(make_product(store))
    task = _accept(order, make_staff(store))
    answer = token_api(rider).get("/rider/tasks")
    [listed] = answer.json()
    assert listed["dropoff_phone_masked"] == "+86139****5678"
    assert "13912345678" not in answer.content.decode()
    DeliveryTask.objects.filter(pk=task.pk).update(status="delivered")
    assert task_out(DeliveryTask.objects.get(pk=task.pk))["dropoff_phone_masked"] is None


def _key(seed: int) -> str:
    return base64.b64encode(bytes([seed]) * 32).decode()


def _stored_kids() -> set[str | None]:
    kids: set[str | None] = set()
    for model, names in encrypted_models():
        raw = {f"_{n}": Cast(n, output_field=TextField()) for n in names}
        for values in model._default_manager.annotate(**raw).values_list(*raw):
            kids |= {token_kid(v) for v in values if v}
    return kids


@pytest.mark.django_db
def test_rotating_keys_rewrites_every_value_and_frees_the_old_key(settings):
    settings.LINLI_FIELD_KEYS = f"a:{_key(1)}"
    user = User.objects.create_user(username="rotating", phone="+8613911110001")
    Address.objects.create(user=user, contact_name="隐私甲", contact_phone="+8613922220002",
                           text="黄浦区隐私路 88 号", detail="", lat=31.23, lng=121.47, located_by="device")
    assert _stored_kids() == {"a"}

    settings.LINLI_FIELD_KEYS = f"b:{_key(2)},a:{_key(1)}"
    out = io.StringIO()
    call_command("rotate-field-keys", "--batch-size", "1", stdout=out)
    assert "2 row(s) re-encrypted with key 'b'" in out.getvalue()
    assert _stored_kids() == {"b"}
    again = io.StringIO()
    call_command("rotate-field-keys", stdout=again)  # idempotent: nothing left to do
    assert "nothing left" in again.getvalue()

    settings.LINLI_FIELD_KEYS = f"b:{_key(2)}"  # the old key is gone; everything still reads
    address = Address.objects.get(user__phone_hash=phone_hash("+8613911110001"))
    assert (address.contact_phone, address.text) == ("+8613922220002", "黄浦区隐私路 88 号")
    assert User.objects.get(pk=user.pk).phone == "+8613911110001"


@pytest.mark.django_db
def test_rotation_counts_rows_and_a_dry_run_changes_nothing(settings):
    settings.LINLI_FIELD_KEYS = f"a:{_key(1)}"
    for n in range(3):
        User.objects.create_user(username=f"r{n}", phone=f"+861391111000{n}")
    settings.LINLI_FIELD_KEYS = f"b:{_key(2)},a:{_key(1)}"
    dry = io.StringIO()
    call_command("rotate-field-keys", "--dry-run", stdout=dry)
    assert "accounts.User: 3 row(s)" in dry.getvalue() and _stored_kids() == {"a"}
    out = io.StringIO()
    call_command("rotate-field-keys", stdout=out)
    assert "3 row(s) re-encrypted with key 'b'" in out.getvalue() and _stored_kids() == {"b"}


def test_log_lines_show_phones_masked():
    assert phones_mask("SMS to +8613800138000: code 123456") == "SMS to +86138****8000: code 123456"
    assert phones_mask("phone=13800138000 ok") == "phone=138****8000 ok"
    assert phones_mask("trade 420000123456789012345678 ord_01jx13800138000") == \
        "trade 420000123456789012345678 ord_01jx13800138000"
    record = logging.LogRecord("linli", logging.INFO, __file__, 1, "login by %s", ("+8613800138000",), None)
    assert PhoneMaskFilter().filter(record) and record.getMessage() == "login by +86138****8000"
