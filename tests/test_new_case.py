"""`/coregroup new` end to end: signed requests in, a private channel with its members out."""

from __future__ import annotations

import json

from sqlmodel import select

from handlers.ids import Block, View
from models.tables import AuditEvent, Case, Child, Member
from tests.helpers import new_case, opened_view


def test_help_lists_the_subcommands(people, slack):
    reply = people["sw"].command("")
    assert reply.status == 200
    body = reply.json()
    text = json.dumps(body["blocks"])
    for name in ("new", "members", "plan"):
        assert f"/coregroup {name}" in text
    assert body["response_type"] == "ephemeral"


def test_unknown_subcommand_gets_help_with_a_hint(people):
    reply = people["sw"].command("frobnicate now")
    body = reply.json()
    assert "I do not know `frobnicate`" in json.dumps(body["blocks"])


def test_new_case_creates_private_channel_with_members_and_pinned_welcome(people, slack, session):
    sw, hv, teacher = people["sw"], people["hv"], people["teacher"]
    sw.command("new")
    view = opened_view(slack, View.NEW_CASE)
    reply = sw.submit(view, {
        Block.REFERENCE: "cp-test-0001",
        Block.CHILDREN: "Child A (7)\nChild B (4)",
        Block.INITIAL: "2026-11-16",
        Block.REVIEW: "2027-02-08",
        Block.PROFESSIONALS: [hv.user_id, teacher.user_id],
        Block.LEAD: sw.user_id,
    })
    assert reply.status == 200 and reply.body == ""

    created = slack.calls_to("conversations.create")[0]
    assert created.args["name"] == "cg-cp-test-0001"
    assert created.args["is_private"] in (True, "true", "1", 1)
    channel_id = created.response["channel"]["id"]
    channel = slack.channels[channel_id]
    assert {hv.user_id, teacher.user_id, sw.user_id} <= _member_ids(channel)

    welcome = [m for m in slack.messages(channel_id) if "Core group for CP-TEST-0001" in m.get("text", "")]
    assert len(welcome) == 1
    assert welcome[0]["ts"] in channel.pins
    assert "Child A" in json.dumps(welcome[0]["blocks"])

    case = session.exec(select(Case)).one()
    assert case.reference == "CP-TEST-0001" and case.channel_id == channel_id and case.frequency_weeks == 6
    assert [c.label for c in session.exec(select(Child).order_by(Child.position))] == ["Child A", "Child B"]
    members = session.exec(select(Member)).all()
    assert {(m.slack_team_id, m.slack_user_id) for m in members} == {
        (sw.team_id, sw.user_id), (hv.team_id, hv.user_id), (teacher.team_id, teacher.user_id)}
    assert [m.slack_user_id for m in members if m.is_lead] == [sw.user_id]
    assert session.exec(select(AuditEvent).where(AuditEvent.action == "case.created")).one().case_id == case.id


def test_reference_in_use_is_a_modal_error_and_nothing_is_created(people, slack, session):
    new_case(people, slack, reference="CP-TEST-0002")
    slack.reset()
    people["hv"].command("new")
    view = opened_view(slack, View.NEW_CASE)
    reply = people["hv"].submit(view, {Block.REFERENCE: "CP-TEST-0002", Block.CHILDREN: "Child A (3)",
                                       Block.LEAD: people["hv"].user_id})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert "already a core group" in body["errors"][Block.REFERENCE]
    assert slack.calls_to("conversations.create") == []
    assert len(session.exec(select(Case)).all()) == 1


def test_channel_name_taken_is_a_modal_error_and_nothing_is_half_created(people, slack, session):
    slack.fail_next("conversations.create", error="name_taken", status=200)
    people["sw"].command("new")
    view = opened_view(slack, View.NEW_CASE)
    reply = people["sw"].submit(view, {Block.REFERENCE: "CP-TEST-0003", Block.CHILDREN: "Child A (7)",
                                       Block.LEAD: people["sw"].user_id})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert "#cg-cp-test-0003 already exists" in body["errors"][Block.REFERENCE]
    assert session.exec(select(Case)).all() == []
    assert session.exec(select(Member)).all() == []
    assert slack.calls_to("chat.postMessage") == []


def test_bad_children_and_dates_keep_what_was_typed(people, slack, session):
    people["sw"].command("new")
    view = opened_view(slack, View.NEW_CASE)
    reply = people["sw"].submit(view, {Block.REFERENCE: "CP-TEST-0004", Block.CHILDREN: "the eldest",
                                       Block.INITIAL: "2026-11-16", Block.REVIEW: "2026-11-01",
                                       Block.LEAD: people["sw"].user_id})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {Block.CHILDREN, Block.REVIEW}
    assert "Child A (7)" in body["errors"][Block.CHILDREN]
    assert session.exec(select(Case)).all() == []


def _member_ids(channel) -> set[str]:
    return {m if isinstance(m, str) else m[1] for m in channel.members}
