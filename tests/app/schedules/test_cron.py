"""Cron expressions in explicit time zones: the next firing is right (weekdays, steps, names, DST),
bad input is refused with a message naming the field, and on generated expressions the fast search
agrees with a brute-force walk over every minute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.schedules.cron import CronError, parse


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_weekday_mornings_in_berlin_winter_and_summer() -> None:
    cron = parse("0 9 * * mon-fri", "Europe/Berlin")
    assert cron.next_after(at("2026-11-27T09:30:00")) == at("2026-11-30T08:00:00")  # Fri → Mon, CET
    assert cron.next_after(at("2026-07-03T06:00:00")) == at("2026-07-03T07:00:00")  # CEST


def test_steps_lists_ranges_and_names() -> None:
    assert parse("*/15 * * * *", "UTC").next_after(at("2026-01-01T10:07:00")) == at("2026-01-01T10:15:00")
    assert parse("5,35 8-9 * jan,feb *", "UTC").next_after(at("2026-02-28T09:40:00")) == at(
        "2027-01-01T08:05:00"
    )
    assert parse("0 0 1 * *", "UTC").next_after(at("2026-01-01T00:00:00")) == at("2026-02-01T00:00:00")


def test_both_day_fields_restricted_means_either() -> None:
    cron = parse("0 12 13 * fri", "UTC")  # the 13th, or any Friday
    assert cron.next_after(at("2026-11-09T00:00:00")) == at("2026-11-13T12:00:00")  # a Friday the 13th
    assert cron.next_after(at("2026-11-14T00:00:00")) == at("2026-11-20T12:00:00")  # next Friday


def test_a_wall_time_inside_the_spring_forward_gap_is_skipped() -> None:
    cron = parse("30 2 * * *", "Europe/Berlin")  # 02:30 does not exist on 2026-03-29
    assert cron.next_after(at("2026-03-28T02:00:00")) == at("2026-03-30T00:30:00")


@pytest.mark.parametrize(
    ("expr", "zone", "says"),
    [
        ("0 9 * *", "UTC", "5 fields"),
        ("61 * * * *", "UTC", "minute value '61'"),
        ("0 9 * * funday", "UTC", "day-of-week"),
        ("0 9-7 * * *", "UTC", "runs backwards"),
        ("0 9 * * *", "Mars/Olympus", "unknown time zone"),
        ("0 9 31 2 *", "UTC", "never fires"),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(expr: str, zone: str, says: str) -> None:
    with pytest.raises(CronError, match=says):
        parse(expr, zone).next_after(at("2026-01-01T00:00:00"))


def _brute(cron, after: datetime) -> datetime | None:  # type: ignore[no-untyped-def]
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(60 * 24 * 40):
        if (
            t.minute in cron.minutes
            and t.hour in cron.hours
            and t.month in cron.months
            and cron._day_matches(t.date())
        ):
            return t
        t += timedelta(minutes=1)
    return None


field = st.one_of(st.just("*"), st.integers(0, 6).map(str), st.integers(1, 4).map(lambda s: f"*/{s}"))


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, 59).map(str) | st.sampled_from(["*/7", "0,30", "10-20/5"]),
    hour=st.integers(0, 23).map(str) | st.just("*"),
    dow=field,
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 1, 1)),
)
def test_fast_search_agrees_with_a_minute_by_minute_walk(
    minute: str, hour: str, dow: str, start: datetime
) -> None:
    cron = parse(f"{minute} {hour} * * {dow}", "UTC")
    after = start.replace(tzinfo=UTC)
    fast = cron.next_after(after)
    assert fast > after
    assert _brute(cron, after) == fast
