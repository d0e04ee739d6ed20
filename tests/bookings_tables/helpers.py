"""A restaurant that takes reservations and queue numbers, set up through the API as its owner."""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils import timezone

from linli.accounts.models import User
from linli.merchants.hours import every_day
from linli.merchants.models import Store
from tests.fixtures import PASSWORD, Api, make_store, next_phone, token_api

SHANGHAI = ZoneInfo("Asia/Shanghai")


def send(api: Api, method: str, path: str, body: Any):
    """PUT / PATCH, which the shared JSON client does not have."""
    return getattr(api.client, method)(f"/api/v1{path}", json.dumps(body), content_type="application/json",
                                       headers=api._headers(None))


def consumer(name: str = "李四") -> User:
    phone = next_phone()
    return User.objects.create_user(username=phone, phone=phone, display_name=name, password=PASSWORD)


def restaurant(*, tables: tuple[tuple[str, int, int], ...] = (("二人桌", 2, 2), ("四人桌", 4, 1)),
               hours: Any = None, reservations: bool = True, queue: bool = True,
               **setup: Any) -> tuple[Store, User]:
    owner = User.objects.create_user(username=f"owner-{next_phone()}", password=PASSWORD)
    store = make_store(owner=owner, name="小南国", hours=hours or every_day(("00:00", "24:00")))
    api = token_api(owner)
    body = {"takes_reservations": reservations, "takes_queue": queue, **setup}
    answer = send(api, "put", f"/merchant/stores/{store.public_id}/table-setup", body)
    assert answer.status_code == 200, answer.content
    for name, seats, count in tables:
        answer = api.post(f"/merchant/stores/{store.public_id}/table-types",
                          {"name": name, "seats": seats, "count": count})
        assert answer.status_code == 201, answer.content
    return store, owner


def tomorrow_at(hour: int, minute: int = 0) -> datetime:
    day = timezone.now().astimezone(SHANGHAI).date() + timedelta(days=1)
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)
