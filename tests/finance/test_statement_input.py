"""A statement asked for by a batch id that is not one of the merchant's batches is a 404
`batch_not_found`, on the API and in the console. Found by the API fuzz test (issue 14): the
id went unchecked into the download's file name, and one with a line break made a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from linli.finance import services
from linli.finance.models import SettlementBatch
from tests.fixtures import token_api

from .helpers import completed_order, consumer, days_ago, operator, shop

pytestmark = pytest.mark.django_db

ODD_ID = "x\n\u00e6\U0007f38e"


def _settled_owner():
    services.commission_rule_create(actor=operator(), rate_bp=500, starts_at=days_ago(100))
    store, product = shop()
    completed_order(store, product, consumer(), at=days_ago(2))
    services.finance_sweep()
    services.settlement_run()
    return store.merchant.members.get(role="owner").user


def test_an_unknown_batch_is_not_found_in_every_format_and_a_known_one_downloads() -> None:
    owner = _settled_owner()
    api = token_api(owner)
    for fmt in ("json", "csv", "xlsx"):
        answer = api.get("/finance/statement", {"batch_id": ODD_ID, "format": fmt})
        assert answer.status_code == 404 and answer.json()["code"] == "batch_not_found", (fmt, answer.content)
    batch = SettlementBatch.objects.get(merchant__members__user=owner)
    answer = api.get("/finance/statement", {"batch_id": batch.public_id, "format": "csv"})
    assert answer.status_code == 200 and batch.public_id in answer["Content-Disposition"]


def test_the_console_download_refuses_an_unknown_batch() -> None:
    owner = _settled_owner()
    client = Client()
    client.force_login(owner)
    batch = SettlementBatch.objects.get(merchant__members__user=owner)
    for fmt in ("csv", "xlsx"):
        assert client.get(f"/m/finance/statement.{fmt}", {"batch": batch.public_id}).status_code == 200
        assert client.get(f"/m/finance/statement.{fmt}", {"batch": ODD_ID}).status_code == 404
