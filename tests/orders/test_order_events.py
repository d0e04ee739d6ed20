"""`orders.events.order_changed`: sent after commit, never for a rolled-back change, and a
failing receiver neither breaks the order nor silences the others."""

from __future__ import annotations

import pytest
from django.db import transaction

from linli.orders.events import order_changed
from linli.orders.models import Order
from linli.orders.services import AddressInput, LineInput, order_place, order_transition_as
from tests.fixtures import delivery_address, next_phone

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    seen: list[tuple[str, str]] = []

    def record(sender, order, **kwargs):
        seen.append((order.public_id, order.status))

    def explode(sender, order, **kwargs):
        raise RuntimeError("a broken subscriber")

    order_changed.connect(explode, dispatch_uid="test.explode")
    order_changed.connect(record, dispatch_uid="test.record")
    yield seen
    order_changed.disconnect(dispatch_uid="test.explode")
    order_changed.disconnect(dispatch_uid="test.record")


def _place(product, key: str):
    from linli.accounts.models import User

    consumer = User.objects.create_user(username=next_phone())
    return order_place(consumer=consumer, store_id=product.store.public_id,
                       lines=[LineInput(product_id=product.public_id, quantity=1)],
                       fulfilment="delivery", address=AddressInput(**delivery_address()),
                       idempotency_key=key).order


def test_sent_after_commit_and_a_failing_receiver_is_logged(product, heard, caplog,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        order = _place(product, "ev-1")
        assert heard == []  # not before the commit
    assert heard == [(order.public_id, "pending_payment")]
    assert "a broken subscriber" in caplog.text or "order_changed receiver" in caplog.text
    with django_capture_on_commit_callbacks(execute=True):
        order_transition_as(order=order, action="pay", actor=None, role="system")
    assert heard[-1] == (order.public_id, "paid")
    assert Order.objects.get(pk=order.pk).status == "paid"


def test_nothing_is_announced_for_a_rolled_back_change(product, heard,
                                                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                _place(product, "ev-2")
                raise RuntimeError("abort")
        except RuntimeError:
            pass
    assert heard == [] and callbacks == [] and not Order.objects.exists()
