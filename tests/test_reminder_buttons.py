"""The buttons on scheduled direct messages work in the real app: signed clicks from the DM itself."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import Session

from handlers.ids import View
from models import reminders
from models.ledger import Kind
from models.planning import Policy
from models.tables import Action, ActionStatus, MessageStatus
from tests.helpers import opened_view
from tests.reminder_world import at, dispatcher, make_world

PLANNED = at("2026-11-23T12:00")


@pytest.fixture(autouse=True)
def default_policy():
    reminders.configure(Policy())
    yield
    reminders.configure(Policy())


def dm_channel(slack, user_id: str) -> str:
    """The direct message conversation the app opened with this person."""
    [call] = [c for c in slack.calls_to("conversations.open") if c.args.get("users") == user_id][:1]
    return call.response["channel"]["id"]


def button(message: dict, action_id: str) -> dict:
    for block in message["blocks"]:
        for element in block.get("elements") or []:
            if element.get("action_id") == action_id:
                return element
    raise AssertionError(f"no {action_id} button")


def test_send_my_update_from_the_two_day_reminder_opens_the_update_form(app, people, slack, engine):
    world = make_world(engine, slack, now=PLANNED)
    meeting = world.meeting(at("2026-12-08T10:00"), now=PLANNED)
    with time_machine.travel(at("2026-12-04T09:05"), tick=False):
        dispatcher(engine, slack).run_once()
    [message] = world.dms("hv")
    update = button(message, "meeting_send_update")
    people["hv"].click(update["action_id"], update["value"], channel=dm_channel(slack, world.user("hv")),
                       message=message)
    view = opened_view(slack, View.UPDATE)
    assert json.loads(view["private_metadata"]) == {"c": world.case_id, "m": meeting}
    assert "Tuesday 8 December 2026, 10:00 to 11:30" in json.dumps(view["blocks"])


def test_done_on_an_overdue_nudge_stops_the_nudges(app, people, slack, engine):
    world = make_world(engine, slack, now=PLANNED)
    action = world.action("hv", date(2026, 12, 7), now=PLANNED)
    with time_machine.travel(at("2026-12-08T09:05"), tick=False):
        dispatcher(engine, slack).run_once()
    [message] = world.dms("hv")
    done = button(message, "action_done")
    people["hv"].click(done["action_id"], done["value"], channel=dm_channel(slack, world.user("hv")),
                       message=message)
    with Session(engine) as session:
        assert session.get(Action, action).status == ActionStatus.DONE
    assert world.pending(Kind.OVERDUE) == []
    assert {r.status for r in world.rows(kind=Kind.OVERDUE)} == {MessageStatus.SENT, MessageStatus.CANCELLED}
    with time_machine.travel(at("2026-12-10T09:05") + timedelta(minutes=1), tick=False):
        dispatcher(engine, slack).run_once()
    assert len(world.dms("hv")) == 1


def test_attending_on_the_reminder_records_attendance(app, people, slack, engine):
    from sqlmodel import select

    from models.tables import Attendance, AuditEvent

    world = make_world(engine, slack, now=PLANNED)
    meeting = world.meeting(at("2026-12-08T10:00"), now=PLANNED)
    with time_machine.travel(at("2026-12-04T09:05"), tick=False):
        dispatcher(engine, slack).run_once()
    [message] = world.dms("hv")
    assert [b["action_id"] for b in message["blocks"][-1]["elements"]] == [
        "meeting_attending", "meeting_apologies", "meeting_send_update"]
    attending = button(message, "meeting_attending")
    people["hv"].click(attending["action_id"], attending["value"], channel=dm_channel(slack, world.user("hv")),
                       message=message)
    with Session(engine) as session:
        [row] = session.exec(select(Attendance).where(Attendance.meeting_id == meeting)).all()
        assert (row.member_id, row.status) == (world.members["hv"], "attending")
        [event] = session.exec(select(AuditEvent).where(AuditEvent.action == "attendance.set")).all()
        assert event.record_id == row.id
