"""The same-day rule, pure."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hub.errors import ConfigError
from hub.route import overdue

VN = ZoneInfo("Asia/Ho_Chi_Minh")
POLICY = overdue.WorkingTime()


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A moment in Hà Nội, in the week of Monday 2026-11-23."""
    return dt.datetime(2026, 11, 23 + day, hour, minute, tzinfo=VN)


@pytest.mark.parametrize(
    ("delivered", "due"),
    [
        (at(0, 9), at(0, 13)),  # Monday morning: four hours
        (at(0, 15), at(0, 17)),  # Monday afternoon: the end of the working day comes first
        (at(0, 16, 55), at(0, 17)),
        (at(0, 18), at(1, 11, 30)),  # Monday evening: from Tuesday's opening, four hours
        (at(0, 6), at(0, 11, 30)),  # before opening
        (at(4, 16), at(4, 17)),  # Friday afternoon
        (at(4, 19), at(7, 11, 30)),  # Friday evening: Monday
        (at(5, 10), at(7, 11, 30)),  # Saturday: Monday
    ],
)
def test_deadline(delivered: dt.datetime, due: dt.datetime) -> None:
    assert overdue.deadline(delivered, POLICY) == due.astimezone(dt.UTC)


def test_configuration() -> None:
    policy = overdue.load(
        {
            "LIENTHONG_OVERDUE_AFTER": "90m",
            "LIENTHONG_WORKING_HOURS": "08:00-16:30",
            "LIENTHONG_WORKING_DAYS": "1-6",
            "LIENTHONG_TIMEZONE": "Asia/Bangkok",
        }
    )
    assert policy.delay == dt.timedelta(minutes=90)
    assert (policy.start, policy.end) == (dt.time(8), dt.time(16, 30))
    assert policy.days == frozenset(range(1, 7))
    assert str(policy.zone) == "Asia/Bangkok"
    assert overdue.load({"LIENTHONG_OVERDUE_AFTER": "2s"}).delay == dt.timedelta(seconds=2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("LIENTHONG_OVERDUE_AFTER", "soon"),
        ("LIENTHONG_WORKING_HOURS", "17:00-07:30"),
        ("LIENTHONG_WORKING_HOURS", "25:00-26:00"),
        ("LIENTHONG_WORKING_DAYS", "5-1"),
        ("LIENTHONG_TIMEZONE", "Mars/Olympus"),
    ],
)
def test_bad_settings_are_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        overdue.load({name: value})
