"""UTC periods for usage, quotas and leaderboards: today, this week (from Monday), this month, all time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

DAY = 86400
PERIODS = ("today", "week", "month", "all")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open UTC time range [start, end) with whole-day bounds for the daily rollup."""

    name: str
    label: str
    start: float
    end: float

    @property
    def start_day(self) -> int:
        """First UTC day number in the period."""
        return int(self.start // DAY)

    @property
    def end_day(self) -> int:
        """UTC day number just after the period."""
        return int(self.end // DAY) if self.end != float("inf") else 2**31


def day_number(epoch: float) -> int:
    """The UTC day number of an epoch time."""
    return int(epoch // DAY)


def next_midnight(now: float) -> float:
    """Epoch seconds of the next 00:00 UTC."""
    return (day_number(now) + 1) * DAY


def month_start_day(epoch: float) -> int:
    """The UTC day number of the 1st of the month containing `epoch` (the key of a month's budget)."""
    return day_number(datetime.fromtimestamp(day_number(epoch) * DAY, UTC).replace(day=1).timestamp())


def next_month(now: float) -> float:
    """Epoch seconds of the next 1st of a month, 00:00 UTC."""
    start = datetime.fromtimestamp(month_start_day(now) * DAY, UTC)
    return (start + timedelta(days=32)).replace(day=1).timestamp()


def period(name: str, now: float) -> Period:
    """The named period containing `now` (UTC)."""
    today = datetime.fromtimestamp(day_number(now) * DAY, UTC)
    if name == "today":
        start = today
        end = today + timedelta(days=1)
        label = f"today ({start:%Y-%m-%d} UTC)"
    elif name == "week":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
        label = f"this week (since Monday {start:%Y-%m-%d} 00:00 UTC)"
    elif name == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
        label = f"this month ({start:%B %Y}, UTC)"
    elif name == "all":
        return Period("all", "all time", 0.0, float("inf"))
    else:
        raise ValueError(f"unknown period {name!r}")
    return Period(name, label, start.timestamp(), end.timestamp())


def parse_date(text: str) -> float:
    """`YYYY-MM-DD` as epoch seconds at 00:00 UTC."""
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
