"""How late an overdue action is, said the same way everywhere: in working days, with "day" or "days" by count.

The nudge's heading and the action's own line used to disagree ("overdue (1 working day)" above "overdue by
3 days" for an action due on a Friday and nudged on the Monday)."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
import time_machine

from handlers.blocks import actions as action_blocks
from models import reminders
from models.planning import Policy
from models.tables import Action, Member
from tests.reminder_world import at, dispatcher, make_world

PLANNED = at("2026-11-23T12:00")


@pytest.fixture(autouse=True)
def default_policy():
    reminders.configure(Policy())
    yield
    reminders.configure(Policy())


def _run(engine, slack, when):
    with time_machine.travel(when, tick=False):
        return dispatcher(engine, slack).run_once()


def _everything(message: dict) -> str:
    return message["text"] + json.dumps(message.get("blocks") or [], ensure_ascii=False)


def _lateness(text: str) -> set[str]:
    """Every way the text says how late: "overdue by …" up to the punctuation after it, or "overdue (…)"."""
    return set(re.findall(r"overdue(?: by [^.*:,\n\"]*| \([^)]*\))?", text))


def test_the_nudge_counts_working_days_the_same_in_its_heading_and_its_line(engine, slack):
    world = make_world(engine, slack, now=PLANNED)
    world.action("hv", date(2026, 12, 4), now=PLANNED)  # due Friday 4 December
    _run(engine, slack, at("2026-12-07T09:02"))  # Monday: one working day later, three calendar days
    [first] = world.dms("hv")
    text = _everything(first)
    assert "Your action for CP-TEST-0101 is overdue by 1 working day" in first["text"]
    assert _lateness(text) == {"overdue by 1 working day"}, _lateness(text)
    assert "3 days" not in text and "(1 working day)" not in text

    _run(engine, slack, at("2026-12-09T09:02"))  # Wednesday: the next nudge, three working days late
    second = world.dms("hv")[-1]
    assert _lateness(_everything(second)) == {"overdue by 3 working days"}


def test_the_weekly_summary_says_overdue_by_working_days(engine, slack):
    world = make_world(engine, slack, now=PLANNED, opened=True)
    world.action("hv", date(2026, 11, 26), now=PLANNED, what="Home visit")  # Thursday
    _run(engine, slack, at("2026-11-30T09:05"))  # the Monday after: Friday and Monday are the working days late
    [post] = world.channel_posts("overdue action")
    assert "Home visit" in _everything(post) and "overdue by 2 working days" in _everything(post)


def test_bank_holidays_and_weekends_are_not_counted_and_one_day_is_singular():
    owner = Member(id=3, case_id=1, name="Health Visitor A", role="Health visitor")
    christmas = Action(id=1, case_id=1, what="Visit", owner_member_id=3, due_date=date(2026, 12, 24))
    # Friday 25 December and Monday 28 December (for Boxing Day, a Saturday) are bank holidays.
    line = action_blocks.action_line(christmas, owner, date(2026, 12, 29))
    assert "*overdue by 1 working day*" in line
    assert "*overdue by 4 working days*" in action_blocks.action_line(christmas, owner, date(2027, 1, 4))
    friday = Action(id=2, case_id=1, what="Visit", owner_member_id=3, due_date=date(2026, 12, 4))
    weekend = action_blocks.action_line(friday, owner, date(2026, 12, 5))  # Saturday: no working day yet
    assert "*overdue*" in weekend and "working day" not in weekend
