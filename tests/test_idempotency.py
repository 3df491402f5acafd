"""Once only: a retried event, a double-clicked button and a resubmitted form each make one record and one post.

Slack retries an event it thinks was not received (same event id, `X-Slack-Retry-Num`), people double-click,
and a form can arrive twice (same view id), even at the same moment. Each is acted on once, and the database
holds that line itself: a claimed key or a record's own unique columns, not a check that two requests could
both pass.
"""

from __future__ import annotations

import json
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models import audit
from models.tables import (
    ActionEvent,
    ActionEventKind,
    Attendance,
    Decision,
    Meeting,
    MeetingStatus,
    Member,
    MemberStatus,
    ProcessedRequest,
    RecapAcknowledgement,
    Score,
    Update,
)
from tests.case_walk import COUNCIL, CaseWalk, find_element, record_counts
from tests.harness import send_event
from tests.helpers import new_case, opened_view, posted
from tests.recap_world import preview_value, recap_messages_in, running_meeting

# What the walk leaves behind, made once (tests/case_walk.py).
RECORDS = {"cases": 2, "children": 3, "members": 11, "plan_items": 3, "actions": 3, "action_events": 6,
           "meetings": 2, "meeting_changes": 2, "attendance": 6, "updates": 4, "update_action_progress": 2,
           "scaling_questions": 1, "scaling_rounds": 1, "scores": 2, "decisions": 2, "recaps": 2,
           "recap_recipients": 12, "recap_acknowledgements": 1}


def posts(slack) -> list:
    return [c for c in slack.calls if c.method == "chat.postMessage" and c.response.get("ok")]


def test_the_walk_makes_its_records_once(people, slack, app):
    """The reference: the same walk, each request sent once."""
    CaseWalk(people, slack, app).run()
    assert record_counts(app.engine) == RECORDS


def test_every_form_sent_again_and_at_once_and_every_double_click_makes_one_record_and_one_post(
        people, slack, app):
    walk = CaseWalk(people, slack, app, double=True).run()

    assert app.executor.errors == []
    assert record_counts(app.engine) == RECORDS
    sent = Counter((c.args.get("channel"), c.args.get("thread_ts"), c.args.get("text"),
                    json.dumps(c.args.get("blocks"))) for c in posts(slack))
    doubled = [f"{n}× {key[2][:80]}" for key, n in sent.items() if n > 1]
    assert doubled == []
    previews = [c for c in slack.calls if c.method == "chat.postEphemeral" and "Preview" in (c.args.get("text") or "")]
    assert len(previews) == 3  # the record, the record changed once, and the correction
    assert len(slack.calls_to("conversations.inviteShared")) == 3  # one invitation per email
    assert {e.split(":")[0] for e in walk.entries} == {"command", "view", "action", "shortcut", "event"}


# --- events ------------------------------------------------------------------------------------------------


def left(channel: str, user: str) -> dict:
    return {"type": "member_left_channel", "user": user, "channel": channel, "channel_type": "G", "team": COUNCIL,
            "event_ts": "1700000002.000100"}


