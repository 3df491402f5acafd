"""Working days, working hours and the statutory core group calendar (England and Wales).

Bank holidays come from the `holidays` package: England's list, which is also Wales's (the two
share one set of bank holidays). All times are handled as aware datetimes in the configured
timezone (Europe/London by default), so the clock changes in March and October are respected.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

FIRST_MEETING_WORKING_DAYS = 10
LAST_MEETING_BEFORE_REVIEW_WORKING_DAYS = 10


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: str = "Europe/London"
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    extra_closures: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _bank_holidays(self) -> holidays.HolidayBase:
        return holidays.country_holidays("GB", subdiv="ENG")

    def is_bank_holiday(self, day: date) -> bool:
        return day in self._bank_holidays

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and not self.is_bank_holiday(day) and day not in self.extra_closures

    def add_working_days(self, day: date, count: int) -> date:
        """The working day `count` working days after `day` (before it, if negative)."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        current = day
        while remaining:
            current += timedelta(days=step)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def next_working_day(self, day: date, *, include_today: bool = True) -> date:
        current = day if include_today else day + timedelta(days=1)
        while not self.is_working_day(current):
            current += timedelta(days=1)
        return current

    def previous_working_day(self, day: date, *, include_today: bool = True) -> date:
        current = day if include_today else day - timedelta(days=1)
        while not self.is_working_day(current):
            current -= timedelta(days=1)
        return current

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 if end <= start)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.tz)

    def at(self, day: date, clock: time) -> datetime:
        """An aware datetime for a local wall-clock time on a day (fold=0 in the autumn hour)."""
        return datetime.combine(day, clock, tzinfo=self.tz)

    def in_working_hours(self, moment: datetime) -> bool:
        local = self.local(moment)
        return self.is_working_day(local.date()) and self.day_start <= local.time() < self.day_end

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` if it falls in working hours, else the start of the next working period."""
        local = self.local(moment)
        day = local.date()
        if self.is_working_day(day):
            if local.time() < self.day_start:
                return self.at(day, self.day_start)
            if local.time() < self.day_end:
                return moment
        return self.at(self.next_working_day(day, include_today=False), self.day_start)

    # --- the statutory calendar ---------------------------------------------------------------

    def first_meeting_deadline(self, initial_conference: date) -> date:
        """The first core group meets within 10 working days of the initial conference."""
        return self.add_working_days(initial_conference, FIRST_MEETING_WORKING_DAYS)

    def last_meeting_deadline(self, review_conference: date) -> date:
        """The last core group before review is at least 10 working days before it."""
        return self.add_working_days(review_conference, -LAST_MEETING_BEFORE_REVIEW_WORKING_DAYS)

    def propose_meeting_date(
        self,
        *,
        today: date,
        initial_conference: date,
        frequency_weeks: int,
        last_meeting: date | None,
        review_conference: date | None,
    ) -> date:
        """The date the next core group is due, by the statutory calendar, on a working day.

        First meeting: by the 10th working day after the initial conference. Later ones: `frequency_weeks`
        after the last, brought forward so that a meeting falls at least 10 working days before the
        review conference when the interval would otherwise straddle that deadline. Never in the past.
        """
        if last_meeting is None:
            due = self.first_meeting_deadline(initial_conference)
        else:
            due = self.previous_working_day(last_meeting + timedelta(weeks=frequency_weeks))
            if review_conference is not None:
                deadline = self.last_meeting_deadline(review_conference)
                if last_meeting < deadline < due:
                    due = deadline
        earliest = self.next_working_day(today + timedelta(days=1))
        return max(due, earliest)
