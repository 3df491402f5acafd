"""Decisions end to end: the chair (or lead social worker) records them, in the meeting's thread during a
meeting; the "Record as decision" shortcut; refusals; one record per submitted form."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from handlers.ids import Action, Block, Shortcut, View
from models.tables import AuditEvent, Decision
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.meeting_factories import insert_meeting


def _decisions(app):
    with Session(app.engine) as session:
        return session.exec(select(Decision).order_by(Decision.id)).all()


def test_chair_records_a_decision_in_the_meeting_thread(people, slack, app):
    case = new_case(people, slack)
    meeting_post = slack.add_message(case.channel_id, "U0BOT", "Core group meeting")
    meeting = insert_meeting(app.engine, case.case_id, chair_user=people["hv"].user_id, channel_id=case.channel_id,
                             message_ts=meeting_post["ts"])
    people["hv"].command("decision Refer the parents to the parenting group", channel=case.channel_id)
    view = opened_view(slack, View.DECISION)
    assert "today's meeting" in json.dumps(view["blocks"])
    reply = people["hv"].submit(view)
    assert reply.body == ""
    people["hv"].submit(view)  # the same form again (a retry): one decision
    (decision,) = _decisions(app)
    assert (decision.meeting_id, decision.text) == (meeting, "Refer the parents to the parenting group")
    post = posted(slack, case.channel_id, "Refer the parents to the parenting group")
    assert len(post) == 1 and post[0]["thread_ts"] == meeting_post["ts"]
    with Session(app.engine) as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "decision.recorded")).one()


def test_lead_social_worker_records_between_meetings(people, slack, app):
    case = new_case(people, slack)
    people["sw"].command("decision", channel=case.channel_id)
    view = opened_view(slack, View.DECISION)
    assert "between meetings" in json.dumps(view["blocks"])
    people["sw"].submit(view, {Block.DECISION_TEXT: "Ask the school nurse to join the core group"})
    (decision,) = _decisions(app)
    assert decision.meeting_id is None
    assert "thread_ts" not in posted(slack, case.channel_id, "school nurse to join")[0]


def test_other_members_are_told_only_the_chair_records(people, slack, app):
    case = new_case(people, slack)
    insert_meeting(app.engine, case.case_id, chair_user=people["hv"].user_id)
    people["teacher"].command("decision", channel=case.channel_id)
    assert any("Only the chair of the meeting or the lead social worker" in t for t in ephemeral_texts(slack))
    people["teacher"].click(Action.DECISION_START, {"c": case.case_id}, channel=case.channel_id)
    assert len([t for t in ephemeral_texts(slack) if "Only the chair" in t]) == 2
    # A form opened by the chair and submitted by someone else who is a member but not the chair.
    people["hv"].command("decision", channel=case.channel_id)
    reply = people["teacher"].submit(opened_view(slack, View.DECISION), {Block.DECISION_TEXT: "Something"})
    assert reply.json()["response_action"] == "update"
    assert _decisions(app) == []


def test_empty_decision_is_a_modal_error(people, slack, app):
    case = new_case(people, slack)
    people["sw"].command("decision", channel=case.channel_id)
    reply = people["sw"].submit(opened_view(slack, View.DECISION), {Block.DECISION_TEXT: "  "})
    assert reply.json()["response_action"] == "errors" and Block.DECISION_TEXT in reply.json()["errors"]
    assert _decisions(app) == []


def test_jargon_is_queried_before_saving(people, slack, app):
    case = new_case(people, slack)
    people["sw"].command("decision", channel=case.channel_id)
    reply = people["sw"].submit(opened_view(slack, View.DECISION), {Block.DECISION_TEXT: "Step down to CIN"})
    body = reply.json()
    assert body["response_action"] == "update" and "child in need" in json.dumps(body["view"])
    assert _decisions(app) == []
    people["sw"].submit(dict(body["view"], id=opened_view(slack, View.DECISION)["id"]))  # the same form, sent again
    assert [d.text for d in _decisions(app)] == ["Step down to CIN"]


def test_record_as_decision_shortcut(people, slack, app):
    case = new_case(people, slack)
    insert_meeting(app.engine, case.case_id)
    said = slack.add_message(case.channel_id, people["hv"].user_id,
                             f"Agreed: <@{people['teacher'].user_id}> will share attendance weekly")
    people["sw"].shortcut(Shortcut.RECORD_DECISION, channel=case.channel_id, message=said)
    view = opened_view(slack, View.DECISION)
    typed = next(b for b in view["blocks"] if b.get("block_id") == Block.DECISION_TEXT)["element"]["initial_value"]
    assert typed.startswith("Agreed: ") and "<@" not in typed and "will share attendance weekly" in typed
    people["sw"].submit(view)
    assert len(_decisions(app)) == 1
    # Members who are not the chair, and people outside the group, are refused.
    people["teacher"].shortcut(Shortcut.RECORD_DECISION, channel=case.channel_id, message=said)
    people["outsider"].shortcut(Shortcut.RECORD_DECISION, channel=case.channel_id, message=said)
    texts = ephemeral_texts(slack)
    assert any("Only the chair" in t for t in texts) and any("Only members of this core group" in t for t in texts)


def test_non_member_is_refused(people, slack, app):
    case = new_case(people, slack)
    people["outsider"].command("decision", channel=case.channel_id)
    people["outsider"].click(Action.DECISION_START, {"c": case.case_id}, channel=case.channel_id)
    people["sw"].command("decision", channel=case.channel_id)
    reply = people["outsider"].submit(opened_view(slack, View.DECISION), {Block.DECISION_TEXT: "x"})
    assert reply.json()["response_action"] == "update"
    assert len([t for t in ephemeral_texts(slack) if "Only members of this core group" in t]) == 2
    assert _decisions(app) == []
