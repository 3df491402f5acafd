"""When scheduled messages fall due: working days, bank holidays, the clock changes and quiet hours.

The clock is controlled with time-machine wherever "now" matters. Across each clock change, the dispatcher
itself is also run (a real database and the Slack stand-in), to show what reaches people and when.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import time_machine

from models import planning, reminders
from models.calendar import WorkingCalendar
from models.ledger import Kind
from models.planning import Policy
from models.tables import MessageStatus
from models.types import utcnow
from tests.reminder_world import dispatcher, make_world

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


@pytest.fixture
def policy():
    reminders.configure(Policy())
    yield
    reminders.configure(Policy())


def send_due(engine, slack, when: datetime):
    """One dispatcher run with the clock at `when` (and stopped there)."""
    with time_machine.travel(when, tick=False):
        return dispatcher(engine, slack).run_once()


def dm_texts(world, key: str) -> list[str]:
    return [m["text"] for m in world.dms(key)]


def test_dispatcher_across_the_march_clock_change_sends_at_nine_london_time(engine, slack, policy):
    # Planned in winter (London is UTC): a meeting on Tuesday 30 March 2027 at 10:00 summer time (09:00 UTC), and
    # an action due on Thursday 25 March, whose first nudge is on the next working day, Tuesday 30 March (Good
    # Friday and Easter Monday are bank holidays, and the clocks go forward on Sunday 28th).
    planned = utc("2027-03-22T12:00")
    world = make_world(engine, slack, now=planned)
    meeting = world.meeting(london("2027-03-30T10:00"), now=planned)
    world.action("hv", date(2027, 3, 25), now=planned)

    assert send_due(engine, slack, utc("2027-03-24T08:59")) == {}  # Wednesday, winter time: not yet 09:00
    send_due(engine, slack, utc("2027-03-24T09:00"))
    assert [t.startswith("Core group meeting for CP-TEST-0101 in two working days") for t in dm_texts(world, "hv")
            ] == [True]
    assert "Tuesday 30 March 2027" in dm_texts(world, "hv")[0] and "10:00" in dm_texts(world, "hv")[0]

    # The Tuesday after the change: 07:59 UTC is 08:59 in London, 08:00 UTC is 09:00 in London.
    assert send_due(engine, slack, utc("2027-03-30T07:59")) == {}
    assert len(world.dms("hv")) == 1
    send_due(engine, slack, utc("2027-03-30T08:00"))
    texts = dm_texts(world, "hv")
    assert len(texts) == 3
    assert any(t.startswith("Core group meeting today for CP-TEST-0101") for t in texts[1:])
    assert any("overdue" in t for t in texts[1:])
    [nudge] = world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)
    assert nudge.due_at == utc("2027-03-30T08:00") and nudge.sent_at == utc("2027-03-30T08:00")
    [morning] = [r for r in world.rows(kind=Kind.REMIND_MORNING) if r.meeting_id == meeting]
    assert morning.due_at == utc("2027-03-30T08:00")
    # The next nudge, three working days overdue, is at 09:00 summer time too.
    assert [r.due_at for r in world.pending(Kind.OVERDUE)] == [utc("2027-04-01T08:00")]


def test_dispatcher_across_the_october_clock_change_sends_at_nine_london_time(engine, slack, policy):
    # Planned in summer time: a meeting on Tuesday 27 October 2026 at 10:00 winter time (10:00 UTC), and an action
    # due on Friday 23 October, nudged first on Monday 26th; the clocks go back on Sunday 25th.
    planned = utc("2026-10-19T11:00")
    world = make_world(engine, slack, now=planned)
    world.meeting(london("2026-10-27T10:00"), now=planned)
    world.action("hv", date(2026, 10, 23), now=planned)

    # Two working days before the meeting is Friday 23rd, still summer time: 09:00 in London is 08:00 UTC.
    assert send_due(engine, slack, utc("2026-10-23T07:59")) == {}
    send_due(engine, slack, utc("2026-10-23T08:00"))
    [reminder] = dm_texts(world, "hv")
    assert reminder.startswith("Core group meeting for CP-TEST-0101 in two working days")
    assert "Tuesday 27 October 2026" in reminder and "10:00" in reminder

    # Monday 26th, winter time: 08:00 and 08:59 UTC are before 09:00 in London; the nudge goes at 09:00 UTC.
    assert send_due(engine, slack, utc("2026-10-26T08:00")) == {}
    assert send_due(engine, slack, utc("2026-10-26T08:59")) == {}
    assert len(world.dms("hv")) == 1
    send_due(engine, slack, utc("2026-10-26T09:00"))
    assert len(world.dms("hv")) == 2 and "overdue" in dm_texts(world, "hv")[1]
    [nudge] = world.rows(kind=Kind.OVERDUE, status=MessageStatus.SENT)
    assert nudge.due_at == nudge.sent_at == utc("2026-10-26T09:00")

    # The morning of the meeting: 09:00 winter time, 09:00 UTC, not an hour early.
    assert send_due(engine, slack, utc("2026-10-27T08:30")) == {}
    send_due(engine, slack, utc("2026-10-27T09:00"))
    assert len(world.dms("hv")) == 3 and dm_texts(world, "hv")[2].startswith("Core group meeting today")


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
