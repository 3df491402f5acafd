"""When each scheduled message falls due: pure functions of the working calendar, no database.

Everything a person is nudged about lands at the start of a working day (09:00 by default) on a
working day (no weekends, no England and Wales bank holidays), in the configured timezone, so the
clock changes in March and October move nothing. The one exception is the chair's timekeeping
prompt, which belongs to the meeting itself and is sent when the meeting is about to end.

Times go in and come out as aware datetimes; the ledger stores them in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from models.calendar import WorkingCalendar

# Overdue-action nudges back off: 1, 3 and 7 working days after the due date, then once a working week.
NUDGE_DAYS = (1, 3, 7)
WEEKLY = 5
REVIEW_NOTICE = timedelta(days=14)
OPEN_PROMPT_AFTER = timedelta(minutes=30)  # a meeting still open this long after its planned end: the chair is asked
OPEN_WORKING_DAYS = 2  # a meeting still open this many working days after its planned end is closed
MAX_LATENESS_DAYS = 400  # beyond this a message is simply late; no need to count the working hours


@dataclass(frozen=True)
class Policy:
    """What the scheduler plans by: the working calendar and the few numbers people may want to change."""

    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    timekeeping_minutes: int = 10  # how long before a meeting's planned end the chair is prompted
    grace: timedelta = timedelta(hours=24)  # working time a message may be late and still be sent


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def day_start(cal: WorkingCalendar, day: date) -> datetime:
    """The start of working hours on a day, in UTC."""
    return utc(cal.at(day, cal.day_start))


def local_day(cal: WorkingCalendar, moment: datetime) -> date:
    return cal.local(moment).date()


# --- meetings -----------------------------------------------------------------------------------


def two_days_before(cal: WorkingCalendar, start: datetime) -> datetime:
    """The first reminder: the morning of the second working day before the meeting."""
    return day_start(cal, cal.add_working_days(local_day(cal, start), -2))


def day_before(cal: WorkingCalendar, start: datetime) -> datetime:
    """The follow-up to people who sent apologies: the morning of the working day before."""
    return day_start(cal, cal.add_working_days(local_day(cal, start), -1))


def morning_of(cal: WorkingCalendar, start: datetime) -> datetime | None:
    """The start of working hours on the meeting's day, or None when that is not before the meeting."""
    due = cal.next_working_moment(cal.at(local_day(cal, start), cal.day_start))
    return utc(due) if due < start else None


def timekeeping(start: datetime, duration_minutes: int, minutes_before_end: int) -> datetime:
    """Shortly before the planned end (not bound to working hours: the meeting is running)."""
    end = start + timedelta(minutes=duration_minutes)
    return utc(max(start, end - timedelta(minutes=minutes_before_end)))


def planned_end(start: datetime, duration_minutes: int) -> datetime:
    return utc(start + timedelta(minutes=duration_minutes))


# --- overdue actions ------------------------------------------------------------------------------


def nudge_working_days(stage: int) -> int:
    """Working days overdue at each nudge: 1, 3, 7, then every 5 (12, 17, ...)."""
    if stage < 1:
        raise ValueError("stages start at 1")
    if stage <= len(NUDGE_DAYS):
        return NUDGE_DAYS[stage - 1]
    return NUDGE_DAYS[-1] + WEEKLY * (stage - len(NUDGE_DAYS))


def nudge_due(cal: WorkingCalendar, due_date: date, stage: int) -> datetime:
    return day_start(cal, cal.add_working_days(due_date, nudge_working_days(stage)))


def next_nudge_stage(cal: WorkingCalendar, due_date: date, now: datetime, *, after: int = 0) -> int:
    """The first stage after `after` that is still to come (an action entered already late is not
    nudged for the days that have passed)."""
    stage = after + 1
    days_late = cal.working_days_between(due_date, local_day(cal, now))
    # Jump close to the answer without walking every stage of an action overdue for years.
    while nudge_working_days(stage) < days_late - WEEKLY:
        stage += 1
    while nudge_due(cal, due_date, stage) <= now:
        stage += 1
    return stage


def left_open(cal: WorkingCalendar, start: datetime, duration_minutes: int) -> tuple[datetime, datetime, datetime]:
    """A meeting nobody ended: when to prompt the chair (30 minutes after the planned end), the lead social
    worker (the next working morning after the planned end) and when to close it (2 working days after the
    day it was planned to end, at the start of the working day)."""
    end = planned_end(start, duration_minutes)
    close = day_start(cal, cal.add_working_days(local_day(cal, end), OPEN_WORKING_DAYS))
    return end + OPEN_PROMPT_AFTER, next_working_morning(cal, end), close


# --- the case -----------------------------------------------------------------------------------


def review_reminder(cal: WorkingCalendar, review: date) -> datetime:
    """Two weeks before the review conference (the working day on or before), at the start of the day."""
    return day_start(cal, cal.previous_working_day(review - REVIEW_NOTICE))


def lapse_check(cal: WorkingCalendar, deadline: date) -> datetime:
    """The first working morning after the deadline for the next meeting."""
    return day_start(cal, cal.next_working_day(deadline + timedelta(days=1)))


def next_working_morning(cal: WorkingCalendar, now: datetime) -> datetime:
    """The start of the next working day after today (a day's notice)."""
    return day_start(cal, cal.next_working_day(local_day(cal, now), include_today=False))


def soonest(cal: WorkingCalendar, now: datetime) -> datetime:
    """Now, if now is within working hours; else the start of the next working period."""
    return utc(cal.next_working_moment(now))


def week_label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def next_weekly(cal: WorkingCalendar, now: datetime) -> tuple[str, datetime]:
    """The drift summary's next slot: the first working morning of the next week that has one."""
    monday = local_day(cal, now) - timedelta(days=local_day(cal, now).weekday())
    for weeks in range(1, 10):
        start = monday + timedelta(weeks=weeks)
        for offset in range(5):
            day = start + timedelta(days=offset)
            if cal.is_working_day(day):
                return week_label(day), day_start(cal, day)
    raise ValueError("no working day in the next ten weeks")


# --- lateness -----------------------------------------------------------------------------------


def working_lateness(cal: WorkingCalendar, due: datetime, now: datetime) -> timedelta:
    """How much working time has passed since `due`: nights, weekends and bank holidays do not count,
    so a reminder due at 16:55 on a Friday is five minutes late at 09:00 on Monday."""
    if now <= due:
        return timedelta(0)
    first, last = local_day(cal, due), local_day(cal, now)
    if (last - first).days > MAX_LATENESS_DAYS:
        return timedelta(days=MAX_LATENESS_DAYS)
    total = timedelta(0)
    day = first
    while day <= last:
        if cal.is_working_day(day):
            opens, closes = cal.at(day, cal.day_start), cal.at(day, cal.day_end)
            begin, end = max(opens, due), min(closes, now)
            if end > begin:
                total += end - begin
        day += timedelta(days=1)
    return total
