"""Getting started (issue 13, item 7), end to end over signed requests: a new case channel has a pinned
checklist of what is still missing, it ticks items off as they are done (the same message, updated), and the
lead social worker is reminded once, two working days on, of what is still missing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from handlers.ids import Action, Block, View
from models.ledger import Kind
from models.tables import AuditEvent, MessageStatus, ScheduledMessage
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.reads import rows
from tests.reminder_world import dispatcher


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def checklist(slack, channel: str) -> dict:
    [found] = [m for m in slack.messages(channel) if (m.get("text") or "").startswith("Getting started")]
    return found


def line(message: dict, label: str) -> str:
    text = "\n".join(b["text"]["text"] for b in message["blocks"] if b["type"] == "section")
    return next(part for part in text.split(":white") if label in part)


def done(message: dict, label: str) -> bool:
    return line(message, label).startswith("_check_mark:")


def my_details(people, slack, case, who: str, *, role: str, agency: str, manager: str | None) -> dict:
    people[who].click(Action.HERE_MY_DETAILS, {"c": case.case_id}, channel=case.channel_id)
    form = opened_view(slack, View.MEMBER_EDIT)
    values = {Block.ROLE: role, Block.AGENCY: agency}
    if manager:
        values[Block.MANAGER] = manager
    assert people[who].submit(form, values).body == ""
    return form


def everything_but_the_teacher(people, slack, case) -> None:
    form = my_details(people, slack, case, "sw", role="Social worker", agency="Children's services",
                      manager="U0MGR")
    assert "Your manager" in json.dumps(form)  # "My role and agency" asks for the person's manager
    my_details(people, slack, case, "hv", role="Health visitor", agency="Health visiting team", manager="U0MGR")
    people["sw"].command("members", channel=case.channel_id)
    people["sw"].click(Action.MEMBERS_ADD_OFFLINE, {"c": case.case_id}, view=opened_view(slack, "members_list"))
    assert people["sw"].submit(opened_view(slack, View.MEMBER_ADD_OFFLINE), {
        Block.NAME: "Mother of Child A", Block.ROLE: "Parent", Block.RELATIONSHIP: "Mother"}).body == ""
    people["sw"].click(Action.PLAN_EDIT, {"c": case.case_id}, channel=case.channel_id)
    assert people["sw"].submit(opened_view(slack, View.PLAN_EDIT), {
        Block.DANGER: "Child A may be hurt when the adults argue.",
        Block.GOAL: "Child A goes to bed in a calm home."}).body == ""
    schedule_meeting(people, slack, case, date="2026-11-30", chair="sw")


def test_the_pinned_checklist_ticks_off_and_the_lead_is_reminded_once_of_what_is_missing(people, slack, app):
    case = new_case(people, slack)  # Monday 23 November 2026
    first = checklist(slack, case.channel_id)
    assert first["ts"] in slack.channels[case.channel_id].pins
    assert not any(done(first, label) for label in ("role and organisation", "manager", "parents", "plan",
                                                       "first meeting"))
    assert "<@U0HV>" in line(first, "role and organisation") and "<@U0TEACH>" in line(first, "manager")

    everything_but_the_teacher(people, slack, case)
    now = checklist(slack, case.channel_id)  # the same message, updated in place
    assert now["ts"] == first["ts"] and slack.calls_to("chat.update")
    assert done(now, "parents") and done(now, "plan") and done(now, "first meeting")
    assert not done(now, "role and organisation") and not done(now, "manager")
    assert "<@U0TEACH>" in line(now, "manager") and "<@U0HV>" not in line(now, "manager")

    # Two working days on (Wednesday morning), the lead social worker hears what is still missing, once.
    with time_machine.travel(at("2026-11-24T15:00"), tick=False):
        dispatcher(app.engine, slack).run_once()
    assert not [m for m in slack.messages("U0SW") if "get started" in (m.get("text") or "")]
    for when in ("2026-11-25T09:05", "2026-11-25T11:00", "2026-11-26T09:05"):
        with time_machine.travel(at(when), tick=False):
            dispatcher(app.engine, slack).run_once()
    [reminder] = [m for m in slack.messages("U0SW") if "get started" in (m.get("text") or "")]
    body = json.dumps(reminder["blocks"])
    assert "manager" in body and "<@U0TEACH>" in body and "The first meeting booked" not in body
    [row] = rows(app, select(ScheduledMessage).where(ScheduledMessage.kind == Kind.SETUP))
    assert row.status == MessageStatus.SENT

    # The teacher gives their details: everything is done, and the checklist says so.
    my_details(people, slack, case, "teacher", role="Teacher", agency="Primary school", manager="U0MGR")
    final = checklist(slack, case.channel_id)
    assert "all done" in final["text"] and all(done(final, label) for label in ("role", "manager", "parents"))
    assert rows(app, select(AuditEvent).where(AuditEvent.action == "case.checklist_posted"))


def test_nothing_is_sent_when_everything_was_done_in_time(people, slack, app):
    case = new_case(people, slack)
    everything_but_the_teacher(people, slack, case)
    my_details(people, slack, case, "teacher", role="Teacher", agency="Primary school", manager="U0MGR")
    with time_machine.travel(at("2026-11-25T09:05"), tick=False):
        dispatcher(app.engine, slack).run_once()
    assert not [m for m in slack.messages("U0SW") if "get started" in (m.get("text") or "")]
    [row] = rows(app, select(ScheduledMessage).where(ScheduledMessage.kind == Kind.SETUP))
    assert row.status == MessageStatus.SKIPPED
