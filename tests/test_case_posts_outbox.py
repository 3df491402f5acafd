"""What the core group records is posted through the outbox (handlers/case_post.plan): an action added, done,
progressed or given a new date, a decision, the plan, scaling scores and the closing message are written in the
change's own transaction. When Slack refuses the post more times than the client retries, the record is saved, the
person who acted is told privately, and the scheduler's run posts it later, once, where it would have gone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine

from handlers.ids import Action as ActionId
from handlers.ids import Block, View
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.meeting_factories import button, insert_meeting, member_id
from tests.reminder_world import dispatcher
from tests.test_actions import _add, _insert_actions, _today

SAVED_BUT = "Slack did not confirm"


def _refuse(slack, words: str) -> None:
    """Slack refuses the post holding `words`: the first try and both of the client's retries (bot/slack.py)."""
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=0, times=3,
                    where=lambda args: words in (args.get("text") or ""))


def _scheduler_later(app, slack) -> None:
    """The scheduler's run once the retry is due, and once more (which has nothing left to send)."""
    for _ in range(2):
        with time_machine.travel(datetime.now(UTC) + timedelta(hours=1), tick=True):
            dispatcher(app.engine, slack).run_once()


def _told(slack) -> int:
    return sum(SAVED_BUT in text for text in ephemeral_texts(slack))


def test_an_action_added_during_a_meeting_that_slack_refused_is_posted_in_its_thread_later_once(people, slack, app):
    case = new_case(people, slack)
    meeting_post = slack.add_message(case.channel_id, "U0BOT", "Core group meeting")
    insert_meeting(app.engine, case.case_id, channel_id=case.channel_id, message_ts=meeting_post["ts"])
    _refuse(slack, "New action for")
    reply = _add(people, slack, case)
    assert reply.status == 200 and reply.body == "", reply.body
    assert posted(slack, case.channel_id, "New action") == []
    assert _told(slack) == 1

    _scheduler_later(app, slack)
    [post] = posted(slack, case.channel_id, "New action")
    assert post["thread_ts"] == meeting_post["ts"] and "Book a dentist appointment" in json.dumps(post["blocks"])


def test_an_action_done_progressed_and_moved_that_slack_refused_are_posted_later_once(people, slack, app):
    case = new_case(people, slack)
    hv = member_id(app.engine, case.case_id, people["hv"].user_id)
    (action_id,) = _insert_actions(app.engine, case.case_id, hv, 1)
    value = {"c": case.case_id, "a": action_id}
    user = people["hv"]

    _refuse(slack, "gave this action a new date")
    user.click(ActionId.ACTION_NEW_DATE, value, channel=case.channel_id)
    new_due = (_today() + timedelta(days=10)).isoformat()
    reply = user.submit(opened_view(slack, View.ACTION_NEW_DATE),
                        {Block.DATE: new_due, Block.REASON: "The clinic was closed"})
    assert reply.body == ""
    _refuse(slack, "added progress")
    user.click(ActionId.ACTION_PROGRESS, value, channel=case.channel_id)
    reply = user.submit(opened_view(slack, View.ACTION_PROGRESS), {Block.PROGRESS_NOTE: "Called the surgery"})
    assert reply.body == ""
    _refuse(slack, "marked this action as done")
    user.click(ActionId.ACTION_DONE, value, channel=case.channel_id)
    for words in ("The clinic was closed", "Called the surgery", "marked this action as done"):
        assert posted(slack, case.channel_id, words) == [], words
    assert _told(slack) == 3

    _scheduler_later(app, slack)
    for words in ("The clinic was closed", "Called the surgery", "marked this action as done"):
        [post] = posted(slack, case.channel_id, words)
        assert "thread_ts" not in post, words


def test_a_decision_slack_refused_is_posted_in_the_meetings_thread_later_once(people, slack, app):
    case = new_case(people, slack)
    meeting_post = slack.add_message(case.channel_id, "U0BOT", "Core group meeting")
    insert_meeting(app.engine, case.case_id, chair_user=people["hv"].user_id, channel_id=case.channel_id,
                   message_ts=meeting_post["ts"])
    _refuse(slack, "Decision: Refer the parents")
    people["hv"].command("decision Refer the parents to the parenting group", channel=case.channel_id)
    reply = people["hv"].submit(opened_view(slack, View.DECISION))
    assert reply.body == ""
    assert posted(slack, case.channel_id, "Refer the parents") == [] and _told(slack) == 1

    _scheduler_later(app, slack)
    [post] = posted(slack, case.channel_id, "Refer the parents")
    assert post["thread_ts"] == meeting_post["ts"]


def test_the_updated_plan_slack_refused_is_posted_later_once(people, slack, app):
    from tests.test_plan_in_meeting import edit_plan

    case = new_case(people, slack)
    _refuse(slack, "was updated")
    edit_plan(people, slack, case, dangers=["Child A may be hurt when the adults argue"])
    assert posted(slack, case.channel_id, "updated the plan") == [] and _told(slack) == 1

    _scheduler_later(app, slack)
    [post] = posted(slack, case.channel_id, "updated the plan")
    assert "Child A may be hurt when the adults argue" in json.dumps(post["blocks"]) and "thread_ts" not in post


