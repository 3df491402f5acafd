"""`/coregroup close` end to end: the case closed with its reason, the channel archived, the records
kept read-only, meetings not yet held cancelled and scheduled messages withdrawn."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session, select

from handlers.access import CASE_CLOSED, NOT_A_MEMBER
from handlers.ids import Action, Block, View
from models.lifecycle import MEETING_RUNNING, ONLY_LEAD
from models.tables import (
    AuditEvent,
    Case,
    Meeting,
    MeetingChange,
    MeetingStatus,
    Member,
    MessageStatus,
    PlanItem,
    ScheduledMessage,
)
from tests.harness import send_event
from tests.helpers import ephemeral_texts, new_case, opened_view, posted

REASON = "The review conference agreed that the children are safe at home and the plan can end."


def _today() -> date:
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Europe/London")).date()


def _open_form(people, slack, who: str, channel: str) -> dict:
    people[who].command("close", channel=channel)
    return opened_view(slack, View.CLOSE)


def _close(people, slack, who: str, channel: str, **values):
    view = _open_form(people, slack, who, channel)
    filled = {Block.OUTCOME: "plan_ended", Block.REASON: REASON, Block.DATE: _today().isoformat()}
    filled.update(values)
    return people[who].submit(view, filled)


def _case(engine, case_id: int) -> Case:
    with Session(engine) as session:
        return session.get(Case, case_id)


def _message(session: Session, case_id: int, key: str, status: str = MessageStatus.PENDING) -> None:
    session.add(ScheduledMessage(key=key, kind="meeting_reminder", case_id=case_id, status=status,
                                 due_at=datetime.now(UTC) + timedelta(days=3)))


def test_help_lists_close(people):
    assert "/coregroup close" in json.dumps(people["sw"].command("help").json()["blocks"])


def test_lead_closes_the_case(people, slack, app, engine):
    info = new_case(people, slack)
    other = new_case(people, slack, reference="CP-TEST-0002")
    start = datetime.now(UTC) + timedelta(days=10)
    with Session(engine) as session:
        session.add(Meeting(case_id=info.case_id, number=1, scheduled_start=start, location="Family home",
                            source_key=f"meeting:{info.case_id}:1"))
        _message(session, info.case_id, "reminder:a")
        _message(session, info.case_id, "reminder:b")
        _message(session, info.case_id, "reminder:sent", status=MessageStatus.SENT)
        _message(session, other.case_id, "reminder:other")
        session.commit()
        pending = len(session.exec(select(ScheduledMessage).where(
            ScheduledMessage.case_id == info.case_id, ScheduledMessage.status == MessageStatus.PENDING)).all())
    slack.reset()

    view = _open_form(people, slack, "sw", info.channel_id)
    form = json.dumps(view["blocks"], ensure_ascii=False)
    assert "The meeting on" in form and "is cancelled" in form
    assert f"{pending} reminders will not be sent" in form
    reply = people["sw"].submit(view, {Block.OUTCOME: "plan_ended", Block.REASON: REASON,
                                       Block.DATE: _today().isoformat()})
    assert reply.status == 200 and reply.body == ""

    case = _case(engine, info.case_id)
    assert case.status == "closed" and case.close_outcome == "plan_ended"
    assert case.close_reason == REASON and case.closed_on == _today() and case.closed_at is not None

    closing = posted(slack, info.channel_id, "is closed")
    assert len(closing) == 1
    text = json.dumps(closing[0]["blocks"])
    assert "The plan ended" in text and "children are safe at home" in text and "is cancelled" in text
    assert slack.channels[info.channel_id].archived
    methods = [c.method for c in slack.calls if c.method in ("chat.postMessage", "conversations.archive")]
    assert methods == ["chat.postMessage", "conversations.archive"], "the message must go before the archive"
    assert not slack.channels[other.channel_id].archived

    with Session(engine) as session:
        meeting = session.exec(select(Meeting).where(Meeting.case_id == info.case_id)).one()
        assert meeting.status == MeetingStatus.CANCELLED
        change = session.exec(select(MeetingChange).where(MeetingChange.meeting_id == meeting.id)).one()
        assert change.kind == "cancelled" and "closed" in change.reason
        ledger = {m.key: m.status for m in session.exec(select(ScheduledMessage))}
        assert (ledger["reminder:a"], ledger["reminder:b"]) == ("cancelled", "cancelled")
        assert (ledger["reminder:sent"], ledger["reminder:other"]) == ("sent", "pending")
        assert session.exec(select(ScheduledMessage).where(
            ScheduledMessage.case_id == info.case_id, ScheduledMessage.status == MessageStatus.PENDING)).all() == []
        event = session.exec(select(AuditEvent).where(AuditEvent.action == "case.closed")).one()
        assert (event.case_id, event.record_type, event.record_id) == (info.case_id, "case", info.case_id)
        assert (event.actor_team_id, event.actor_user_id) == (people["sw"].team_id, people["sw"].user_id)
        detail = json.loads(event.detail)
        assert detail["outcome"] == "plan_ended" and detail["meetings_cancelled"] == 1
        assert detail["messages_withdrawn"] >= 2 and set(detail) == {"outcome", "meetings_cancelled",
                                                                       "messages_withdrawn"}
    assert _case(engine, other.case_id).status == "open"


def test_only_the_lead_or_a_team_manager_may_close(people, slack, app, engine):
    info = new_case(people, slack, members=("hv", "teacher", "manager"))
    slack.reset()
    people["hv"].command("close", channel=info.channel_id)
    assert slack.calls_to("views.open") == []
    assert any(ONLY_LEAD in text for text in ephemeral_texts(slack))

    people["outsider"].command("close", channel=info.channel_id)
    assert slack.calls_to("views.open") == []
    assert any(NOT_A_MEMBER in text for text in ephemeral_texts(slack))

    with Session(engine) as session:
        manager = session.exec(select(Member).where(Member.slack_user_id == people["manager"].user_id)).one()
        manager.role = "Team manager"
        session.add(manager)
        session.commit()
    reply = _close(people, slack, "manager", info.channel_id, **{Block.OUTCOME: "transferred"})
    assert reply.body == ""
    case = _case(engine, info.case_id)
    assert case.status == "closed" and case.close_outcome == "transferred"


def test_a_team_manager_may_close_however_the_role_was_typed(people, slack, app, engine):
    info = new_case(people, slack, members=("hv", "manager"))
    with Session(engine) as session:
        manager = session.exec(select(Member).where(Member.slack_user_id == people["manager"].user_id)).one()
        manager.role = "  TEAM  manager "
        session.add(manager)
        session.commit()
    slack.reset()
    reply = _close(people, slack, "manager", info.channel_id)
    assert reply.body == ""
    assert not any(ONLY_LEAD in text for text in ephemeral_texts(slack))
    assert _case(engine, info.case_id).status == "closed"


def test_a_form_submitted_by_someone_who_may_not_close_is_refused(people, slack, app, engine):
    info = new_case(people, slack)
    view = _open_form(people, slack, "sw", info.channel_id)
    reply = people["hv"].submit(view, {Block.OUTCOME: "plan_ended", Block.REASON: REASON})
    body = reply.json()
    assert body["response_action"] == "update" and ONLY_LEAD in json.dumps(body["view"])
    reply = people["outsider"].submit(view, {Block.OUTCOME: "plan_ended", Block.REASON: REASON})
    assert NOT_A_MEMBER in json.dumps(reply.json()["view"])
    assert _case(engine, info.case_id).status == "open"
    assert not slack.channels[info.channel_id].archived


def test_form_errors_keep_what_was_typed_and_change_nothing(people, slack, app, engine):
    info = new_case(people, slack)
    view = _open_form(people, slack, "sw", info.channel_id)
    reply = people["sw"].submit(view, {Block.OUTCOME: None, Block.REASON: "   "})
    errors = reply.json()["errors"]
    assert set(errors) == {Block.OUTCOME, Block.REASON}
    tomorrow = (_today() + timedelta(days=1)).isoformat()
    errors = people["sw"].submit(view, {Block.OUTCOME: "stepped_up", Block.REASON: "Court", Block.DATE: tomorrow}
                                 ).json()["errors"]
    assert set(errors) == {Block.DATE} and "today or an earlier date" in errors[Block.DATE]
    errors = people["sw"].submit(view, {Block.OUTCOME: "stepped_up", Block.REASON: "Court",
                                        Block.DATE: "2026-11-01"}).json()["errors"]
    assert "initial conference" in errors[Block.DATE]
    errors = people["sw"].submit(view, {Block.OUTCOME: "stepped_up", Block.REASON: "x" * 2001}).json()["errors"]
    assert "under 2,000 characters" in errors[Block.REASON]
    assert _case(engine, info.case_id).status == "open"
    assert not slack.channels[info.channel_id].archived


def test_jargon_in_the_reason_is_pointed_out_then_kept(people, slack, app, engine):
    info = new_case(people, slack)
    view = _open_form(people, slack, "sw", info.channel_id)
    values = {Block.OUTCOME: "stepped_up", Block.REASON: "The PLO letter was sent and the case goes to court."}
    body = people["sw"].submit(view, values).json()
    assert body["response_action"] == "update"
    assert "public law outline" in json.dumps(body["view"]["blocks"])
    assert _case(engine, info.case_id).status == "open"
    again = dict(body["view"], id=view["id"])
    assert people["sw"].submit(again).body == ""
    case = _case(engine, info.case_id)
    assert case.status == "closed" and case.close_reason.startswith("The PLO letter")


def test_a_closed_case_is_read_only(people, slack, app, engine):
    info = new_case(people, slack)
    people["sw"].click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
    plan_form = opened_view(slack, View.PLAN_EDIT)
    assert _close(people, slack, "sw", info.channel_id).body == ""
    with Session(engine) as session:
        events_after_close = len(session.exec(select(AuditEvent)).all())
    slack.reset()

    # Reading still works, from anywhere (the archived channel takes no commands), without an Edit button.
    people["hv"].command("plan", channel="C0GENERAL")
    shown = [t for t in ephemeral_texts(slack) if "The plan for CP-TEST-0001" in t]
    assert shown and Action.PLAN_EDIT not in shown[0]

    # Every way of writing is refused with the reason.
    slack.reset()
    people["sw"].command("close", channel=info.channel_id)
    people["sw"].command("members", channel=info.channel_id)
    people["hv"].click(Action.PLAN_EDIT, {"c": info.case_id}, channel="C0GENERAL")
    refusals = [t for t in ephemeral_texts(slack) if CASE_CLOSED in t]
    assert len(refusals) == 3
    assert slack.calls_to("views.open") == []
    reply = people["sw"].submit(plan_form, {Block.DANGER: "A new worry written after closing"})
    assert CASE_CLOSED in json.dumps(reply.json()["view"])
    with Session(engine) as session:
        assert session.exec(select(PlanItem)).all() == []
        assert len(session.exec(select(AuditEvent)).all()) == events_after_close


def test_close_waits_for_a_meeting_in_progress(people, slack, app, engine):
    info = new_case(people, slack)
    view = _open_form(people, slack, "sw", info.channel_id)
    with Session(engine) as session:
        session.add(Meeting(case_id=info.case_id, number=1, scheduled_start=datetime.now(UTC),
                            status=MeetingStatus.IN_PROGRESS, source_key=f"meeting:{info.case_id}:1"))
        session.commit()
    reply = people["sw"].submit(view, {Block.OUTCOME: "plan_ended", Block.REASON: REASON})
    assert MEETING_RUNNING in json.dumps(reply.json()["view"])
    slack.reset()
    people["sw"].command("close", channel=info.channel_id)
    assert slack.calls_to("views.open") == []
    assert any("A meeting is in progress" in t for t in ephemeral_texts(slack))
    assert _case(engine, info.case_id).status == "open"
    assert not slack.channels[info.channel_id].archived


def test_two_people_closing_at_once_close_it_once(people, slack, app, engine):
    info = new_case(people, slack, members=("hv", "manager"))
    with Session(engine) as session:
        manager = session.exec(select(Member).where(Member.slack_user_id == people["manager"].user_id)).one()
        manager.role = "Team manager"
        session.add(manager)
        session.commit()
    first = _open_form(people, slack, "sw", info.channel_id)
    second = _open_form(people, slack, "manager", info.channel_id)
    values = {Block.OUTCOME: "plan_ended", Block.REASON: REASON}
    assert people["sw"].submit(first, values).body == ""
    assert people["sw"].submit(first, values).status == 200  # a double click
    reply = people["manager"].submit(second, values)
    assert CASE_CLOSED in json.dumps(reply.json()["view"])
    assert len(posted(slack, info.channel_id, "is closed")) == 1
    assert len(slack.calls_to("conversations.archive")) == 1
    with Session(engine) as session:
        assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "case.closed")).all()) == 1


def test_when_slack_will_not_archive_the_case_stays_closed_and_the_closer_is_told(people, slack, app, engine):
    info = new_case(people, slack)
    slack.fail_next("conversations.archive", error="restricted_action", status=200)
    assert _close(people, slack, "sw", info.channel_id).body == ""
    assert _case(engine, info.case_id).status == "closed"
    assert not slack.channels[info.channel_id].archived
    told = [m for m in slack.messages(people["sw"].user_id) if "could not archive" in m.get("text", "")]
    assert len(told) == 1 and "does not let apps archive channels" in told[0]["text"]


def test_channel_events_after_closing_change_nothing(people, slack, app, engine):
    info = new_case(people, slack)
    assert _close(people, slack, "sw", info.channel_id).body == ""
    slack.reset()
    team = people["hv"].team_id
    send_event(app, {"type": "member_left_channel", "user": people["hv"].user_id, "channel": info.channel_id,
                     "channel_type": "G", "team": team}, team_id=team)
    send_event(app, {"type": "member_joined_channel", "user": people["outsider"].user_id,
                     "channel": info.channel_id, "channel_type": "G", "team": team}, team_id=team)
    assert _member_status(engine, people["hv"].user_id) == "active"
    assert slack.calls_to("chat.postMessage") == []
    assert app.executor.errors == []


def _member_status(engine, user_id: str) -> str:
    with Session(engine) as session:
        return session.exec(select(Member).where(Member.slack_user_id == user_id)).one().status
