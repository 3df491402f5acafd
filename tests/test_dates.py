"""Dates within sense in every form (models/dates.py): far-off dates are refused with a clear message on the
field, the form stays as typed, and nothing is saved.

The suite's day is Monday 23 November 2026; the fixtures' initial conference was on 16 November 2026.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from handlers.ids import Action as ActionId
from handlers.ids import Block, View
from models import actions, dates
from models.audit import Actor
from models.tables import Action, ActionEvent, AuditEvent, Case, Meeting, Member, Recap
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.meeting_factories import member_id
from tests.recap_world import running_meeting

TODAY = date(2026, 11, 23)
FAR = "2999-01-07"
AGES_AGO = "1900-01-03"


def refused(reply, block: str, *words: str) -> str:
    """The form came back with an error on this field only (Slack keeps what was typed), saying these words."""
    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors", body
    assert block in body["errors"], body["errors"]
    message = body["errors"][block]
    for word in words:
        assert word in message, message
    return message


def count(app, model, *where) -> int:
    with Session(app.engine) as session:
        return len(session.exec(select(model).where(*where)).all())


# --- the rule itself ---------------------------------------------------------------------------------------


def test_the_rule():
    assert dates.check_due(TODAY, today=TODAY) is None
    assert dates.check_due(TODAY, today=TODAY, after_today=True) == "Choose a date after today."
    assert "more than a year" not in (dates.check_due(date(2027, 11, 24), today=TODAY) or "")
    assert dates.check_due(date(2027, 11, 24), today=TODAY) is None  # a year and a day (366 days)
    assert "within the next year" in dates.check_due(date(2027, 11, 25), today=TODAY)
    assert "has passed" in dates.check_due(date(2026, 11, 22), today=TODAY)
    assert dates.check_meeting_day(date(2027, 6, 1), today=TODAY) is None
    assert "more than a year ahead" in dates.check_meeting_day(date(2999, 1, 7), today=TODAY)
    assert dates.check_initial_conference(date(2026, 11, 16), today=TODAY) is None
    assert "within the last two years" in dates.check_initial_conference(date(1900, 1, 3), today=TODAY)
    assert "already have taken place" in dates.check_initial_conference(date(2026, 11, 24), today=TODAY)
    assert "after today" in dates.check_review_conference(date(2026, 11, 20), today=TODAY)
    assert "after the initial conference" in dates.check_review_conference(
        date(2026, 11, 30), today=TODAY, initial=date(2026, 12, 1))
    assert "more than a year ahead" in dates.check_review_conference(date(2999, 1, 7), today=TODAY)
    assert "from today onwards" in dates.check_away_until(date(2026, 11, 1), today=TODAY)
    assert "more than a year ahead" in dates.check_away_until(date(2999, 1, 7), today=TODAY)
    assert "before its initial conference" in dates.check_closed_on(date(1900, 1, 3), today=TODAY,
                                                                     initial=date(2026, 11, 16))


# --- every form --------------------------------------------------------------------------------------------


NEW_CASE = {Block.REFERENCE: "CP-TEST-0101", Block.CHILDREN: "Child A (7)", Block.INITIAL: "2026-11-16",
            Block.REVIEW: "2027-02-08", Block.FREQUENCY: 6, Block.LEAD: "U0SW", Block.CREATOR_ROLE: "Social worker"}


@pytest.mark.parametrize(("block", "typed", "words"), [
    (Block.INITIAL, AGES_AGO, "within the last two years"),
    (Block.INITIAL, "2026-12-01", "already have taken place"),
    (Block.REVIEW, "2026-11-20", "must be after today"),
    (Block.REVIEW, FAR, "more than a year ahead"),
])
def test_a_new_case(people, slack, app, block, typed, words):
    people["sw"].command("new", channel="C0GENERAL")
    view = opened_view(slack, View.NEW_CASE)
    refused(people["sw"].submit(view, {**NEW_CASE, block: typed}), block, words)
    assert count(app, Case) == 0
    assert slack.calls_to("conversations.create") == []


@pytest.mark.parametrize(("block", "typed", "words"), [
    (Block.DATE, FAR, "more than a year ahead"),
    (Block.REVIEW, FAR, "more than a year ahead"),
])
def test_scheduling_a_meeting(people, slack, app, block, typed, words):
    case = new_case(people, slack)
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    refused(people["sw"].submit(view, {Block.DATE: "2026-11-30", Block.TIME: "10:00", Block.LOCATION: "Room 2",
                                       block: typed}), block, words)
    assert count(app, Meeting) == 0
    with Session(app.engine) as session:
        assert session.get(Case, case.case_id).review_conference_date == date(2027, 2, 8)


def test_moving_a_meeting(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-30")
    people["sw"].click(ActionId.MEETING_MOVE, {"c": case.case_id, "m": meeting.id}, channel=case.channel_id)
    view = opened_view(slack, View.MEETING_MOVE)
    refused(people["sw"].submit(view, {Block.DATE: FAR, Block.TIME: "10:00", Block.REASON: "The room is taken."}),
            Block.DATE, "more than a year ahead", "Choose a date by")
    with Session(app.engine) as session:
        assert session.get(Meeting, meeting.id).scheduled_start == meeting.scheduled_start


def test_the_next_meeting_in_the_end_form(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher", "gp", "police"))
    world = running_meeting(app.engine, info, people)
    people["hv"].command("end", channel=world.channel_id)
    view = opened_view(slack, View.END)
    reply = people["hv"].submit(view, {
        Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
        Block.RECAP_CHILD_VIEWS: "Child A is happy.", Block.RECAP_RECOMMENDATION: "continue",
        Block.RECAP_NEXT_DATE: FAR, Block.RECAP_NEXT_TIME: "10:00"})
    refused(reply, Block.RECAP_NEXT_DATE, "more than a year ahead")
    assert count(app, Recap) == 0


@pytest.mark.parametrize(("typed", "words"), [(FAR, "within the next year"), (AGES_AGO, "has passed")])
def test_adding_an_action(people, slack, app, typed, words):
    case = new_case(people, slack)
    people["teacher"].command("action", channel=case.channel_id)
    view = opened_view(slack, View.ACTION_ADD)
    reply = people["teacher"].submit(view, {
        Block.ACTION_WHAT: "Book a dentist appointment for Child A",
        Block.ACTION_OWNER: str(member_id(app.engine, case.case_id, people["teacher"].user_id)),
        Block.ACTION_DUE: typed, Block.ACTION_MEASURE: "The appointment letter is seen"})
    refused(reply, Block.ACTION_DUE, words)
    assert count(app, Action) == 0


@pytest.mark.parametrize(("typed", "words"), [(FAR, "within the next year"), ("2026-11-23", "after today")])
def test_a_new_date_for_an_action(people, slack, app, typed, words):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    due = TODAY + timedelta(days=7)
    with Session(app.engine, expire_on_commit=False) as session:
        action = actions.create(session, case_id=case.case_id, what="Visit at home", owner_member_id=hv,
                                due_date=due, measure="Seen", safety_goal_id=None, meeting_id=None,
                                actor=Actor.app(), member_id=None, now=datetime.now(UTC))
        session.commit()
    people["hv"].click(ActionId.ACTION_NEW_DATE, {"c": case.case_id, "a": action.id}, channel=case.channel_id)
    view = opened_view(slack, View.ACTION_NEW_DATE)
    refused(people["hv"].submit(view, {Block.DATE: typed, Block.REASON: "The family is away."}), Block.DATE, words)
    with Session(app.engine) as session:
        assert session.get(Action, action.id).due_date == due
    assert count(app, ActionEvent, ActionEvent.action_id == action.id) == 1  # created, nothing since


def test_away_until(people, slack, app):
    case = new_case(people, slack)
    with Session(app.engine) as session:
        hv = session.exec(select(Member).where(Member.slack_user_id == people["hv"].user_id)).one()
    people["sw"].command("members", channel=case.channel_id)
    listed = opened_view(slack, "members_list")
    people["sw"].click(ActionId.MEMBERS_EDIT, view=listed,
                       selected=json.dumps({"c": case.case_id, "m": hv.id, "o": "edit"}))
    view = opened_view(slack, View.MEMBER_EDIT)
    refused(people["sw"].submit(view, {Block.ROLE: "Health visitor", Block.AWAY_UNTIL: FAR}), Block.AWAY_UNTIL,
            "more than a year ahead")
    with Session(app.engine) as session:
        assert session.get(Member, hv.id).away_until is None
    assert count(app, AuditEvent, AuditEvent.action == "member.changed") == 0


@pytest.mark.parametrize(("typed", "words"), [(AGES_AGO, "before its initial conference"),
                                              (FAR, "Choose today or an earlier date")])
def test_closing_a_case(people, slack, app, typed, words):
    case = new_case(people, slack)
    people["sw"].command("close", channel=case.channel_id)
    view = opened_view(slack, View.CLOSE)
    refused(people["sw"].submit(view, {Block.OUTCOME: "plan_ended", Block.REASON: "The plan ended.",
                                       Block.DATE: typed}), Block.DATE, words)
    with Session(app.engine) as session:
        assert session.get(Case, case.case_id).status == "open"