def test_a_retried_event_is_acted_on_once(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher"))
    first = send_event(app, left(info.channel_id, "U0HV"), team_id=COUNCIL, event_id="Ev0LEFT01")
    again = send_event(app, left(info.channel_id, "U0HV"), team_id=COUNCIL, event_id="Ev0LEFT01", retry_num=1)
    retried = send_event(app, left(info.channel_id, "U0HV"), team_id=COUNCIL, event_id="Ev0LEFT01", retry_num=2)

    assert (first.status, again.status, retried.status) == (200, 200, 200)
    assert len(posted(slack, info.channel_id, "left the channel")) == 1
    with Session(app.engine) as session:
        hv = session.exec(select(Member).where(Member.slack_user_id == "U0HV")).one()
        assert hv.status == MemberStatus.REMOVED
        assert session.get(ProcessedRequest, "event:Ev0LEFT01") is not None


def test_an_event_delivered_twice_at_the_same_moment_is_acted_on_once(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher"))
    event = left(info.channel_id, "U0TEACH")
    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = list(pool.map(lambda n: send_event(app, event, team_id=COUNCIL, event_id="Ev0LEFT02",
                                                     retry_num=n or None), range(3)))
    app.wait_idle()
    assert [r.status for r in replies] == [200, 200, 200]
    assert len(posted(slack, info.channel_id, "left the channel")) == 1


# --- double clicks --------------------------------------------------------------------------------------------


def at_once(send, times: int = 2) -> list:
    with ThreadPoolExecutor(max_workers=times) as pool:
        return list(pool.map(lambda _: send(), range(times)))


@pytest.fixture
def meeting(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher", "gp", "police"))
    return info, running_meeting(app.engine, info, people)


def test_done_double_clicked_marks_the_action_done_once_with_one_post(people, slack, app, meeting):
    info, world = meeting
    value = {"c": info.case_id, "a": world.new_action_ids[0]}
    replies = at_once(lambda: people["hv"].click(Action.ACTION_DONE, value, channel=info.channel_id))

    assert [r.status for r in replies] == [200, 200]
    assert len(posted(slack, info.channel_id, "marked this action as done")) == 1
    with Session(app.engine) as session:
        done = session.exec(select(ActionEvent).where(ActionEvent.action_id == world.new_action_ids[0],
                                                      ActionEvent.kind == ActionEventKind.DONE)).all()
    assert len(done) == 1


def test_i_have_read_this_double_clicked_is_recorded_once(people, slack, app, meeting):
    info, _world = meeting
    people["hv"].command("end", channel=info.channel_id)
    people["hv"].submit(opened_view(slack, View.END), {
        Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
        Block.RECAP_CHILD_VIEWS: "Child A is happy.", Block.RECAP_RECOMMENDATION: "continue"})
    people["hv"].click(Action.RECAP_POST, preview_value(slack), channel=info.channel_id)
    [first, *_] = recap_messages_in(slack, info.channel_id)
    value = find_element(first["blocks"], Action.RECAP_READ)["value"]
    mark = len(posts(slack))

    at_once(lambda: people["teacher"].click(Action.RECAP_READ, value, channel=info.channel_id, message=first))

    with Session(app.engine) as session:
        assert len(session.exec(select(RecapAcknowledgement)).all()) == 1
    assert posts(slack)[mark:] == []  # the record's message is redrawn, nothing new is posted


def test_attending_double_clicked_is_one_reply(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher"))
    from tests.helpers import schedule_meeting

    meeting = schedule_meeting(people, slack, info, chair="hv")
    value = {"c": info.case_id, "m": meeting.id}
    mark = len(posts(slack))
    at_once(lambda: people["teacher"].click(Action.ATTENDING, value, channel=info.channel_id), times=3)

    with Session(app.engine) as session:
        replies = session.exec(select(Attendance).where(Attendance.meeting_id == meeting.id)).all()
    assert [r.status for r in replies] == ["attending"]
    assert posts(slack)[mark:] == []


# --- forms ------------------------------------------------------------------------------------------------------


def test_an_update_sent_twice_at_once_is_one_version_with_one_post(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher"))
    from tests.helpers import schedule_meeting

    meeting = schedule_meeting(people, slack, info, chair="hv")
    people["teacher"].command("update", channel=info.channel_id)
    view = opened_view(slack, View.UPDATE)
    values = {Block.UPDATE_ATTENDING: "apologies", Block.UPDATE_WORRIES: "Child A came to school hungry."}
    replies = at_once(lambda: people["teacher"].submit(view, values), times=3)
    replies.append(people["teacher"].submit(view, values))

    assert all(r.status == 200 and r.body == "" for r in replies), [r.body for r in replies]
    with Session(app.engine) as session:
        assert len(session.exec(select(Update).where(Update.meeting_id == meeting.id)).all()) == 1
    assert len(posted(slack, info.channel_id, "Update from <@U0TEACH>")) == 1


def test_a_decision_sent_twice_at_once_is_recorded_and_posted_once(people, slack, app, meeting):
    info, _world = meeting
    people["hv"].command("decision", channel=info.channel_id)
    view = opened_view(slack, View.DECISION)
    replies = at_once(lambda: people["hv"].submit(view, {Block.DECISION_TEXT: "Child A will see the school nurse."}),
                      times=3)
    assert [r.status for r in replies] == [200, 200, 200]
    with Session(app.engine) as session:
        made = session.exec(select(Decision).where(Decision.text == "Child A will see the school nurse.")).all()
    assert len(made) == 1
    assert len(posted(slack, info.channel_id, "Child A will see the school nurse.")) == 1


def test_a_score_sent_twice_at_once_is_one_score(people, slack, app, meeting):
    info, _world = meeting
    people["hv"].command("scale", channel=info.channel_id)
    people["hv"].submit(opened_view(slack, View.SCALE_ASK), {Block.SCALE_QUESTION: "How is Child A sleeping?",
                                                             Block.SCALE_ZERO: "not at all", Block.SCALE_TEN: "well"})
    message = posted(slack, info.channel_id, "How is Child A sleeping?")[-1]
    value = find_element(message["blocks"], Action.GIVE_SCORE)["value"]
    people["teacher"].click(Action.GIVE_SCORE, value, channel=info.channel_id, message=message)
    view = opened_view(slack, View.SCALE_SCORE)
    at_once(lambda: people["teacher"].submit(view, {Block.SCORE: "7", Block.SCORE_REASON: "Sleeps through."}))
    round_id = json.loads(value)["r"]
    with Session(app.engine) as session:
        [score] = session.exec(select(Score).where(Score.round_id == round_id)).all()
        trail = [e.action for e in audit.trail(session, info.case_id) if e.record_type == "score"
                 and e.record_id == score.id]
    assert trail == ["scaling.score_recorded"]


# --- the database holds the line --------------------------------------------------------------------------------


def test_the_database_refuses_a_second_claim_and_duplicate_records(engine, people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher"))
    with Session(engine) as session:
        assert audit.claim_once(session, "view:V0ONCE")
        session.commit()
    with Session(engine) as session:
        assert not audit.claim_once(session, "view:V0ONCE")
        hv = session.exec(select(Member).where(Member.slack_user_id == "U0HV")).one()
        meeting = Meeting(case_id=info.case_id, number=9, scheduled_start=hv.added_at,
                          status=MeetingStatus.SCHEDULED, source_key="meeting:test:9")
        session.add(meeting)
        session.commit()
        duplicates = [
            lambda: Decision(case_id=info.case_id, text="One.", source_key="view:V0DEC"),
            lambda: Attendance(meeting_id=meeting.id, member_id=hv.id, status="attending"),
            lambda: Update(meeting_id=meeting.id, member_id=hv.id, version=1),
            lambda: Meeting(case_id=info.case_id, number=10, scheduled_start=hv.added_at, source_key="meeting:test:10"),
        ]
        for make in duplicates:
            session.add(make())
            session.commit()
            session.add(make())
            with pytest.raises(IntegrityError):
                session.commit()
            session.rollback()
