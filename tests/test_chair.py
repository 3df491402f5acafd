"""The chair, end to end over signed requests: the chair's apologies reach the lead social worker privately with
working buttons; the record names who actually chaired; a chair from another organisation (Slack Connect) runs a
whole meeting by buttons only; anyone else pressing the chair's buttons is told why, privately."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models.ledger import Kind
from models.tables import (
    Action as ActionRow,
)
from models.tables import (
    AuditEvent,
    Decision,
    Meeting,
    MeetingStatus,
    Member,
    MessageStatus,
    Recap,
    RecapStatus,
    ScalingQuestion,
    ScheduledMessage,
)
from tests.helpers import ephemeral_texts, mark_the_rest, new_case, opened_view, posted, schedule_meeting
from tests.reads import get, rows
from tests.recap_world import plain_text, preview_value, recap_messages_in
from tests.reminder_world import dispatcher
from tests.test_multi_agency import HV_ID, invite_and_join

MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MEETING_DAY = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
END_FORM = {
    Block.RECAP_KEY_POINTS: "Child A is going to school every day. Mornings are still hard.",
    Block.RECAP_RISK: "reducing",
    Block.RECAP_CHILD_VIEWS: "Child A says they like the after-school club.",
    Block.RECAP_PARENTS_VIEWS: "Mother of Child A says the help with mornings is working.",
    Block.RECAP_RECOMMENDATION: "continue",
}


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(MONDAY, tick=True):
        yield


def member(app, case, user_id: str) -> Member:
    [found] = rows(app, select(Member).where(Member.case_id == case.case_id, Member.slack_user_id == user_id))
    return found


def dm_messages(slack, user_id: str) -> list[dict]:
    """Messages in the direct message conversation the app opened with this person."""
    channels = {c.response["channel"]["id"] for c in slack.calls_to("conversations.open")
                if c.args.get("users") == user_id and c.response.get("ok")}
    # Not the files the app shares there (the outline for the family, sent to the lead when a meeting is booked).
    return [m for channel in channels for m in slack.messages(channel) if not m.get("files")]


def element(message: dict, action_id: str) -> dict | None:
    for block in message.get("blocks") or []:
        for found in block.get("elements") or []:
            if found.get("action_id") == action_id:
                return found
    return None


def newest_with(slack, channel: str, action_id: str) -> tuple[str, dict]:
    """(value, message) of the newest message in the channel (threads included) with this button."""
    for message in reversed(slack.messages(channel)):
        found = element(message, action_id)
        if found is not None:
            return found["value"], message
    raise AssertionError(f"no {action_id} button in {channel}")


def scheduled_run(app, slack):
    """One run of the scheduler (the real dispatcher), which sends the chair's-apologies alert that is due."""
    return dispatcher(app.engine, slack).run_once()


def views_opened(slack) -> list[str]:
    return [c.args["view"]["callback_id"] for c in slack.calls_to("views.open")]


# --- the chair's apologies ---------------------------------------------------------------------------------


