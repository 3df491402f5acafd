"""The outbox (handlers/outbox.py): posts that follow a commit when Slack does not answer in time or keeps failing.

A post whose answer was lost but which Slack took is found by the key in its metadata and its timestamp recorded,
not posted again (the scaling question's message: "Show the scores" redraws it). A post Slack refused more times
than the client retries is kept, and the scheduler's run sends it, once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import time_machine
from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models import scaling
from models.audit import Actor
from models.tables import Member, ScalingRound
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.meeting_factories import button, insert_meeting
from tests.reminder_world import dispatcher

QUESTION = "How safe is Child A at home?"


def _ask(people, slack, case):
    people["hv"].command("scale", channel=case.channel_id)
    reply = people["hv"].submit(opened_view(slack, View.SCALE_ASK), {
        Block.SCALE_QUESTION: QUESTION, Block.SCALE_ZERO: "Child A is not safe at home",
        Block.SCALE_TEN: "Everyone is confident Child A is safe at home"})
    assert reply.status == 200 and reply.body == "", reply.body


def _questions(slack, case) -> list[dict]:
    return [m for m in slack.messages(case.channel_id) if QUESTION in json.dumps(m.get("blocks"))]


def test_a_scaling_question_whose_answer_was_lost_is_found_and_show_the_scores_works(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    insert_meeting(app.engine, case.case_id, start=datetime.now(UTC), chair_user=people["hv"].user_id)
    # Slack takes the question's message, but answers after the app has stopped waiting (and does not retry).
    app.app.client.timeout = 1
    app.app.client.retry_handlers = []
    slack.delay_next("chat.postMessage", 2.5, where=lambda args: QUESTION in json.dumps(args))
    _ask(people, slack, case)
    slack.wait_for("chat.postMessage", timeout=20, where=lambda c: QUESTION in json.dumps(c.args))
    assert len(_questions(slack, case)) == 1

    # Someone has scored (straight into the database: the score form would redraw the message first).
    with Session(app.engine) as session:
        scaling_round = session.exec(select(ScalingRound)).one()
        teacher = session.exec(select(Member).where(Member.slack_user_id == people["teacher"].user_id)).one()
        scaling.record_score(session, round_id=scaling_round.id, member_id=teacher.id, score=6, reason="Better.",
                             to_move_up="", actor=Actor(team_id=teacher.slack_team_id, user_id=teacher.slack_user_id))
        session.commit()

    # "Show the scores" looks for it by its metadata, records where it is, and redraws it: not posted again.
    [message] = _questions(slack, case)
    value, shown = button(message, Action.REVEAL)
    people["hv"].click(Action.REVEAL, value, channel=case.channel_id, message=shown)
    with Session(app.engine) as session:
        assert session.exec(select(ScalingRound)).one().message_ts == message["ts"]
    redrawn = [c for c in slack.calls_to("chat.update") if c.args.get("ts") == message["ts"] and c.response["ok"]]
    assert redrawn, ephemeral_texts(slack)
    assert len(_questions(slack, case)) == 1
    dispatcher(app.engine, slack).run_once()  # and the scheduler's run has nothing left to send
    assert len(_questions(slack, case)) == 1


def test_a_post_slack_refused_more_times_than_the_client_retries_is_sent_later_once(people, slack, app):
    case = new_case(people, slack, members=("hv", "teacher"))
    insert_meeting(app.engine, case.case_id, start=datetime.now(UTC), chair_user=people["hv"].user_id)
    # Three failures: the first try and both of the client's retries (bot/slack.py).
    slack.fail_next("chat.postMessage", status=503, error="service_unavailable", retry_after=0, times=3)
    _ask(people, slack, case)
    assert _questions(slack, case) == []
    assert any("saved" in text.lower() for text in ephemeral_texts(slack))  # the chair is told it will follow

    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=1), tick=True):  # its retry is due
        dispatcher(app.engine, slack).run_once()
    [message] = _questions(slack, case)
    with Session(app.engine) as session:
        assert session.exec(select(ScalingRound)).one().message_ts == message["ts"]
    assert posted(slack, case.channel_id, "Give my score")
