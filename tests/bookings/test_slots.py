"""The pure availability module: examples and properties (hypothesis) against a brute force."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from linli.bookings import slots
from linli.bookings.slots import ResourceDay, Service

DAY0 = 29_000_000  # some epoch minute


def _quarter(k: int) -> int:  # a named function: Hypothesis never parses its source
    return DAY0 + 15 * k


def _brute(resource: ResourceDay, service: Service, step: int, not_before: int, until: int) -> list[tuple[int, int]]:
    """Every grid start of every shift checked one by one, the slow obvious way."""
    out = []
    for ws, we in slots.merge(resource.working):
        for t in range(ws, we, step):
            if t < not_before or t >= until or t + service.duration > we:
                continue
            if service.seats > 1 and t in resource.taken:
                if resource.taken[t] < service.seats:
                    out.append((t, service.seats - resource.taken[t]))
                continue
            if all(t + service.duration + service.buffer <= b0 or b1 <= t for b0, b1 in resource.busy if b1 > b0):
                out.append((t, service.seats))
    return sorted(set(out))


intervals = st.lists(st.tuples(st.integers(0, 1440), st.integers(1, 300)).map(
    lambda p: (DAY0 + p[0], DAY0 + p[0] + p[1])), max_size=8)


@settings(max_examples=300, deadline=None)
@given(working=intervals, busy=intervals, duration=st.integers(5, 120), buffer=st.integers(0, 30),
       step=st.sampled_from([5, 10, 15, 30, 60]), lead=st.integers(0, 600), horizon=st.integers(0, 1800))
def test_slots_equal_the_brute_force_and_never_overlap_busy_time(working, busy, duration, buffer, step, lead, horizon):
    resource = ResourceDay(key="r", working=working, busy=busy)
    service = Service(duration=duration, buffer=buffer)
    found = slots.slots_for_resource(resource, service, step=step, not_before=DAY0 + lead, until=DAY0 + horizon)
    assert found == _brute(resource, service, step, DAY0 + lead, DAY0 + horizon)
    merged_work = slots.merge(working)
    for start, _left in found:
        assert any(ws <= start and start + duration <= we for ws, we in merged_work)  # within working hours
        assert all(start + duration + buffer <= b0 or b1 <= start for b0, b1 in busy if b1 > b0)  # no overlap
        assert slots.slot_check(resource, service, start) == slots.OK


@settings(max_examples=200, deadline=None)
@given(working=intervals, busy=intervals, seats=st.integers(2, 5),
       taken=st.dictionaries(st.integers(0, 96).map(_quarter), st.integers(1, 5), max_size=4))
def test_a_class_is_open_at_its_starts_while_seats_remain(working, busy, seats, taken):
    service = Service(duration=45, buffer=15, seats=seats)
    busy = busy + [(t, t + 60) for t in taken]  # a class's bookings are busy time for everything else
    resource = ResourceDay(key="r", working=working, busy=busy, taken=taken)
    found = slots.slots_for_resource(resource, service, step=15, not_before=DAY0, until=DAY0 + 2000)
    assert found == _brute(resource, service, 15, DAY0, DAY0 + 2000)


def test_jumps_past_a_busy_interval_on_the_grid():
    resource = ResourceDay(key="r", working=[(0, 600)], busy=[(100, 200)])
    found = [t for t, _ in slots.slots_for_resource(resource, Service(duration=60, buffer=10), step=30,
                                                    not_before=0, until=10_000)]
    assert found == [0, 30, 210, 240, 270, 300, 330, 360, 390, 420, 450, 480, 510, 540]


def test_slot_check_says_why():
    resource = ResourceDay(key="r", working=[(0, 600)], busy=[(100, 200)])
    service = Service(duration=60)
    assert slots.slot_check(resource, service, 0) == slots.OK
    assert slots.slot_check(resource, service, 150) == slots.TAKEN
    assert slots.slot_check(resource, service, 560) == slots.OUTSIDE_HOURS
    assert slots.slot_check(resource, service, 700) == slots.OUTSIDE_HOURS


def test_availability_lists_each_start_once_with_its_free_resources():
    a = ResourceDay(key="a", working=[(0, 120)], busy=[(0, 60)])
    b = ResourceDay(key="b", working=[(0, 120)])
    found = slots.availability([a, b], Service(duration=60), step=60, not_before=0, until=1000)
    assert found == [(0, [("b", 1)]), (60, [("a", 1), ("b", 1)])]


def test_working_intervals_follow_the_time_zone_special_dates_and_staff_hours():
    weekly = [[["09:00", "18:00"]]] * 7
    monday = date(2026, 11, 30)
    out = slots.working_intervals(store_weekly=weekly, store_special={"2026-12-01": []},
                                  resource_weekly=[[["13:00", "20:00"]]] * 7, tz="Asia/Shanghai",
                                  first=monday, days=3)
    zone = ZoneInfo("Asia/Shanghai")
    as_min = [(datetime.fromtimestamp(s * 60, zone).strftime("%d %H:%M"),
               datetime.fromtimestamp(e * 60, zone).strftime("%d %H:%M")) for s, e in out]
    assert as_min == [("30 13:00", "30 18:00"), ("02 13:00", "02 18:00")]  # 1 Dec: a holiday


def test_the_state_table_covers_exactly_the_model_statuses():
    from linli.bookings.models import Booking
    from linli.bookings.services import MACHINE, B

    plain = {v for k, v in vars(B).items() if k.isupper()}
    assert plain == set(Booking.Status.values)
    used = {t.source for t in MACHINE.transitions} | {t.target for t in MACHINE.transitions}
    assert used == plain
