"""When scheduled messages fall due: working days, bank holidays, the clock changes and quiet hours.

The clock is controlled with time-machine wherever "now" matters.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import time_machine

from models import planning
from models.calendar import WorkingCalendar
from models.types import utcnow

cal = WorkingCalendar()


def london(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=cal.tz)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_reminders_around_easter_and_the_march_clock_change():
    # Tuesday 30 March 2027, 10:00 summer time. Good Friday (26th) and Easter Monday (29th) are bank holidays,
    # and the clocks went forward on Sunday 28th.
    start = london("2027-03-30T10:00")
    assert planning.two_days_before(cal, start) == utc("2027-03-24T09:00")  # Wednesday, still winter time
    assert planning.day_before(cal, start) == utc("2027-03-25T09:00")  # Thursday
    assert planning.morning_of(cal, start) == utc("2027-03-30T08:00")  # 09:00 summer time
    assert planning.timekeeping(start, 90, 10) == utc("2027-03-30T10:20")  # 11:20 in London


def test_reminders_around_the_october_clock_change():
    # Tuesday 27 October 2026, 10:00 winter time; the clocks went back on Sunday 25th.
    start = london("2026-10-27T10:00")
    assert planning.two_days_before(cal, start) == utc("2026-10-23T08:00")  # Friday 09:00 summer time
    assert planning.day_before(cal, start) == utc("2026-10-26T09:00")  # Monday 09:00 winter time
    assert planning.morning_of(cal, start) == utc("2026-10-27T09:00")


def test_reminders_skip_weekends_and_christmas():
    monday = london("2026-12-07T10:00")
    assert planning.two_days_before(cal, monday) == utc("2026-12-03T09:00")  # Thursday
    assert planning.day_before(cal, monday) == utc("2026-12-04T09:00")  # Friday
    after_christmas = london("2026-12-29T10:00")  # 25th and 28th (Boxing Day substitute) are bank holidays
    assert planning.two_days_before(cal, after_christmas) == utc("2026-12-23T09:00")
    assert planning.day_before(cal, after_christmas) == utc("2026-12-24T09:00")


def test_no_morning_reminder_for_a_meeting_at_the_start_of_the_day_or_at_a_weekend():
    assert planning.morning_of(cal, london("2026-12-08T09:00")) is None
    assert planning.morning_of(cal, london("2026-12-08T09:30")) == utc("2026-12-08T09:00")
    assert planning.morning_of(cal, london("2026-12-12T10:00")) is None  # a Saturday: next working morning is later


def test_overdue_nudges_back_off_after_1_3_and_7_working_days_then_weekly():
    due = date(2026, 12, 7)  # a Monday
    days = [planning.nudge_due(cal, due, stage) for stage in range(1, 6)]
    assert days == [utc("2026-12-08T09:00"), utc("2026-12-10T09:00"), utc("2026-12-16T09:00"),
                    utc("2026-12-23T09:00"), utc("2027-01-04T09:00")]  # Christmas and New Year's Day skipped


def test_an_action_entered_late_is_nudged_from_the_next_step_not_for_days_gone_by():
    with time_machine.travel(utc("2026-12-11T12:00"), tick=False):  # Friday: 4 working days overdue
        now = utcnow()
        stage = planning.next_nudge_stage(cal, date(2026, 12, 7), now)
    assert stage == 3 and planning.nudge_due(cal, date(2026, 12, 7), stage) == utc("2026-12-16T09:00")
    with time_machine.travel(utc("2026-12-07T15:00"), tick=False):  # due today: first nudge tomorrow
        assert planning.next_nudge_stage(cal, date(2026, 12, 7), utcnow()) == 1
    with time_machine.travel(utc("2027-06-01T12:00"), tick=False):  # long forgotten: the next weekly slot
        now = utcnow()
        stage = planning.next_nudge_stage(cal, date(2026, 12, 7), now)
        assert now < planning.nudge_due(cal, date(2026, 12, 7), stage) <= now + timedelta(days=8)


def test_review_reminder_two_weeks_ahead_on_a_working_day():
    assert planning.review_reminder(cal, date(2027, 2, 8)) == utc("2027-01-25T09:00")
    # Two weeks before Tuesday 12 January 2027 is Tuesday 29 December 2026: a working day.
    assert planning.review_reminder(cal, date(2027, 1, 12)) == utc("2026-12-29T09:00")
    # Two weeks before Friday 8 January 2027 is Friday 25 December: the working day before, the 24th.
    assert planning.review_reminder(cal, date(2027, 1, 8)) == utc("2026-12-24T09:00")


def test_lapse_check_is_the_first_working_morning_after_the_deadline():
    assert planning.lapse_check(cal, date(2026, 12, 4)) == utc("2026-12-07T09:00")  # Friday → Monday
    assert planning.lapse_check(cal, date(2026, 12, 24)) == utc("2026-12-29T09:00")


def test_weekly_summary_goes_on_the_first_working_day_of_next_week():
    with time_machine.travel(utc("2027-03-24T15:00"), tick=False):
        label, due = planning.next_weekly(cal, utcnow())
    assert label == "2027-W13" and due == utc("2027-03-30T08:00")  # Easter Monday skipped; summer time


def test_lateness_counts_working_time_only():
    friday_close = london("2026-12-04T16:55")
    assert planning.working_lateness(cal, friday_close, london("2026-12-07T09:00")) == timedelta(minutes=5)
    # Across Christmas: 24th 16:00 → 29th 10:00 is two working hours.
    assert planning.working_lateness(cal, london("2026-12-24T16:00"), london("2026-12-29T10:00")) == timedelta(hours=2)
    assert planning.working_lateness(cal, london("2026-12-07T09:00"), london("2026-12-07T08:00")) == timedelta(0)


def test_quiet_hours_follow_the_clock_and_the_configured_day():
    evening = WorkingCalendar(day_start=time(8, 0), day_end=time(18, 0))
    with time_machine.travel(utc("2026-12-07T17:30"), tick=False):
        assert not cal.in_working_hours(utcnow())
        assert evening.in_working_hours(utcnow())
        assert planning.soonest(cal, utcnow()) == utc("2026-12-08T09:00")
    with time_machine.travel(london("2027-03-29T10:00"), tick=False):  # Easter Monday
        assert not cal.in_working_hours(utcnow())
        assert planning.soonest(cal, utcnow()) == utc("2027-03-30T08:00")
