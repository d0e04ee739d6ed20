"""One event notifies a user once: the same dedupe key sent again (in order, or at the same
instant from two processes on PostgreSQL) answers the first message and sends nothing."""

from __future__ import annotations

import pytest

from linli.notifications.models import ChannelDelivery, Message
from linli.notifications.services import notify, notify_event
from tests.marketing.engagement_helpers import make_user
from tests.threads import run_concurrently

from .helpers import sent


@pytest.mark.django_db
def test_the_same_event_twice_is_one_message(push_outbox):
    user = make_user()
    first = sent(user=user, kind="order", title="已接单", dedupe_key="order:ord_1:accepted")
    again = sent(user=user, kind="order", title="已接单", dedupe_key="order:ord_1:accepted")
    assert first.delivered and (again.delivered, again.reason) == (False, "duplicate")
    assert again.message == first.message
    assert Message.objects.filter(user=user).count() == 1 and len(push_outbox) == 1
    # another user, or another event of the same order, is news
    assert sent(user=make_user(), kind="order", title="已接单", dedupe_key="order:ord_1:accepted").delivered
    assert sent(user=user, kind="order", title="已送达", dedupe_key="order:ord_1:delivered").delivered
    assert sent(user=user, kind="order", title="无键").delivered and sent(user=user, kind="order", title="无键").delivered


@pytest.mark.django_db
def test_a_duplicate_inside_the_callers_transaction_leaves_it_usable():
    from django.db import transaction

    user = make_user()
    with transaction.atomic():
        notify(user, "order", "已接单", dedupe_key="k1")
        assert notify(user, "order", "已接单", dedupe_key="k1").reason == "duplicate"
        assert Message.objects.filter(user=user).count() == 1  # the transaction still works


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_once_yields_one_message(push_outbox):
    user = make_user()
    context = {"order": "ord_x", "store": "老王家常菜", "amount": "32.00", "code": ""}

    def deliver_event():
        return notify_event(user, "order_accepted", context=context, dedupe_key="order:ord_x:accepted")

    for round_ in range(3):
        answers = run_concurrently([deliver_event] * 4)
        assert all(a is not None for a in answers), answers  # nobody crashed on the constraint
        assert sum(a.delivered for a in answers) == (1 if round_ == 0 else 0)
        assert {a.message.pk for a in answers} == {answers[0].message.pk}  # all answer the one message
    assert Message.objects.filter(user=user, dedupe_key="order:ord_x:accepted").count() == 1
    assert ChannelDelivery.objects.filter(message__user=user).count() == 1
    assert len(push_outbox) == 1
