"""Five-field cron expressions (minute hour day-of-month month day-of-week) evaluated in an explicit
IANA time zone. `*`, lists, ranges and steps; day-of-week 0-7 (0 and 7 = Sunday) or mon-sun; names
for months. As in Vixie cron, when both day fields are restricted a day matching either fires.
Local times that do not exist (the spring-forward gap) are skipped; a repeated hour fires once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_NAMES = {name: i for i, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_MONTHS = {
    name: i + 1
    for i, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
_FIELD = re.compile(r"^(\*|[0-9a-z]+(?:-[0-9a-z]+)?)(?:/([0-9]+))?$")
MAX_YEARS = 5


class CronError(ValueError):
    """The expression or time zone is invalid; the message says which part and why."""


@dataclass(frozen=True)
class Cron:
    expression: str
    zone: ZoneInfo
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    days_any: bool
    weekdays_any: bool

    def _day_matches(self, d: date) -> bool:
        dom, dow = d.day in self.days, (d.isoweekday() % 7) in self.weekdays
        if self.days_any or self.weekdays_any:
            return dom and dow
        return dom or dow

    def next_after(self, after: datetime) -> datetime:
        """The first firing strictly after `after` (aware), in UTC."""
        local = after.astimezone(self.zone)
        day = local.date()
        for _ in range(366 * MAX_YEARS):
            if day.month in self.months and self._day_matches(day):
                for hour in sorted(self.hours):
                    for minute in sorted(self.minutes):
                        fire = self._existing(datetime(day.year, day.month, day.day, hour, minute))
                        if fire is not None and fire > after:
                            return fire.astimezone(UTC)
            day += timedelta(days=1)
        raise CronError(f"'{self.expression}' never fires")

    def _existing(self, naive: datetime) -> datetime | None:
        aware = naive.replace(tzinfo=self.zone)
        back = aware.astimezone(UTC).astimezone(self.zone).replace(tzinfo=None)
        return aware if back == naive else None  # in a DST gap the wall time does not exist


def parse(expression: str, timezone: str) -> Cron:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(
            f"unknown time zone '{timezone}' (use an IANA name such as Europe/Berlin or UTC)"
        ) from None
    parts = expression.lower().split()
    if len(parts) != 5:
        raise CronError(f"'{expression}' needs 5 fields: minute hour day-of-month month day-of-week")
    minute, hour, dom, month, dow = parts
    weekdays = _field(dow, 0, 7, "day-of-week", _NAMES)
    return Cron(
        expression=" ".join(parts),
        zone=zone,
        minutes=_field(minute, 0, 59, "minute"),
        hours=_field(hour, 0, 23, "hour"),
        days=_field(dom, 1, 31, "day-of-month"),
        months=_field(month, 1, 12, "month", _MONTHS),
        weekdays=frozenset(d % 7 for d in weekdays),
        days_any=dom == "*",
        weekdays_any=dow == "*",
    )


def _field(text: str, low: int, high: int, name: str, names: dict[str, int] | None = None) -> frozenset[int]:
    values: set[int] = set()
    for item in text.split(","):
        m = _FIELD.match(item)
        if m is None:
            raise CronError(f"{name} field '{text}' is not valid cron syntax")
        span, step = m.group(1), int(m.group(2) or 1)
        if step < 1:
            raise CronError(f"{name} step must be at least 1")
        if span == "*":
            start, end = low, high
        else:
            a, _, b = span.partition("-")
            start = _value(a, low, high, name, names)
            end = _value(b, low, high, name, names) if b else (high if m.group(2) else start)
            if end < start:
                raise CronError(f"{name} range '{span}' runs backwards")
        values.update(range(start, end + 1, step))
    return frozenset(values)


def _value(token: str, low: int, high: int, name: str, names: dict[str, int] | None) -> int:
    if names and token in names:
        return names[token]
    if not token.isdigit() or not low <= int(token) <= high:
        raise CronError(f"{name} value '{token}' is outside {low}-{high}")
    return int(token)
