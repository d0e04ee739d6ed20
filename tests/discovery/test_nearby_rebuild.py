"""The periodic full rebuild of the nearby index runs in a thread while the old index keeps
answering, then is swapped in; a reset during a rebuild wins over it."""

from __future__ import annotations

import time

import pytest

from linli.discovery import selectors
from linli.discovery.selectors import _holder, store_list_nearby
from tests.fixtures import PEOPLES_SQUARE, make_store

LAT, LNG = PEOPLES_SQUARE


def _ids(radius_m: int = 2000) -> list[str]:
    return [s.id for s in store_list_nearby(lat=LAT, lng=LNG, radius_m=radius_m, limit=50)[0]]


def _wait_for_rebuild() -> None:
    thread = _holder.rebuilding
    if thread is not None:
        thread.join(timeout=30)
    assert _holder.rebuilding is None


@pytest.mark.django_db(transaction=True)  # the rebuild thread reads with its own connection
def test_a_due_rebuild_runs_in_the_background_and_is_swapped_in(monkeypatch):
    first = make_store(name="一号店", lat=LAT + 0.001, lng=LNG)
    assert _ids() == [first.public_id]
    old_index = _holder.index
    second = make_store(name="二号店", lat=LAT + 0.002, lng=LNG)
    # Deleted outright (no updated_at to notice): only a full rebuild forgets it.
    type(first).objects.filter(pk=first.pk).delete()
    monkeypatch.setattr(_holder, "built_at", time.monotonic() - selectors.REBUILD_SECONDS - 1)
    answered_meanwhile = _ids()  # starts the rebuild; answered from the old index
    assert second.public_id in answered_meanwhile
    _wait_for_rebuild()
    assert _holder.index is not old_index
    assert _ids() == [second.public_id]


@pytest.mark.django_db(transaction=True)
def test_a_reset_during_a_rebuild_wins(monkeypatch):
    make_store(name="一号店", lat=LAT + 0.001, lng=LNG)
    _ids()
    started = _holder.epoch
    monkeypatch.setattr(_holder, "built_at", time.monotonic() - selectors.REBUILD_SECONDS - 1)
    with _holder.lock:
        _holder.refresh()  # starts the thread, which waits for the lock to swap
        selectors._Holder.reset(_holder)
    _wait_for_rebuild()
    assert _holder.epoch == started + 1 and len(_holder.index) == 0  # the stale build was dropped
    assert len(_ids()) == 1  # and the next query loads afresh