def test_revealed_scores_that_slack_refused_in_the_thread_are_posted_there_later_once(people, slack, app):
    from tests.test_races import _score

    scorers = ("hv", "teacher", "gp", "police")
    case = new_case(people, slack, members=scorers)
    insert_meeting(app.engine, case.case_id, chair_user=people["hv"].user_id)
    people["hv"].command("scale", channel=case.channel_id)
    people["hv"].submit(opened_view(slack, View.SCALE_ASK), {
        Block.SCALE_QUESTION: "How safe is Child A at home?", Block.SCALE_ZERO: "Not safe at home",
        Block.SCALE_TEN: "Everyone is confident Child A is safe at home"})
    question = posted(slack, case.channel_id, "Give my score")[-1]

    def current() -> dict:
        return next(m for m in slack.messages(case.channel_id) if m["ts"] == question["ts"])

    def thread() -> list[dict]:
        return [m for m in slack.messages(case.channel_id)
                if m.get("thread_ts") == question["ts"] and m["ts"] != question["ts"]]

    for who in (*scorers, "sw"):
        _score(people, slack, case, who, current())
    value, message = button(current(), ActionId.REVEAL)
    _refuse(slack, "More scores")
    people["hv"].click(ActionId.REVEAL, value, channel=case.channel_id, message=message)
    assert "Scaling: everyone's scores" in json.dumps(current()["blocks"])  # the question's message redrawn
    assert thread() == []

    _scheduler_later(app, slack)
    shown = json.dumps(current()["blocks"]) + "".join(json.dumps(m["blocks"]) for m in thread())
    assert thread() and all(m["text"] == "More scores" for m in thread())
    for who in (*scorers, "sw"):
        assert shown.count(f"{who}: reason") == 1, who  # every score shown, once


def test_a_closing_message_slack_refused_is_posted_later_once_and_then_the_channel_archived(people, slack, app):
    from tests.test_lifecycle import _close

    case = new_case(people, slack)
    _refuse(slack, "is closed")
    assert _close(people, slack, "sw", case.channel_id).body == ""
    assert posted(slack, case.channel_id, "is closed") == [] and _told(slack) == 1
    assert not slack.channels[case.channel_id].archived  # the last message goes first

    _scheduler_later(app, slack)
    assert len(posted(slack, case.channel_id, "is closed")) == 1
    assert slack.channels[case.channel_id].archived


def test_people_added_whose_notes_slack_refused_are_named_in_the_channel_later_once(people, slack, app):
    sw, gp = people["sw"], people["gp"]
    case = new_case(people, slack)
    sw.command("members", channel=case.channel_id)
    members_list = opened_view(slack, "members_list")
    _refuse(slack, "to the core group")
    sw.click(ActionId.MEMBERS_ADD, {"c": case.case_id}, view=members_list)
    reply = sw.submit(opened_view(slack, View.MEMBER_ADD), {Block.USER: gp.user_id, Block.ROLE: "GP",
                                                             Block.AGENCY: "Riverside Surgery"})
    assert reply.body == ""
    _refuse(slack, "to the core group")
    sw.click(ActionId.MEMBERS_ADD_OFFLINE, {"c": case.case_id}, view=members_list)
    reply = sw.submit(opened_view(slack, View.MEMBER_ADD_OFFLINE),
                      {Block.NAME: "Mother of Child A", Block.ROLE: "Parent", Block.RELATIONSHIP: "Mother"})
    assert reply.body == ""
    assert posted(slack, case.channel_id, "to the core group") == [] and _told(slack) == 2

    _scheduler_later(app, slack)
    notes = posted(slack, case.channel_id, "to the core group")
    assert len(notes) == 2 and all("thread_ts" not in note for note in notes)
    assert len([n for n in notes if "Mother of Child A" in n["text"]]) == 1


def test_a_new_review_date_whose_post_slack_refused_is_posted_later_once(people, slack, app):
    case = new_case(people, slack)  # review on 8 February 2027
    people["sw"].command("schedule", channel=case.channel_id)
    view = opened_view(slack, View.SCHEDULE)
    _refuse(slack, "The next review conference is on")
    assert people["sw"].submit(view, {Block.LOCATION: "Room 2", Block.REVIEW: "2027-02-22"}).body == ""
    said = "recorded the date of the next review conference: *Monday 22 February 2027*"
    assert posted(slack, case.channel_id, said) == [] and _told(slack) == 1

    _scheduler_later(app, slack)
    assert len(posted(slack, case.channel_id, said)) == 1


def test_an_invitation_by_email_whose_note_slack_refused_is_told_in_the_channel_later_once(people, slack, app):
    from tests.test_multi_agency import invite_by_email

    case = new_case(people, slack)
    _refuse(slack, "invited")
    assert invite_by_email(people["sw"], slack, case).body == ""
    assert posted(slack, case.channel_id, "invited") == [] and _told(slack) == 1

    _scheduler_later(app, slack)
    [note] = posted(slack, case.channel_id, "invited")
    assert "NHS Trust A" in note["text"]


def test_a_welcome_slack_refused_is_posted_and_pinned_later_once(people, slack, app):
    from sqlmodel import Session

    from models.tables import Case

    _refuse(slack, "Core group for")
    case = new_case(people, slack)
    assert posted(slack, case.channel_id, "Core group for") == []
    assert any("did not confirm the welcome message" in text for text in ephemeral_texts(slack))

    _scheduler_later(app, slack)
    [welcome] = posted(slack, case.channel_id, "Core group for")
    pins = [c for c in slack.calls_to("pins.add") if c.response["ok"] and c.args.get("timestamp") == welcome["ts"]]
    assert len(pins) == 1
    with Session(app.engine) as session:
        assert session.get(Case, case.case_id).welcome_ts == welcome["ts"]
