"""A meeting nobody ended (issue 13, item 4), end to end: the case, the meeting and its start go through signed
requests; the scheduled runs are the real dispatcher with the clock moved by time-machine.

The chair is asked 30 minutes after the planned end, the lead social worker on the next working morning; after
2 working days the meeting is closed as ended without a record and the group told; the lapse check still
reaches the managers, because a meeting counts as held only once its record is posted; and the record can
still be written afterwards through the normal end flow.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import time_machine
from sqlmodel import select

from handlers.ids import Action, Block, View
from models.ledger import Kind
from models.tables import (
    AuditEvent,
    Meeting,
    MeetingStatus,
    Member,
    MessageStatus,
    Recap,
    RecapStatus,
    ScheduledMessage,
)
from tests.helpers import new_case, opened_view, posted, schedule_meeting
from tests.reads import get, one, rows
from tests.recap_world import preview_value
from tests.reminder_world import dispatcher


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


MEETING_DAY = at("2026-11-26T10:00")  # Thursday 26 November 2026, 10:00 to 11:30 (London is on UTC)


def run(app, slack, when: datetime):
    with time_machine.travel(when, tick=False):
        return dispatcher(app.engine, slack).run_once()


def dms(slack, user_id: str) -> list[str]:
    return [(m.get("text") or "") + json.dumps(m.get("blocks") or []) for m in slack.messages(user_id)
            if m.get("user") == slack.BOT_USER]


def start_meeting(people, slack, app, case, meeting, chair: str = "hv") -> None:
    """The chair starts it, marking everyone present."""
    members = rows(app, select(Member).where(Member.case_id == case.case_id))
    with time_machine.travel(MEETING_DAY, tick=True):
        people[chair].command("start", channel=case.channel_id)
        view = opened_view(slack, View.START)
        reply = people[chair].submit(view, {f"{Block.START_ATTENDANCE}_{m.id}": "present" for m in members})
    assert reply.body == "", reply.body
    assert get(app, Meeting, meeting.id).status == MeetingStatus.IN_PROGRESS


def give_managers(app, case) -> None:
    """Managers for the health visitor and the teacher (set directly: this test is about the lapse check)."""
    from sqlmodel import Session

    with Session(app.engine) as session:
        for member in session.exec(select(Member).where(Member.case_id == case.case_id,
                                                        Member.slack_user_id.in_(["U0HV", "U0TEACH"]))):
            member.manager_team_id, member.manager_user_id = "T0COUNCIL", "U0MGR"
            session.add(member)
        session.commit()


def test_a_meeting_left_open_is_chased_closed_and_still_escalated_then_recorded_late(people, slack, app):
    case = new_case(people, slack)  # initial conference 16 November: the first meeting is due by 30 November
    give_managers(app, case)
    meeting = schedule_meeting(people, slack, case, date="2026-11-26", chair="hv", length=90)
    start_meeting(people, slack, app, case, meeting)
    [panel] = posted(slack, case.channel_id, "Chair's buttons for core group meeting 1")

    # 11:50: not yet 30 minutes past the planned end (11:30), so nobody is asked.
    run(app, slack, at("2026-11-26T11:50"))
    assert not any("still open" in t for t in dms(slack, "U0HV"))
    # 12:05: the chair is asked to end it and write the record.
    run(app, slack, at("2026-11-26T12:05"))
    [to_chair] = [t for t in dms(slack, "U0HV") if "still open" in t]
    assert "planned to end at 11:30" in to_chair and "/coregroup end" in to_chair
    assert not any("still open" in t for t in dms(slack, "U0SW"))
    run(app, slack, at("2026-11-26T15:00"))
    assert len([t for t in dms(slack, "U0HV") if "still open" in t]) == 1  # once

    # Friday morning: the lead social worker, naming the chair by a mention.
    run(app, slack, at("2026-11-27T09:05"))
    [to_lead] = [t for t in dms(slack, "U0SW") if "still open" in t]
    assert "chair: <@U0HV>" in to_lead and "closed as ended without a record" in to_lead

    # Still open on Monday morning, two working days on: closed, and the group is told once.
    assert not posted(slack, case.channel_id, "closed without a record")
    run(app, slack, at("2026-11-30T09:05"))
    run(app, slack, at("2026-11-30T10:00"))
    [closed] = posted(slack, case.channel_id, "closed without a record")
    assert "record can still be written" in json.dumps(closed["blocks"])
    assert get(app, Meeting, meeting.id).status == MeetingStatus.ENDED_WITHOUT_RECORD
    audit = rows(app, select(AuditEvent).where(AuditEvent.action == "meeting.ended_without_record"))
    assert [e.record_id for e in audit] == [meeting.id]
    # The chair's panel in the meeting's thread, updated in place, says so and keeps only Write the record; the
    # meeting's notice likewise (the scaling, decision and action buttons no longer work).
    def labels(ts: str) -> tuple[dict, list[str]]:
        [now] = [m for m in slack.messages(case.channel_id) if m["ts"] == ts]
        return now, [e["text"]["text"] for b in now["blocks"] if b["type"] == "actions" for e in b["elements"]]
    panel_now, panel_buttons = labels(panel["ts"])
    assert "ended without a record" in panel_now["text"] and panel_buttons == ["Write the record"]
    assert labels(get(app, Meeting, meeting.id).message_ts)[1] == ["Write the record"]

    # Tuesday 1 December, the first working morning after the deadline: the meeting without a record does not
    # count as held, so the group and the managers are told the core group has not met.
    run(app, slack, at("2026-12-01T09:10"))
    [lapse] = [m for m in slack.messages(case.channel_id) if "has not met within the agreed" in m.get("text", "")]
    assert "was closed without a record" in json.dumps(lapse["blocks"])
    [to_manager] = [t for t in dms(slack, "U0MGR") if "has not met within its agreed interval" in t]
    assert "Health Visitor A" in to_manager and "Teacher A" in to_manager
    assert "was closed without a record" in to_manager and "Child" not in to_manager
    # Everything the lapse notice asks for has a button (a chair from another organisation has no slash commands):
    # writing the record, and booking the next meeting (none is booked).
    assert "/coregroup" not in json.dumps(lapse) and "/coregroup" not in to_manager
    lapse_buttons = {e["text"]["text"]: e for b in lapse["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert set(lapse_buttons) == {"Write the record", "Book the next meeting"}
    assert json.loads(lapse_buttons["Write the record"]["value"])["m"] == meeting.id
    with time_machine.travel(at("2026-12-01T09:30"), tick=True):
        book = lapse_buttons["Book the next meeting"]
        people["teacher"].click(book["action_id"], json.loads(book["value"]), channel=case.channel_id, message=lapse)
        assert opened_view(slack, View.SCHEDULE)["callback_id"] == View.SCHEDULE

    # The record is written afterwards through the normal end flow, from the button on the notice (a chair from
    # another organisation has no slash commands), and then the meeting counts as held.
    button = next(e for b in closed["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert button["text"]["text"] == "Write the record"
    with time_machine.travel(at("2026-12-01T10:00"), tick=True):
        people["hv"].click(button["action_id"], json.loads(button["value"]), channel=case.channel_id,
                           message=closed)
        view = opened_view(slack, View.END)
        reply = people["hv"].submit(view, {
            Block.RECAP_KEY_POINTS: "Good progress at school.", Block.RECAP_RISK: "reducing",
            Block.RECAP_CHILD_VIEWS: "Child A says home is calmer.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A says mornings are easier.",
            Block.RECAP_RECOMMENDATION: "continue"})
        assert reply.body == "", reply.body
        people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=case.channel_id)
    assert one(app, select(Recap).where(Recap.meeting_id == meeting.id)).status == RecapStatus.POSTED
    assert get(app, Meeting, meeting.id).status == MeetingStatus.ENDED
    panel_now, panel_buttons = labels(panel["ts"])
    assert "has ended" in panel_now["text"] and panel_buttons == []
    # Held on 26 November: the next lapse check is six weeks on (7 January 2027), not another one now.
    lapse_rows = rows(app, select(ScheduledMessage).where(ScheduledMessage.kind == Kind.LAPSE,
                                                          ScheduledMessage.status == MessageStatus.PENDING))
    assert [r.key for r in lapse_rows] == [f"case:{case.case_id}:lapse:2027-01-07"]


def test_a_meeting_ended_in_time_is_not_chased(people, slack, app):
    case = new_case(people, slack)
    meeting = schedule_meeting(people, slack, case, date="2026-11-26", chair="hv", length=90)
    start_meeting(people, slack, app, case, meeting)
    with time_machine.travel(at("2026-11-26T11:25"), tick=True):
        people["hv"].command("end", channel=case.channel_id)
        people["hv"].submit(opened_view(slack, View.END), {
            Block.RECAP_KEY_POINTS: "Good progress at school.", Block.RECAP_RISK: "reducing",
            Block.RECAP_CHILD_VIEWS: "Child A says home is calmer.",
            Block.RECAP_PARENTS_VIEWS: "Mother of Child A says mornings are easier.",
            Block.RECAP_RECOMMENDATION: "continue"})
        people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=case.channel_id)
    for when in ("2026-11-26T12:05", "2026-11-27T09:05", "2026-11-30T09:05", "2026-12-01T09:10"):
        run(app, slack, at(when))
    assert not any("still open" in t for t in dms(slack, "U0HV") + dms(slack, "U0SW"))
    assert not posted(slack, case.channel_id, "closed without a record")
    assert not [m for m in slack.messages(case.channel_id) if "has not met" in m.get("text", "")]
    assert get(app, Meeting, meeting.id).status == MeetingStatus.ENDED
