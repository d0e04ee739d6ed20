"""The pure table assignment: never double-books a table, never seats more than capacity,
and prefers the smallest fitting table."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linli.bookings.tables.assign import (
    Booked,
    TableKind,
    day_slots,
    on_grid,
    queue_group,
    table_assign,
    ticket_code,
)
from linli.merchants.hours import every_day

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)

kinds_st = st.lists(st.tuples(st.integers(1, 10), st.integers(0, 3)), min_size=1, max_size=4).map(
    lambda rows: [TableKind(key=i + 1, seats=s, count=c) for i, (s, c) in enumerate(rows)])
requests_st = st.lists(st.tuples(st.integers(1, 12), st.integers(0, 16), st.integers(1, 6)), max_size=40)


@settings(max_examples=300, deadline=None)
@given(kinds=kinds_st, requests=requests_st)
def test_assignment_never_double_books_and_never_overfills(kinds, requests):
    by_key = {k.key: k for k in kinds}
    booked: list[Booked] = []
    for party, start_slot, length in requests:
        start = T0 + timedelta(minutes=30 * start_slot)
        end = start + timedelta(minutes=30 * length)
        picked = table_assign(kinds, booked, party=party, start=start, end=end)
        free_fitting = [
            (k.seats, k.key) for k in kinds if k.seats >= party
            for n in range(1, k.count + 1)
            if not any(b.kind == k.key and b.table_no == n and b.start < end and start < b.end for b in booked)
        ]
        if picked is None:
            assert free_fitting == []  # refused only when really nothing fits
            continue
        kind = by_key[picked.kind]
        assert kind.seats >= party
        assert 1 <= picked.table_no <= kind.count
        assert kind.seats == min(seats for seats, _ in free_fitting)  # the smallest fitting size
        for b in booked:
            if b.kind == picked.kind and b.table_no == picked.table_no:
                assert not (b.start < end and start < b.end), "double-booked"
        booked.append(Booked(kind=picked.kind, table_no=picked.table_no, start=start, end=end))


def test_back_to_back_seatings_share_a_table():
    kinds = [TableKind(key=1, seats=4, count=1)]
    first = table_assign(kinds, [], party=4, start=T0, end=T0 + timedelta(minutes=90))
    assert first is not None
    held = [Booked(kind=1, table_no=1, start=T0, end=T0 + timedelta(minutes=90))]
    assert table_assign(kinds, held, party=2, start=T0 + timedelta(minutes=60), end=T0 + timedelta(minutes=150)) is None
    assert table_assign(kinds, held, party=2, start=T0 + timedelta(minutes=90),
                        end=T0 + timedelta(minutes=180)) is not None


def test_party_goes_to_a_bigger_table_when_the_small_ones_are_taken():
    kinds = [TableKind(key=1, seats=2, count=1), TableKind(key=2, seats=4, count=1)]
    held = [Booked(kind=1, table_no=1, start=T0, end=T0 + timedelta(minutes=90))]
    assert table_assign(kinds, held, party=2, start=T0, end=T0 + timedelta(minutes=90)).kind == 2
    assert table_assign(kinds, [], party=5, start=T0, end=T0 + timedelta(minutes=90)) is None


def test_queue_groups_and_codes():
    assert [queue_group(n) for n in (1, 2, 3, 4, 5, 12)] == ["A", "A", "B", "B", "C", "C"]
    assert ticket_code("A", 12) == "A012"


def test_slots_fit_the_whole_seating_inside_opening_hours():
    zone = ZoneInfo("Asia/Shanghai")
    weekly = every_day(("11:00", "14:00"), ("17:00", "21:00"))
    slots = [s.strftime("%H:%M") for s in day_slots(weekly, {}, date(2026, 12, 2), zone,
                                                     slot_minutes=30, seating_minutes=90)]
    assert slots == ["11:00", "11:30", "12:00", "12:30", "17:00", "17:30", "18:00", "18:30", "19:00", "19:30"]
    closed = day_slots(weekly, {"2026-12-02": []}, date(2026, 12, 2), zone, slot_minutes=30, seating_minutes=90)
    assert closed == []
    assert on_grid(datetime(2026, 12, 2, 11, 30, tzinfo=zone), 30)
    assert not on_grid(datetime(2026, 12, 2, 11, 40, tzinfo=zone), 30)
