"""`/coregroup end` end to end: the chair's form, the preview, approval, the posted record, corrections,
"I have read this", and a crash while posting. Signed requests in; the Slack stand-in checks every message."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot.slack import make_client
from handlers.access import NOT_A_MEMBER
from handlers.blocks import recap_forms
from handlers.ids import Action, Block, View
from handlers.recap import post_pending_recaps
from models import recap_posting
from models.tables import (
    AuditEvent,
    Meeting,
    MeetingStatus,
    Recap,
    RecapAcknowledgement,
    RecapRecipient,
    RecapStatus,
)
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.recap_world import World, plain_text, preview_calls, preview_value, recap_messages_in, running_meeting

MEMBERS = ("hv", "teacher", "gp", "police")
KEY_POINTS = "Good progress at school. Housing is still a worry."
FORM = {
    Block.RECAP_KEY_POINTS: KEY_POINTS,
    Block.RECAP_RISK: "reducing",
    Block.RECAP_CHILD_VIEWS: "Child A says they feel happier at home.",
    Block.RECAP_PARENTS_VIEWS: "Mother of Child A says the help with mornings is working.",
    Block.RECAP_RECOMMENDATION: "continue",
}
ORDER = ["Main points", "Attendance and apologies", "Written views of those unable to attend", "The child's views",
         "The parents' views", "Progress on actions", "Scaling", "Decisions", "New actions",
         "Are the risks reducing or increasing?", "Recommendation for the review conference", "Next meeting",
         "Shared with"]


@pytest.fixture
def world(people, slack, app) -> World:
    info = new_case(people, slack, members=MEMBERS)
    return running_meeting(app.engine, info, people)


def submit_end(people, slack, world: World, *, chair: str = "hv", values: dict | None = None):
    people[chair].command("end", channel=world.channel_id)
    view = opened_view(slack, View.END)
    return people[chair].submit(view, {**FORM, **(values or {})})


def approve(people, slack, world: World, *, chair: str = "hv"):
    return people[chair].click(Action.RECAP_POST, preview_value(slack), channel=world.channel_id)


def end_and_post(people, slack, world: World, **kwargs) -> Recap:
    reply = submit_end(people, slack, world, **kwargs)
    assert reply.status == 200 and reply.body == "", reply.body
    approve(people, slack, world, chair=kwargs.get("chair", "hv"))
    with Session(people["sw"].app.engine) as session:
        return session.exec(select(Recap).where(Recap.meeting_id == world.meeting_id)).one()


def test_the_chair_ends_the_meeting_and_the_record_is_posted_in_order(people, slack, app, world):
    recap = end_and_post(people, slack, world)

    assert recap.status == RecapStatus.POSTED and recap.version == 1 and recap.message_ts
    messages = recap_messages_in(slack, world.channel_id, recap.id)
    assert messages and messages[0]["ts"] == recap.message_ts
    assert all(m.get("thread_ts") == recap.message_ts for m in messages[1:])
    text = plain_text(messages)
    positions = [text.index(f"*{heading}*") for heading in ORDER]
    assert positions == sorted(positions), "the parts of the record are out of order"
    assert KEY_POINTS in text
    assert "*Apologies:* Doctor A (GP)" in text
    assert "Child A said school is better now." in text  # the absent GP's update: the child's views as heard
    assert "*Overdue* · Arrange a home visit 1" in text and "carried forward twice" in text
    assert "*Done* · Arrange a home visit 3" in text
    assert "middle score 5.5" in text and "differ by 4 points" in text and "up since the last meeting" in text
    assert "How well is Child A doing at school?" in text and "First time this question was scored" in text
    assert "Child A will attend the after-school club on Tuesdays." in text
    assert "New action 1" in text and "how we will know: New measure 1" in text
    assert "The risks are reducing." in text and "Continue the plan" in text
    assert "*To be shared outside Slack by the chair:* Mother of Child A (Parent)" in text

    with Session(app.engine) as session:
        meeting = session.get(Meeting, world.meeting_id)
        assert meeting.status == MeetingStatus.ENDED and meeting.ended_at is not None
        following = session.exec(select(Meeting).where(Meeting.case_id == world.case_id,
                                                       Meeting.status == MeetingStatus.SCHEDULED)).one()
        assert following.number == 3 and following.message_ts  # booked as proposed, and posted
        recipients = session.exec(select(RecapRecipient).where(RecapRecipient.recap_id == recap.id)).all()
        assert {(r.member_id, r.via) for r in recipients} == {
            *((world.members[k], "channel") for k in ("sw", "hv", "teacher", "gp", "police")),
            (world.members["parent"], "outside_slack")}
        actions = {e.action for e in session.exec(select(AuditEvent).where(AuditEvent.case_id == world.case_id))}
        assert {"recap.drafted", "recap.approved", "recap.posted", "meeting.ended", "meeting.scheduled"} <= actions
    assert posted(slack, world.channel_id, "Core group meeting 3")
    assert all(c.response.get("ok") for c in slack.calls_to("chat.postMessage"))


# --- who may end it, and approval before anything is posted ------------------------------------------------


def test_nothing_is_posted_until_the_chair_approves_the_preview(people, slack, app, world):
    reply = submit_end(people, slack, world)
    assert reply.status == 200 and reply.body == ""

    previews = preview_calls(slack)
    assert previews and all(c.args["user"] == people["hv"].user_id for c in previews)
    assert KEY_POINTS in json.dumps([c.args["blocks"] for c in previews])
    assert recap_messages_in(slack, world.channel_id) == []
    with Session(app.engine) as session:
        recap = session.exec(select(Recap)).one()
        assert recap.status == RecapStatus.DRAFT
        assert session.get(Meeting, world.meeting_id).status == MeetingStatus.IN_PROGRESS

    approve(people, slack, world)
    parts = [m["metadata"]["event_payload"]["part"] for m in recap_messages_in(slack, world.channel_id)]
    assert parts.count(0) == 1
    response = slack.calls_to("response_url")[-1]
    assert "posted in the channel" in response.args["text"] and response.args.get("replace_original") in (True, "true")


def test_someone_who_is_not_the_chair_cannot_end_or_post(people, slack, app, world):
    people["teacher"].command("end", channel=world.channel_id)
    assert any("Only the chair of this meeting or the lead social worker" in t for t in ephemeral_texts(slack))
    assert not [c for c in slack.calls if c.method == "views.open" and c.args["view"]["callback_id"] == View.END]

    submit_end(people, slack, world)
    slack.reset()
    people["teacher"].click(Action.RECAP_POST, preview_value_from_draft(app, world), channel=world.channel_id)
    assert any("Only the chair" in t for t in ephemeral_texts(slack))
    assert recap_messages_in(slack, world.channel_id) == []


def preview_value_from_draft(app, world: World) -> dict:
    from handlers.recap import digest

    with Session(app.engine) as session:
        recap = session.exec(select(Recap).where(Recap.meeting_id == world.meeting_id)).one()
        return {"c": world.case_id, "r": recap.id, "h": digest(recap.content)}


def test_the_lead_social_worker_can_end_the_meeting_for_the_chair(people, slack, app, world):
    recap = end_and_post(people, slack, world, chair="sw")
    assert recap.status == RecapStatus.POSTED


def test_someone_outside_the_core_group_is_refused_everywhere(people, slack, app, world):
    people["outsider"].command("end", channel=world.channel_id)
    assert any(NOT_A_MEMBER in t for t in ephemeral_texts(slack))
    recap = end_and_post(people, slack, world)
    slack.reset()
    value = {"c": world.case_id, "r": recap.id}
    for action_id in (Action.RECAP_READ, Action.RECAP_CORRECT, Action.RECAP_POST, Action.RECAP_EDIT):
        people["outsider"].click(action_id, value, channel=world.channel_id)
    assert len([t for t in ephemeral_texts(slack) if NOT_A_MEMBER in t]) == 4
    assert slack.calls_to("views.open") == [] and slack.calls_to("chat.update") == []
    with Session(app.engine) as session:
        assert session.exec(select(RecapAcknowledgement)).all() == []


def test_end_needs_a_meeting_in_progress(people, slack, app):
    info = new_case(people, slack, members=MEMBERS)
    people["sw"].command("end", channel=info.channel_id)
    assert any("No meeting is in progress" in t for t in ephemeral_texts(slack))


def test_the_childs_views_or_why_not_are_required_and_what_was_typed_stays(people, slack, app, world):
    reply = submit_end(people, slack, world, values={Block.RECAP_CHILD_VIEWS: None})
    body = reply.json()
    assert body["response_action"] == "errors" and Block.RECAP_CHILD_VIEWS in body["errors"]
    assert preview_calls(slack) == []

    view = opened_view(slack, View.END)
    reply = people["hv"].submit(view, {**FORM, Block.RECAP_CHILD_VIEWS: None,
                                       Block.RECAP_CHILD_MISSING: "Child A was ill and not at school this week."})
    assert reply.body == ""
    assert "Why the child's views were not obtained" in json.dumps([c.args["blocks"] for c in preview_calls(slack)])


def test_a_next_meeting_on_a_weekend_is_refused(people, slack, app, world):
    from datetime import date

    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7 or 7)
    reply = submit_end(people, slack, world, values={Block.RECAP_NEXT_DATE: saturday.isoformat()})
    assert "not a working day" in reply.json()["errors"][Block.RECAP_NEXT_DATE]


def test_initials_are_queried_before_the_preview(people, slack, app, world):
    reply = submit_end(people, slack, world, values={Block.RECAP_KEY_POINTS: "Agreed to prepare for the RCPC."})
    body = reply.json()
    assert body["response_action"] == "update"
    assert "RCPC" in json.dumps(body["view"]["blocks"][0])
    assert preview_calls(slack) == []
    again = dict(body["view"], id=opened_view(slack, View.END)["id"], hash="h")  # a form sent back keeps its id
    reply = people["hv"].submit(again)
    assert reply.body == ""
    assert "Agreed to prepare for the RCPC." in json.dumps([c.args["blocks"] for c in preview_calls(slack)])


def test_change_something_reopens_the_form_and_an_old_preview_cannot_be_posted(people, slack, app, world):
    submit_end(people, slack, world)
    first = preview_value(slack)
    people["hv"].click(Action.RECAP_EDIT, first, channel=world.channel_id)
    view = opened_view(slack, View.END)
    key_points = next(b for b in view["blocks"] if b.get("block_id") == Block.RECAP_KEY_POINTS)
    assert key_points["element"]["initial_value"] == KEY_POINTS
    people["hv"].submit(view, {Block.RECAP_KEY_POINTS: "Changed after the preview."})
    second = preview_value(slack)
    assert second["r"] == first["r"] and second["h"] != first["h"]

    slack.reset()
    people["hv"].click(Action.RECAP_POST, first, channel=world.channel_id)
    assert recap_messages_in(slack, world.channel_id) == []
    assert "changed after you looked at it" in json.dumps([c.args["blocks"] for c in preview_calls(slack)])

    people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=world.channel_id)
    text = plain_text(recap_messages_in(slack, world.channel_id))
    assert "Changed after the preview." in text and KEY_POINTS not in text


def test_something_recorded_after_the_preview_is_shown_again_before_posting(people, slack, app, world):
    from models import decisions
    from models.audit import Actor

    submit_end(people, slack, world)
    with Session(app.engine) as session:
        decisions.record(session, case_id=world.case_id, meeting_id=world.meeting_id, text="A late decision.",
                         member_id=world.members["sw"], actor=Actor("T0COUNCIL", "U0SW"), now=app.deps.now())
        session.commit()
    approve(people, slack, world)
    assert recap_messages_in(slack, world.channel_id) == []
    assert "A late decision." in json.dumps(preview_calls(slack)[-1].args["blocks"])
    approve(people, slack, world)
    assert "A late decision." in plain_text(recap_messages_in(slack, world.channel_id))


def test_a_double_click_posts_once(people, slack, app, world):
    submit_end(people, slack, world)
    value = preview_value(slack)
    people["hv"].click(Action.RECAP_POST, value, channel=world.channel_id, wait=False)
    people["hv"].click(Action.RECAP_POST, value, channel=world.channel_id)
    app.wait_idle()
    firsts = [m for m in recap_messages_in(slack, world.channel_id) if m["metadata"]["event_payload"]["part"] == 0]
    assert len(firsts) == 1
    with Session(app.engine) as session:
        assert len(session.exec(select(Meeting).where(Meeting.status == MeetingStatus.SCHEDULED)).all()) == 1


# --- after posting: reading, correcting ----------------------------------------------------------------


def test_i_have_read_this_is_recorded_once_per_member_and_shown(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    value = {"c": world.case_id, "r": recap.id}
    people["teacher"].click(Action.RECAP_READ, value, channel=world.channel_id)
    people["teacher"].click(Action.RECAP_READ, value, channel=world.channel_id)
    people["police"].click(Action.RECAP_READ, value, channel=world.channel_id)

    with Session(app.engine) as session:
        rows = session.exec(select(RecapAcknowledgement).where(RecapAcknowledgement.recap_id == recap.id)).all()
        assert sorted(r.member_id for r in rows) == sorted([world.members["teacher"], world.members["police"]])
    assert any("already said you read version 1" in t for t in ephemeral_texts(slack))
    updates = slack.calls_to("chat.update")
    assert updates and all(c.response["ok"] for c in updates)
    assert "Read by 2 of 5: Teacher A, Police Officer A" in json.dumps(updates[-1].args["blocks"])
    first = slack.messages(world.channel_id)
    shown = next(m for m in first if m["ts"] == recap.message_ts)
    assert "Read by 2 of 5" in json.dumps(shown["blocks"])
    assert shown["metadata"]["event_payload"]["recap_id"] == recap.id


def test_a_correction_is_a_new_version_and_the_first_is_kept_unchanged(people, slack, app, world):
    recap = end_and_post(people, slack, world)
    with Session(app.engine) as session:
        original = session.get(Recap, recap.id).content
    value = {"c": world.case_id, "r": recap.id}

    people["teacher"].click(Action.RECAP_CORRECT, value, channel=world.channel_id)
    assert any("Only the chair" in t for t in ephemeral_texts(slack))

    people["hv"].click(Action.RECAP_CORRECT, value, channel=world.channel_id)
    view = opened_view(slack, View.RECAP_CORRECT)
    reply = people["hv"].submit(view, {Block.RECAP_REASON: "The risks were said to be the same, not reducing.",
                                       Block.RECAP_RISK: "no_change"})
    assert reply.body == ""
    assert recap_messages_in(slack, world.channel_id, recap.id + 1) == []  # previewed, not posted
    people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=world.channel_id)

    with Session(app.engine) as session:
        versions = session.exec(select(Recap).where(Recap.meeting_id == world.meeting_id).order_by(Recap.version)).all()
        assert [(v.version, v.status) for v in versions] == [(1, "posted"), (2, "posted")]
        assert versions[0].content == original
        assert versions[1].correction_reason == "The risks were said to be the same, not reducing."
        assert json.loads(versions[1].content)["risk_direction"] == "no_change"
        assert len(session.exec(select(Meeting).where(Meeting.status == MeetingStatus.SCHEDULED)).all()) == 1
        second = versions[1]
    text = plain_text(recap_messages_in(slack, world.channel_id, second.id))
    assert "Correction to the record of core group meeting 2 on" in text and ": version 2." in text
    assert "The risks were said to be the same, not reducing." in text and "No change: the risks" in text
    assert KEY_POINTS in text  # the rest of the record is carried into the correction
    assert "The risks are reducing." in plain_text(recap_messages_in(slack, world.channel_id, recap.id))


# --- crashes while posting ---------------------------------------------------------------------------------


def later(app, minutes: int = 5):
    moment = app.deps.now() + timedelta(minutes=minutes)
    return dataclasses.replace(app.deps, clock=lambda: moment)


def test_a_recap_slack_refused_is_posted_once_later(people, slack, app, world):
    submit_end(people, slack, world)
    slack.fail_next("chat.postMessage", error="fatal_error", status=200)
    approve(people, slack, world)
    with Session(app.engine) as session:
        recap = session.exec(select(Recap)).one()
        assert recap.status == RecapStatus.POSTING and recap.parts_posted == 0
        assert session.get(Meeting, world.meeting_id).status == MeetingStatus.ENDED
    assert "it will be posted automatically" in slack.calls_to("response_url")[-1].args["text"]
    client = make_client(app.settings)

    assert post_pending_recaps(app.deps, client) == 0  # the approver's lease has not run out yet
    assert post_pending_recaps(later(app), client) == 1
    assert post_pending_recaps(later(app, 10), client) == 0
    firsts = [m for m in recap_messages_in(slack, world.channel_id) if m["metadata"]["event_payload"]["part"] == 0]
    assert len(firsts) == 1
    with Session(app.engine) as session:
        recap = session.exec(select(Recap)).one()
        assert recap.status == RecapStatus.POSTED and recap.message_ts == firsts[0]["ts"]
    assert posted(slack, world.channel_id, "Core group meeting 3")


def test_a_crash_between_posting_and_recording_does_not_post_twice(people, slack, app, world, monkeypatch):
    long = {block: "word " * 590 for block in (Block.RECAP_KEY_POINTS, Block.RECAP_CHILD_VIEWS,
                                              Block.RECAP_PARENTS_VIEWS)}
    submit_end(people, slack, world, values=long)

    def die(*args, **kwargs):
        raise SystemExit("the process died")  # Slack has the message; the database never hears of it

    monkeypatch.setattr(recap_posting, "part_posted", die)
    approve(people, slack, world)
    monkeypatch.undo()
    assert len(recap_messages_in(slack, world.channel_id)) == 1
    with Session(app.engine) as session:
        recap = session.exec(select(Recap)).one()
        assert recap.status == RecapStatus.POSTING and recap.message_ts is None

    assert post_pending_recaps(later(app), make_client(app.settings)) == 1
    history = slack.calls_to("conversations.history")
    assert history and history[0].args.get("include_all_metadata") is True
    messages = recap_messages_in(slack, world.channel_id, recap.id)
    parts = [m["metadata"]["event_payload"]["part"] for m in messages]
    assert parts == sorted(set(parts)) and parts[0] == 0 and len(parts) > 1, parts
    with Session(app.engine) as session:
        recap = session.get(Recap, recap.id)
        assert recap.status == RecapStatus.POSTED and recap.message_ts == messages[0]["ts"]
        assert recap.parts_posted == len(parts)


def test_a_meeting_ended_meanwhile_is_not_ended_twice(people, slack, app, world):
    submit_end(people, slack, world)
    with Session(app.engine) as session:
        meeting = session.get(Meeting, world.meeting_id)
        meeting.status = MeetingStatus.ENDED
        session.add(meeting)
        session.commit()
    approve(people, slack, world)
    assert any("not in progress any more" in t and "Nothing was posted" in t for t in ephemeral_texts(slack))
    assert recap_messages_in(slack, world.channel_id) == []
    with Session(app.engine) as session:
        assert session.exec(select(Recap)).one().status == RecapStatus.DRAFT
        assert session.exec(select(Meeting).where(Meeting.status == MeetingStatus.SCHEDULED)).all() == []


def test_a_chair_outside_the_channel_gets_the_preview_by_direct_message(people, slack, app, world):
    slack.channels[world.channel_id].members.discard(people["hv"].user_id)
    submit_end(people, slack, world)
    direct = [m for m in slack.messages(people["hv"].user_id) if "Preview" in m.get("text", "")]
    assert direct and recap_messages_in(slack, world.channel_id) == []
    people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=direct[0].get("channel"))
    assert len(recap_messages_in(slack, world.channel_id)) >= 1


# --- the next meeting may wait when the plan may end; the next review conference --------------------------

def scheduled(app, world: World) -> list[Meeting]:
    with Session(app.engine) as session:
        return list(session.exec(select(Meeting).where(Meeting.case_id == world.case_id,
                                                       Meeting.status == MeetingStatus.SCHEDULED)).all())


def audit_actions(app, world: World) -> list[str]:
    with Session(app.engine) as session:
        return [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.case_id == world.case_id))]


def review_reminders(app, world: World) -> dict[str, str]:
    from models.tables import ScheduledMessage

    with Session(app.engine) as session:
        found = session.exec(select(ScheduledMessage).where(ScheduledMessage.case_id == world.case_id,
                                                            ScheduledMessage.kind == "case.review")).all()
        return {row.key.rsplit(":", 1)[-1]: row.status for row in found}


def test_a_chair_recommending_the_plan_ends_may_leave_the_next_meeting_unbooked(people, slack, app, world):
    recap = end_and_post(people, slack, world, values={Block.RECAP_RECOMMENDATION: "end",
                                                       recap_forms.NO_NEXT_BLOCK: [recap_forms.NO_NEXT]})
    assert recap.status == RecapStatus.POSTED
    text = plain_text(recap_messages_in(slack, world.channel_id))
    assert "End the plan" in text
    # No slash command a member from another organisation could not use: the record's message has the button.
    assert "No date was set. Anyone in the group can arrange the next meeting with *Book the next meeting*" in text
    first = recap_messages_in(slack, world.channel_id)[0]
    assert "Book the next meeting" in [e["text"]["text"] for b in first["blocks"] if b["type"] == "actions"
                                       for e in b["elements"]]
    assert scheduled(app, world) == []
    with Session(app.engine) as session:
        assert session.get(Meeting, world.meeting_id).status == MeetingStatus.ENDED


@pytest.mark.parametrize("recommendation", ["continue", "step_up"])
def test_the_next_meeting_is_still_booked_when_the_plan_goes_on(people, slack, app, world, recommendation):
    reply = submit_end(people, slack, world, values={Block.RECAP_RECOMMENDATION: recommendation,
                                                     recap_forms.NO_NEXT_BLOCK: [recap_forms.NO_NEXT]})
    body = reply.json()
    assert body["response_action"] == "errors"
    assert "please book the next meeting" in body["errors"][recap_forms.NO_NEXT_BLOCK]
    assert preview_calls(slack) == []
    with Session(app.engine) as session:
        assert session.exec(select(Recap)).all() == []


def test_reopening_an_unbooked_draft_keeps_the_box_ticked(people, slack, app, world):
    submit_end(people, slack, world, values={Block.RECAP_RECOMMENDATION: "end",
                                             recap_forms.NO_NEXT_BLOCK: [recap_forms.NO_NEXT]})
    people["hv"].click(Action.RECAP_EDIT, preview_value(slack), channel=world.channel_id)
    view = opened_view(slack, View.END)
    box = next(b for b in view["blocks"] if b.get("block_id") == recap_forms.NO_NEXT_BLOCK)
    assert [o["value"] for o in box["element"]["initial_options"]] == [recap_forms.NO_NEXT]


def test_reopening_a_draft_made_while_a_meeting_was_booked_does_not_tick_the_box(people, slack, app, world):
    # The next meeting was already booked when the chair sent the form, so it had no box to tick.
    with Session(app.engine) as session:
        current = session.get(Meeting, world.meeting_id)
        booked = Meeting(case_id=world.case_id, number=current.number + 1,
                         scheduled_start=current.scheduled_start + timedelta(weeks=6),
                         status=MeetingStatus.SCHEDULED, source_key=f"meeting:{world.case_id}:booked")
        session.add(booked)
        session.commit()
        booked_id = booked.id
    assert submit_end(people, slack, world).body == ""
    # Before the record is approved, that meeting is called off: the form, opened again, offers a date, and the
    # chair has not chosen to leave the next meeting unbooked, so the box stays empty.
    with Session(app.engine) as session:
        session.get(Meeting, booked_id).status = MeetingStatus.CANCELLED
        session.commit()
    people["hv"].click(Action.RECAP_EDIT, preview_value(slack), channel=world.channel_id)
    view = opened_view(slack, View.END)
    box = next(b for b in view["blocks"] if b.get("block_id") == recap_forms.NO_NEXT_BLOCK)
    assert not box["element"].get("initial_options")
    assert any(b.get("block_id") == Block.RECAP_NEXT_DATE for b in view["blocks"])


def test_a_next_meeting_too_close_to_the_review_is_warned_about_once(people, slack, app, world):
    # The review conference is on Monday 8 February 2027: the last core group before it should be by
    # Monday 25 January. Monday 1 February is too close; the chair is told, and can keep it.
    values = {Block.RECAP_NEXT_DATE: "2027-02-01"}
    warned = submit_end(people, slack, world, values=values).json()
    assert warned["response_action"] == "errors"
    assert "review conference on Monday 8 February 2027" in warned["errors"][Block.RECAP_NEXT_DATE]
    assert "by Monday 25 January 2027" in warned["errors"][Block.RECAP_NEXT_DATE]
    assert preview_calls(slack) == []
    kept = people["hv"].submit(opened_view(slack, View.END), {**FORM, **values})
    assert kept.body == ""
    approve(people, slack, world)
    [booked] = scheduled(app, world)
    assert booked.scheduled_start.date().isoformat() == "2027-02-01"


def test_the_suggested_next_meeting_is_not_warned_about(people, slack, app, world):
    people["hv"].command("end", channel=world.channel_id)
    view = opened_view(slack, View.END)
    suggested = next(b for b in view["blocks"] if b.get("block_id") == Block.RECAP_NEXT_DATE)
    assert suggested["element"]["initial_date"] == "2027-01-04"  # six weeks on, before 25 January
    assert people["hv"].submit(view, FORM).body == ""


def test_the_chair_records_the_next_review_conference_when_the_recap_is_posted(people, slack, app, world):
    people["hv"].command("end", channel=world.channel_id)
    view = opened_view(slack, View.END)
    field = next(b for b in view["blocks"] if b.get("block_id") == Block.REVIEW)
    assert field["element"]["initial_date"] == "2027-02-08" and field["optional"] is True
    order = [b.get("block_id") for b in view["blocks"]]
    assert order.index(Block.REVIEW) == order.index(Block.RECAP_RECOMMENDATION) + 1

    reply = people["hv"].submit(view, {**FORM, Block.REVIEW: "2027-05-20"})
    assert reply.body == ""
    assert "the next review conference will be recorded as Thursday 20 May 2027" in json.dumps(
        preview_calls(slack)[-1].args["blocks"])
    assert "case.review_date_set" not in audit_actions(app, world)  # nothing changes before the chair posts

    approve(people, slack, world)
    with Session(app.engine) as session:
        from models.tables import Case

        assert session.get(Case, world.case_id).review_conference_date.isoformat() == "2027-05-20"
    assert audit_actions(app, world).count("case.review_date_set") == 1
    assert review_reminders(app, world) == {"2027-02-08": "cancelled", "2027-05-20": "pending"}
    assert posted(slack, world.channel_id, "recorded the date of the next review conference: *Thursday 20 May 2027*")
    assert posted(slack, world.channel_id, "The review conference is on Thursday 20 May 2027.")  # in the record


def test_the_review_date_left_as_it_was_changes_nothing(people, slack, app, world):
    end_and_post(people, slack, world)
    assert "case.review_date_set" not in audit_actions(app, world)
    assert posted(slack, world.channel_id, "The review conference is on Monday 8 February 2027.")
    assert review_reminders(app, world) == {"2027-02-08": "pending"}
    assert not posted(slack, world.channel_id, "recorded the date of the next review conference")


@pytest.mark.parametrize(("typed", "words"), [
    ("2026-11-23", "must be after today"),
    ("2026-11-20", "must be after today"),
    ("2027-02-30", "Please choose a date from the calendar."),
])
def test_a_review_date_that_cannot_be_used_is_explained_and_what_was_typed_stays(people, slack, app, world, typed,
                                                                               words):
    reply = submit_end(people, slack, world, values={Block.REVIEW: typed})
    body = reply.json()
    assert body["response_action"] == "errors" and set(body["errors"]) == {Block.REVIEW}
    assert words in body["errors"][Block.REVIEW]
    assert preview_calls(slack) == []
    with Session(app.engine) as session:
        assert session.exec(select(Recap)).all() == []
