"""Working days, working hours and the statutory core group calendar (England and Wales).

Bank holidays come from the `holidays` package: England's list, which is also Wales's (the two
share one set of bank holidays). All times are handled as aware datetimes in the configured
timezone (Europe/London by default), so the clock changes in March and October are respected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

FIRST_MEETING_WORKING_DAYS = 10
LAST_MEETING_BEFORE_REVIEW_WORKING_DAYS = 10


@dataclass(frozen=True)
class NextDue:
    """When the next core group is due, and by which rule of the statutory calendar."""

    FIRST = "first"  # within 10 working days of the initial conference
    INTERVAL = "interval"  # every N weeks after the last one
    BROUGHT_FORWARD = "brought_forward"  # to 10 working days before the review conference
    AFTER_REVIEW = "after_review"  # the last meeting was the one before the review; the next follows it

    day: date
    rule: str


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

    def days_from(self, first: date, last: date) -> Iterator[tuple[date, bool]]:
        """Each day from `first` to `last`, and whether it is a working day: the same answers as
        `is_working_day`, with the bank holidays of those years looked up once (for filling a table of days)."""
        closed = set(holidays.country_holidays("GB", subdiv="ENG", years=range(first.year, last.year + 1)))
        closed |= self.extra_closures
        day = first
        while day <= last:
            yield day, day.weekday() < 5 and day not in closed
            day += timedelta(days=1)

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

    def next_meeting_due(
        self,
        *,
        initial_conference: date,
        frequency_weeks: int,
        last_meeting: date | None,
        review_conference: date | None,
    ) -> NextDue:
        """When the next core group is due by the statutory calendar, and by which rule (past dates included).

        The first core group meets by the 10th working day after the initial conference. After that the
        group meets every `frequency_weeks` (on the working day on or before). The review conference adds
        one rule: the last core group before it is at least 10 working days before it, so that the group
        meets shortly before the review and agrees its recommendation while the social worker still has
        time to write it into the report. So, when the review is still ahead of the last meeting:

        - the next date falls on or before the deadline (10 working days before the review): it stands;
        - it falls on or after the review day: the last meeting is already the last one before the review
          and (when it was held by the deadline) meets the rule, so the next date stands; bringing it
          forward would only add a meeting the rule does not ask for and shorten the agreed interval;
        - it falls inside the 10 working days before the review: a meeting then would be the last before
          the review and too close to it, so it is brought forward to the deadline itself, the latest day
          the rule allows and so the closest to the review; unless that would come less than half an
          interval after the last meeting (weekly or fortnightly groups), when the last meeting serves as
          the one before the review and the next is suggested for the working day after the review.
        """
        if last_meeting is None:
            return NextDue(self.first_meeting_deadline(initial_conference), NextDue.FIRST)
        natural = self.previous_working_day(last_meeting + timedelta(weeks=frequency_weeks))
        if review_conference is None or review_conference <= last_meeting:
            return NextDue(natural, NextDue.INTERVAL)
        deadline = self.last_meeting_deadline(review_conference)
        if not deadline < natural < review_conference:
            return NextDue(natural, NextDue.INTERVAL)
        if (deadline - last_meeting) * 2 >= timedelta(weeks=frequency_weeks):
            return NextDue(deadline, NextDue.BROUGHT_FORWARD)
        return NextDue(self.next_working_day(review_conference, include_today=False), NextDue.AFTER_REVIEW)

    def propose_meeting_date(
        self,
        *,
        today: date,
        initial_conference: date,
        frequency_weeks: int,
        last_meeting: date | None,
        review_conference: date | None,
    ) -> date:
        """The date to suggest for the next core group: when it is due (`next_meeting_due`), on a working
        day, and never in the past (the next working day when the due date has gone)."""
        due = self.next_meeting_due(initial_conference=initial_conference, frequency_weeks=frequency_weeks,
                                    last_meeting=last_meeting, review_conference=review_conference)
        earliest = self.next_working_day(today, include_today=False)
        return max(due.day, earliest)