def test_the_chairs_apologies_reach_the_lead_social_worker_privately_with_working_buttons(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher", "gp"))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    value, notice = newest_with(slack, case.channel_id, Action.SEND_APOLOGIES)
    channel_before = len(slack.messages(case.channel_id))
    people["hv"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    scheduled_run(app, slack)

    [alert] = dm_messages(slack, "U0SW")
    assert "has sent apologies" in alert["text"] and "<@U0HV>" in json.dumps(alert["blocks"])
    take, pick = element(alert, Action.CHAIR_TAKE), element(alert, Action.CHAIR_PICK)
    assert take and pick
    # Private: nothing about it in the case channel, and nobody else was messaged.
    assert not [m for m in slack.messages(case.channel_id)[channel_before:] if "sent apologies" in json.dumps(m)]
    assert dm_messages(slack, "U0TEACH") == dm_messages(slack, "U0GP") == []
    # Sending apologies again does not alert again.
    people["hv"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    scheduled_run(app, slack)
    assert len(dm_messages(slack, "U0SW")) == 1

    # Only the lead social worker can take the chair from the alert; someone else is told why.
    people["teacher"].click(Action.CHAIR_TAKE, take["value"], channel="D0TEACH", message=alert)
    assert any("Only the lead social worker" in t for t in ephemeral_texts(slack))
    people["teacher"].click(Action.CHAIR_PICK, pick["value"], channel="D0TEACH", message=alert)
    assert any("Only the lead social worker or the chair" in t for t in ephemeral_texts(slack))
    assert get(app, Meeting, meeting.id).chair_member_id == member(app, case, "U0HV").id

    # "Pick another chair": the lead social worker chooses the teacher (the health visitor, away, is not offered).
    people["sw"].click(Action.CHAIR_PICK, pick["value"], channel="D0SW", message=alert)
    view = opened_view(slack, View.CHAIR_PICK)
    offered = {o["value"] for b in view["blocks"] if b.get("block_id") == Block.CHAIR
               for o in b["element"]["options"]}
    teacher = member(app, case, "U0TEACH")
    assert str(teacher.id) in offered and str(member(app, case, "U0HV").id) not in offered
    assert people["sw"].submit(view, {Block.CHAIR: str(teacher.id)}).body == ""
    assert get(app, Meeting, meeting.id).chair_member_id == teacher.id
    told = posted(slack, case.channel_id, "has asked <@U0TEACH> to chair core group meeting 1")
    assert told and "<@U0HV> sent apologies" in json.dumps(told[-1]["blocks"])
    [changed] = rows(app, select(AuditEvent).where(AuditEvent.action == "meeting.chair_changed"))
    assert changed.record_id == meeting.id

    # The new chair cannot come either: the lead social worker is told again, and chairs it themselves.
    value, notice = newest_with(slack, case.channel_id, Action.SEND_APOLOGIES)
    people["teacher"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    scheduled_run(app, slack)
    alerts = dm_messages(slack, "U0SW")
    assert len(alerts) == 2 and "<@U0TEACH>" in json.dumps(alerts[-1]["blocks"])
    people["sw"].click(Action.CHAIR_TAKE, element(alerts[-1], Action.CHAIR_TAKE)["value"], channel="D0SW",
                       message=alerts[-1])
    sw = member(app, case, "U0SW")
    assert get(app, Meeting, meeting.id).chair_member_id == sw.id
    assert any("You are now the chair" in t for t in ephemeral_texts(slack))

    # The record names who actually chaired.
    with time_machine.travel(MEETING_DAY, tick=True):
        value, notice = newest_with(slack, case.channel_id, Action.MEETING_START)
        people["sw"].click(Action.MEETING_START, value, channel=case.channel_id, message=notice)
        view = opened_view(slack, View.START)
        assert people["sw"].submit(view, mark_the_rest(view)).body == ""
        assert get(app, Meeting, meeting.id).chaired_by_member_id == sw.id
        start_post = posted(slack, case.channel_id, "Core group meeting 1 has started")[-1]
        assert "*Chair:* <@U0SW>" in json.dumps(start_post["blocks"])
        value, panel = newest_with(slack, case.channel_id, Action.MEETING_END)
        people["sw"].click(Action.MEETING_END, value, channel=case.channel_id, message=panel)
        assert people["sw"].submit(opened_view(slack, View.END), END_FORM).body == ""
        people["sw"].click(Action.RECAP_POST, preview_value(slack), channel=case.channel_id)
    [recap] = rows(app, select(Recap).where(Recap.meeting_id == meeting.id))
    assert recap.status == RecapStatus.POSTED
    assert json.loads(recap.content)["meeting"]["chair"]["id"] == sw.id


def test_the_lead_social_worker_picks_another_chair_when_they_were_to_chair_themselves(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30")  # the first: the lead social worker
    assert get(app, Meeting, meeting.id).chair_member_id == member(app, case, "U0SW").id
    value, notice = newest_with(slack, case.channel_id, Action.SEND_APOLOGIES)
    people["sw"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    scheduled_run(app, slack)
    [alert] = dm_messages(slack, "U0SW")
    assert element(alert, Action.CHAIR_TAKE) is None and element(alert, Action.CHAIR_PICK) is not None


def test_the_chairs_apologies_alert_survives_a_crash_and_slack_refusing_and_is_sent_once(people, slack, app):
    """The alert is a scheduled message planned with the apologies, in the same transaction: the app that saved them
    never sends it itself (as if it had stopped right after saving), and the scheduler sends it, once, trying again
    when Slack does not take it. (It used to be sent straight after the save, and lost if the process died.)"""
    case = new_case(people, slack, members=("hv",))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    value, notice = newest_with(slack, case.channel_id, Action.SEND_APOLOGIES)
    people["hv"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    app.wait_idle()
    assert dm_messages(slack, "U0SW") == []  # nothing sent by the request's own process
    [row] = rows(app, select(ScheduledMessage).where(ScheduledMessage.kind == Kind.CHAIR_APOLOGIES))
    assert row.status == MessageStatus.PENDING and row.meeting_id == meeting.id

    # The first run: Slack does not take the message; it stays due and the next run sends it.
    slack.fail_next("chat.postMessage", status=200, error="fatal_error")
    scheduled_run(app, slack)
    assert dm_messages(slack, "U0SW") == []
    assert get(app, ScheduledMessage, row.id).status == MessageStatus.PENDING
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=2), tick=True):
        scheduled_run(app, slack)
        [alert] = dm_messages(slack, "U0SW")
        assert element(alert, Action.CHAIR_TAKE) is not None and "<@U0HV>" in json.dumps(alert["blocks"])
        assert get(app, ScheduledMessage, row.id).status == MessageStatus.SENT
        # Sent once: more runs, the chair's update (apologies again) and apologies pressed again send nothing more.
        reply = people["hv"].submit(opened_view(slack, View.UPDATE), {
            Block.UPDATE_WORRIES: "Child A missed two days of school."})
        assert reply.body == ""
        people["hv"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
        scheduled_run(app, slack)
        scheduled_run(app, slack)
    assert len(dm_messages(slack, "U0SW")) == 1


def test_a_chair_who_can_come_after_all_before_the_alert_goes_is_not_reported(people, slack, app):
    case = new_case(people, slack, members=("hv",))
    schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    value, notice = newest_with(slack, case.channel_id, Action.SEND_APOLOGIES)
    people["hv"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    people["hv"].click(Action.ATTENDING, value, channel=case.channel_id, message=notice)
    scheduled_run(app, slack)
    assert dm_messages(slack, "U0SW") == []
    # Apologies again after all: the lead social worker is told.
    people["hv"].click(Action.SEND_APOLOGIES, value, channel=case.channel_id, message=notice)
    scheduled_run(app, slack)
    assert len(dm_messages(slack, "U0SW")) == 1


# --- a chair from another organisation, by buttons only ------------------------------------------------------


def test_a_chair_from_another_organisation_runs_a_whole_meeting_by_buttons(people, slack, app):
    case = new_case(people, slack, members=("teacher",))
    external = invite_and_join(app, people, slack, case)
    hv = member(app, case, HV_ID)
    assert hv.slack_team_id != member(app, case, "U0SW").slack_team_id  # another organisation
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    assert people["sw"].submit(view, {Block.DATE: "2026-11-30", Block.TIME: "10:00", Block.LENGTH: 90,
                                      Block.LOCATION: "Family centre, room 1",
                                      Block.CHAIR: str(hv.id)}).body == ""
    [meeting] = rows(app, select(Meeting).where(Meeting.case_id == case.case_id))
    with Session(app.engine, expire_on_commit=False) as session:  # a parent who is not on Slack
        mother = Member(case_id=case.case_id, name="Mother of Child A", role="Parent")
        session.add(mother)
        session.commit()
    # The meeting's notice offers the chair, from the start, to record the family's views before the meeting.
    _value, notice = newest_with(slack, case.channel_id, Action.MEETING_START)
    assert element(notice, Action.FAMILY_VIEWS) is not None
    with time_machine.travel(MEETING_DAY, tick=True):
        # Every step is a click or a form: Slack does not share slash commands across organisations.
        # Start, from the meeting's notice in the channel.
        value, notice = newest_with(slack, case.channel_id, Action.MEETING_START)
        external.click(Action.MEETING_START, value, channel=case.channel_id, message=notice)
        view = opened_view(slack, View.START)
        assert external.submit(view, mark_the_rest(view)).body == ""
        started = get(app, Meeting, meeting.id)
        assert started.status == MeetingStatus.IN_PROGRESS and started.chaired_by_member_id == hv.id

        # The mother has no Slack: the chair records what she said, from the chair's panel.
        value, panel = newest_with(slack, case.channel_id, Action.FAMILY_VIEWS)
        assert panel.get("thread_ts") == meeting.message_ts
        external.click(Action.FAMILY_VIEWS, value, channel=case.channel_id, message=panel)
        view = opened_view(slack, View.FAMILY_VIEWS)
        assert "during meeting 1" in json.dumps(view["blocks"])
        assert external.submit(view, {Block.FAMILY_MEMBER: str(mother.id),
                                      Block.FAMILY_WORRIES: "I worry about the mornings."}).status == 200

        # The chair's panel, in the meeting's thread.
        value, panel = newest_with(slack, case.channel_id, Action.SCALE_START)
        assert panel.get("thread_ts") == meeting.message_ts and "Chair's buttons" in panel["text"]
        external.click(Action.SCALE_START, value, channel=case.channel_id, message=panel)
        assert external.submit(opened_view(slack, View.SCALE_ASK), {
            Block.SCALE_QUESTION: "How safe is Child A at home?", Block.SCALE_ZERO: "Child A is not safe at home",
            Block.SCALE_TEN: "Everyone is sure Child A is safe at home"}).body == ""

        value, panel = newest_with(slack, case.channel_id, Action.DECISION_START)
        external.click(Action.DECISION_START, value, channel=case.channel_id, message=panel)
        assert external.submit(opened_view(slack, View.DECISION), {
            Block.DECISION_TEXT: "Child A will go to the after-school club on Tuesdays."}).body == ""

        value, panel = newest_with(slack, case.channel_id, Action.CHAIR_ACTION)
        external.click(Action.CHAIR_ACTION, value, channel=case.channel_id, message=panel)
        assert external.submit(opened_view(slack, View.ACTION_ADD), {
            Block.ACTION_WHAT: "Visit the family at home after school", Block.ACTION_OWNER: str(hv.id),
            Block.ACTION_DUE: "2026-12-11", Block.ACTION_MEASURE: "Two visits done and Child A seen"}).body == ""

        value, panel = newest_with(slack, case.channel_id, Action.MEETING_END)
        external.click(Action.MEETING_END, value, channel=case.channel_id, message=panel)
        assert external.submit(opened_view(slack, View.END), END_FORM).body == ""
        external.click(Action.RECAP_POST, preview_value(slack), channel=case.channel_id)

    assert [q.question for q in rows(app, select(ScalingQuestion))] == ["How safe is Child A at home?"]
    assert [d.text for d in rows(app, select(Decision))] == ["Child A will go to the after-school club on Tuesdays."]
    assert [a.what for a in rows(app, select(ActionRow))] == ["Visit the family at home after school"]
    assert "I worry about the mornings." in plain_text(recap_messages_in(slack, case.channel_id))
    assert get(app, Meeting, meeting.id).status == MeetingStatus.ENDED
    [recap] = rows(app, select(Recap).where(Recap.meeting_id == meeting.id))
    assert recap.status == RecapStatus.POSTED and json.loads(recap.content)["meeting"]["chair"]["id"] == hv.id
    record = plain_text(recap_messages_in(slack, case.channel_id))
    assert "after-school club on Tuesdays" in record and "Visit the family at home after school" in record
    # The chair's panel (the same message, updated in place) now says the meeting has ended, with no buttons left
    # to press; so does the meeting's notice.
    [panel_now] = [m for m in slack.messages(case.channel_id) if m["ts"] == panel["ts"]]
    assert "has ended" in panel_now["text"] and "record has been posted" in json.dumps(panel_now["blocks"])
    assert not [b for b in panel_now["blocks"] if b["type"] == "actions"]
    assert get(app, Meeting, meeting.id).chair_panel_ts == panel["ts"]
    [notice_now] = [m for m in slack.messages(case.channel_id) if m["ts"] == meeting.message_ts]
    assert element(notice_now, Action.MEETING_END) is None and element(notice_now, Action.SCALE_START) is None


def test_anyone_but_the_chair_pressing_the_chairs_buttons_is_told_why(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    meeting = schedule_meeting(people, slack, case, date="2026-11-30", chair="hv")
    with time_machine.travel(MEETING_DAY, tick=True):
        slack.reset()
        value, notice = newest_with(slack, case.channel_id, Action.MEETING_START)
        people["teacher"].click(Action.MEETING_START, value, channel=case.channel_id, message=notice)
        assert views_opened(slack) == []
        assert any("Only the chair of this meeting (<@U0HV>) can start it" in t for t in ephemeral_texts(slack))
        assert get(app, Meeting, meeting.id).status == MeetingStatus.SCHEDULED

        people["hv"].click(Action.MEETING_START, value, channel=case.channel_id, message=notice)
        view = opened_view(slack, View.START)
        assert people["hv"].submit(view, mark_the_rest(view)).body == ""
        slack.reset()
        for action_id, reason in ((Action.SCALE_START, "Only the chair of the meeting"),
                                  (Action.DECISION_START, "Only the chair of the meeting"),
                                  (Action.CHAIR_ACTION, "Only the chair of this meeting (<@U0HV>)"),
                                  (Action.MEETING_END, "Only the chair of this meeting")):
            value, panel = newest_with(slack, case.channel_id, action_id)
            people["teacher"].click(action_id, value, channel=case.channel_id, message=panel)
            assert any(reason in t for t in ephemeral_texts(slack)[-1:]), action_id
        assert views_opened(slack) == []
        # Someone outside the core group is told they are not a member.
        people["outsider"].click(Action.MEETING_END, value, channel=case.channel_id, message=panel)
        assert any("Only members of this core group" in t for t in ephemeral_texts(slack))
    assert views_opened(slack) == []
    assert rows(app, select(Decision)) == [] and rows(app, select(ScalingQuestion)) == []
    assert get(app, Meeting, meeting.id).status == MeetingStatus.IN_PROGRESS
