"""core/cachebatch.py: keys prefetched in one round trip, each answering its first read
in the scope.

On whatever cache the run has (Redis in CI's first phase, local memory in the second).
Each test writes behind the batch's back with `cache.set` and reads again: what the read
answers tells whether it came from the batch or from the cache."""

from __future__ import annotations

import uuid

import pytest
from django.core.cache import cache

from linli.core import cachebatch


@pytest.fixture
def keys():
    made = [f"test:cachebatch:{uuid.uuid4().hex}:{n}" for n in range(3)]
    yield made
    cache.delete_many(made)


def test_a_prefetched_key_answers_its_first_read_from_the_batch_then_from_the_cache(keys):
    a, b, _ = keys
    cache.set_many({a: "old a", b: ("old", 2)})
    with cachebatch.batch():
        cachebatch.prefetch([a, b])
        cache.set_many({a: "new a", b: ("new", 2)})  # written after the prefetch
        assert cachebatch.get_many([a, b]) == {a: "old a", b: ("old", 2)}
        assert cachebatch.get_many([a, b]) == {a: "new a", b: ("new", 2)}  # a second read


def test_a_key_missing_when_prefetched_is_a_miss_for_its_first_read(keys):
    a, _, _ = keys
    with cachebatch.batch():
        cachebatch.prefetch([a])
        cache.set(a, 5)
        assert cachebatch.get(a, "none") == "none"
        assert cachebatch.get(a) == 5


def test_keys_not_named_are_read_from_the_cache(keys):
    a, b, c = keys
    cache.set_many({a: 1, b: 2})
    with cachebatch.batch():
        cachebatch.prefetch([a])
        cache.set_many({a: 10, b: 20, c: 30})
        assert cachebatch.get_many([a, b, c]) == {a: 1, b: 20, c: 30}
        assert cachebatch.get(b) == 20


def test_outside_a_block_reads_are_the_caches(keys):
    a, b, _ = keys
    cache.set(a, 1)
    assert cachebatch.get_many([a, b]) == {a: 1}
    assert cachebatch.get(b, "default") == "default"
    with cachebatch.batch():
        cachebatch.prefetch([a])
    cache.set(a, 2)
    assert cachebatch.get(a) == 2  # the block's batch is gone with the block


def test_an_inner_block_does_not_lose_the_outer_batch(keys):
    a, b, _ = keys
    cache.set_many({a: "a1", b: "b1"})
    with cachebatch.batch():
        cachebatch.prefetch([a])
        cache.set_many({a: "a2", b: "b2"})
        with cachebatch.batch():
            cachebatch.prefetch([b])
            cache.set(b, "b3")
            assert cachebatch.get(b) == "b2"
        assert cachebatch.get(a) == "a1"  # the outer batch is back


def test_a_failing_block_leaves_no_batch_behind(keys):
    a, _, _ = keys
    cache.set(a, 1)
    with pytest.raises(RuntimeError), cachebatch.batch():
        cachebatch.prefetch([a])
        raise RuntimeError
    cache.set(a, 2)
    assert cachebatch.get(a) == 2


def test_outside_a_scope_a_prefetch_reads_nothing(keys):
    a, _, _ = keys
    cache.set(a, 1)
    cachebatch.prefetch([a])  # no scope: nothing kept for a later read
    cache.set(a, 2)
    assert cachebatch.get(a) == 2


def test_prefetching_a_key_again_keeps_its_first_unread_value(keys):
    a, _, _ = keys
    cache.set(a, 1)
    with cachebatch.batch():
        cachebatch.prefetch([a])
        cache.set(a, 2)
        cachebatch.prefetch([a])  # still unread: not read again
        assert cachebatch.get(a) == 1
        cachebatch.prefetch([a])  # read since: read afresh
        cache.set(a, 3)
        assert cachebatch.get(a) == 2
