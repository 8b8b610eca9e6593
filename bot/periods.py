"""UTC periods for usage, quotas and leaderboards: today, this week (from Monday), this month, all time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.i18n import _, date, date_pattern

DAY = 86400
PERIODS = ("today", "week", "month", "all")


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open UTC time range [start, end) with whole-day bounds for the daily rollup; its words are written
    in the current language when they are read."""

    name: str
    start: float
    end: float

    @property
    def short(self) -> str:
        """`this week`: the period in two words."""
        return {"today": _("today"), "week": _("this week"), "month": _("this month")}.get(self.name, _("all time"))

    @property
    def label(self) -> str:
        """`this week (since Monday, Nov 30, 2026, 00:00 UTC)`: inside a sentence."""
        start = datetime.fromtimestamp(self.start, UTC)
        if self.name == "today":
            return _("today ({date} UTC)").format(date=date(start))
        if self.name == "week":
            return _("this week (since Monday, {date}, 00:00 UTC)").format(date=date(start))
        if self.name == "month":
            return _("this month ({month}, UTC)").format(month=_month(start))
        return _("all time")

    @property
    def heading(self) -> str:
        """`This week (since Monday, Nov 30, 2026, 00:00 UTC)`: at the start of a line."""
        start = datetime.fromtimestamp(self.start, UTC)
        if self.name == "today":
            return _("Today ({date} UTC)").format(date=date(start))
        if self.name == "week":
            return _("This week (since Monday, {date}, 00:00 UTC)").format(date=date(start))
        if self.name == "month":
            return _("This month ({month}, UTC)").format(month=_month(start))
        return _("All time")

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
    elif name == "week":
        start = today - timedelta(days=today.weekday())
        end = start + timedelta(days=7)
    elif name == "month":
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1)
    elif name == "all":
        return Period("all", 0.0, float("inf"))
    else:
        raise ValueError(f"unknown period {name!r}")
    return Period(name, start.timestamp(), end.timestamp())


def _month(start: datetime) -> str:
    """`November 2026` / `2026年11月` in the current language."""
    return date_pattern(start, "yMMMM")


def parse_date(text: str) -> float:
    """`YYYY-MM-DD` as epoch seconds at 00:00 UTC."""
    return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
