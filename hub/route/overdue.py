"""The same-day rule (Nghị định 30/2020/NĐ-CP): a recipient acknowledges a dispatch the day it
arrives. Pure.

A delivered document's deadline is the earlier of (a) the delay after delivery (default four
hours) and (b) the end of the working day it arrived on — or, when it arrived outside working
hours, the end of the next working day. Past the deadline with no status at all (01 may be
skipped: any status shows it arrived), the delivery is overdue.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hub.errors import ConfigError

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)?$")
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DAYS = re.compile(r"^([1-7])-([1-7])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}


@dataclass(frozen=True, kw_only=True, slots=True)
class WorkingTime:
    delay: dt.timedelta = dt.timedelta(hours=4)
    start: dt.time = dt.time(7, 30)
    end: dt.time = dt.time(17, 0)
    days: frozenset[int] = frozenset({1, 2, 3, 4, 5})
    """ISO weekdays (1 Monday … 7 Sunday)."""
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Ho_Chi_Minh"))


def end_of_working_day(at: dt.datetime, policy: WorkingTime) -> dt.datetime:
    local = at.astimezone(policy.zone)
    day = local.date()
    if local.isoweekday() in policy.days and local.time() < policy.end:
        return dt.datetime.combine(day, policy.end, tzinfo=policy.zone)
    for _ in range(8):
        day += dt.timedelta(days=1)
        if day.isoweekday() in policy.days:
            return dt.datetime.combine(day, policy.end, tzinfo=policy.zone)
    raise ValueError("no working day in the week")


def deadline(delivered_at: dt.datetime, policy: WorkingTime) -> dt.datetime:
    """When the recipient's first status is due."""
    by_delay = delivered_at + policy.delay
    by_day = end_of_working_day(delivered_at, policy)
    local = delivered_at.astimezone(policy.zone)
    if local.isoweekday() not in policy.days or not (policy.start <= local.time() < policy.end):
        # arrived outside working hours: the clock starts at the next working day's opening
        opening = by_day.replace(hour=policy.start.hour, minute=policy.start.minute)
        by_delay = opening + policy.delay
    return min(by_delay, by_day).astimezone(dt.UTC)


def load(environ: Mapping[str, str]) -> WorkingTime:
    """LIENTHONG_OVERDUE_AFTER (4h), LIENTHONG_WORKING_HOURS (07:30-17:00),
    LIENTHONG_WORKING_DAYS (1-5, ISO weekdays), LIENTHONG_TIMEZONE (Asia/Ho_Chi_Minh)."""
    policy = WorkingTime()
    raw = environ.get("LIENTHONG_OVERDUE_AFTER", "").strip()
    if raw:
        match = _DURATION.match(raw)
        if not match:
            raise ConfigError(
                f"LIENTHONG_OVERDUE_AFTER={raw!r} is not a duration; use e.g. 4h, 90m or 30s"
            )
        seconds = float(match.group(1)) * UNITS[match.group(2)]
        policy = _replace(policy, delay=dt.timedelta(seconds=seconds))
    raw = environ.get("LIENTHONG_WORKING_HOURS", "").strip()
    if raw:
        match = _HOURS.match(raw)
        if not match:
            raise ConfigError(
                f"LIENTHONG_WORKING_HOURS={raw!r} is not HH:MM-HH:MM, e.g. 07:30-17:00"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError as exc:
            raise ConfigError(f"LIENTHONG_WORKING_HOURS={raw!r}: {exc}") from exc
        if not start < end:
            raise ConfigError(f"LIENTHONG_WORKING_HOURS={raw!r}: the day must end after it starts")
        policy = _replace(policy, start=start, end=end)
    raw = environ.get("LIENTHONG_WORKING_DAYS", "").strip()
    if raw:
        match = _DAYS.match(raw)
        if not match or int(match.group(1)) > int(match.group(2)):
            raise ConfigError(
                f"LIENTHONG_WORKING_DAYS={raw!r} is not a range of ISO weekdays like 1-5"
            )
        policy = _replace(
            policy, days=frozenset(range(int(match.group(1)), int(match.group(2)) + 1))
        )
    raw = environ.get("LIENTHONG_TIMEZONE", "").strip()
    if raw:
        try:
            policy = _replace(policy, zone=ZoneInfo(raw))
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ConfigError(
                f"LIENTHONG_TIMEZONE={raw!r} is not a time zone name like Asia/Ho_Chi_Minh"
            ) from exc
    return policy


def _replace(policy: WorkingTime, **changes: object) -> WorkingTime:
    return replace(policy, **changes)  # type: ignore[arg-type]
