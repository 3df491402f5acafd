"""`/coregroup scale` end to end: ask, score privately, show together, and the trend across meetings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models import scaling
from models.audit import Actor
from models.tables import Attendance, AttendanceStatus, Child, MeetingStatus, ScalingQuestion, Score
from tests.helpers import ephemeral_texts, new_case, opened_view, posted
from tests.meeting_factories import button, insert_meeting, member_id, set_meeting_status

REASONS = {"hv": "Missed two home visits", "teacher": "Attending school most days", "gp": "Registered with us now"}
QUESTION = "How safe is Child A at home?"


def _case(people, slack):
    return new_case(people, slack, members=("hv", "teacher", "gp"))


def _ask(people, slack, case, who="sw", **values):
    people[who].command("scale", channel=case.channel_id)
    view = opened_view(slack, View.SCALE_ASK)
    fields = {Block.SCALE_QUESTION: QUESTION, Block.SCALE_ZERO: "Child A is not safe at home",
              Block.SCALE_TEN: "Everyone is confident Child A is safe at home"}
    fields.update(values)
    reply = people[who].submit(view, fields)
    assert reply.status == 200 and reply.body == "", reply.body
    return _question_message(slack, case)


def _question_message(slack, case):
    return [m for m in posted(slack, case.channel_id, "Give my score")][-1]


def _current(slack, case, ts):
    return next(m for m in slack.messages(case.channel_id) if m["ts"] == ts)


def _score(people, slack, case, who, score, reason=None, up="Both parents at the parenting group"):
    message = _current(slack, case, _question_message(slack, case)["ts"])
    value, message = button(message, Action.GIVE_SCORE)
    people[who].click(Action.GIVE_SCORE, value, channel=case.channel_id, message=message)
    view = opened_view(slack, View.SCALE_SCORE)
    reply = people[who].submit(view, {Block.SCORE: str(score), Block.SCORE_REASON: reason or REASONS[who],
                                      Block.SCORE_UP: up})
    assert reply.status == 200 and reply.body == "", reply.body
    return view


def _chat_calls_text(slack) -> str:
    return json.dumps([c.args for c in slack.calls if c.method.startswith("chat.")])


def test_ask_score_privately_reveal_and_trend(people, slack, app):
    case = _case(people, slack)
    first_start = datetime.now(UTC) - timedelta(weeks=6)
    first = insert_meeting(app.engine, case.case_id, start=first_start, chair_user=people["hv"].user_id)

    # The chair (the health visitor this time) asks about a child; the message says nothing but the question.
    with Session(app.engine) as session:
        child = session.exec(select(Child)).one()
    message = _ask(people, slack, case, who="hv", **{Block.SCALE_CHILD: str(child.id)})
    assert QUESTION in json.dumps(message["blocks"]) and "_About:_ Child A" in json.dumps(message["blocks"])
    assert "No one has scored yet" in json.dumps(message["blocks"])

    _score(people, slack, case, "hv", 3)
    _score(people, slack, case, "teacher", 6)
    _score(people, slack, case, "gp", 7)
    shown = _current(slack, case, message["ts"])
    answered = next(b for b in shown["blocks"] if b.get("block_id") == "scale_answered")["text"]["text"]
    assert all(f"<@{people[k].user_id}>" in answered for k in ("hv", "teacher", "gp")) and "(3)" in answered
    # Never what: no reason, and no summary, anywhere in the channel before the chair shows the scores.
    before = _chat_calls_text(slack)
    assert not any(reason in before for reason in REASONS.values())
    assert "scale_stats" not in json.dumps(shown["blocks"]) and "Lowest" not in before

    # Someone who is not the chair cannot show the scores.
    people["teacher"].click(Action.REVEAL, button(shown, Action.REVEAL)[0], channel=case.channel_id, message=shown)
    assert any("Only the chair" in t for t in ephemeral_texts(slack))
    assert "Lowest" not in json.dumps(_current(slack, case, message["ts"])["blocks"])

    # Scoring again replaces the earlier score; the form opens with it.
    value, _ = button(shown, Action.GIVE_SCORE)
    people["hv"].click(Action.GIVE_SCORE, value, channel=case.channel_id, message=shown)
    reopened = opened_view(slack, View.SCALE_SCORE)
    score_block = next(b for b in reopened["blocks"] if b.get("block_id") == Block.SCORE)
    reason_block = next(b for b in reopened["blocks"] if b.get("block_id") == Block.SCORE_REASON)
    assert score_block["element"]["initial_option"]["value"] == "3"
    assert reason_block["element"]["initial_value"] == REASONS["hv"]
    people["hv"].submit(reopened, {Block.SCORE: "4"})
    with Session(app.engine) as session:
        assert sorted(s.score for s in session.exec(select(Score))) == [4, 6, 7]

    # The chair shows the scores: each with role and reason, lowest, highest, middle, the difference flagged.
    people["hv"].click(Action.REVEAL, value, channel=case.channel_id, message=shown)
    revealed = json.dumps(_current(slack, case, message["ts"])["blocks"], ensure_ascii=False)
    assert all(reason in revealed for reason in REASONS.values())
    assert "*Lowest* 4 · *Highest* 7 · *Middle score* 6" in revealed
    assert "A difference of view to talk about" in revealed and "everyone does not need to agree" in revealed.lower()
    assert "Other professional" in revealed  # the member's role
    assert "first meeting where the group has scored" in revealed

    # The next meeting: the standing question is asked again and the direction of travel is shown.
    set_meeting_status(app.engine, first, MeetingStatus.ENDED)
    second = insert_meeting(app.engine, case.case_id, number=2)
    gp = member_id(app.engine, case.case_id, people["gp"].user_id)
    # Sent in writing with apologies, as the update form does.
    with Session(app.engine, expire_on_commit=False) as session:
        question = session.exec(select(ScalingQuestion)).one()
        session.add(Attendance(meeting_id=second, member_id=gp, status=AttendanceStatus.APOLOGIES))
        scaling_round = scaling.round_for(session, question_id=question.id, meeting_id=second)
        scaling.record_score(session, round_id=scaling_round.id, member_id=gp, score=8, reason="Seen twice, well",
                             to_move_up="", actor=Actor("T0COUNCIL", people["gp"].user_id))
        session.commit()
    people["sw"].command("scale", channel=case.channel_id)
    ask_view = opened_view(slack, View.SCALE_ASK)
    people["sw"].submit(ask_view, {Block.SCALE_EXISTING: str(question.id)})
    message = _question_message(slack, case)
    assert "Scored so far (1)" in json.dumps(message["blocks"])
    _score(people, slack, case, "hv", 6, "Visits kept")
    _score(people, slack, case, "teacher", 7, "Every day this month")
    current = _current(slack, case, message["ts"])
    people["sw"].click(Action.REVEAL, button(current, Action.REVEAL)[0], channel=case.channel_id, message=current)
    revealed = json.dumps(_current(slack, case, message["ts"])["blocks"], ensure_ascii=False)
    assert "*Middle score* 7" in revealed and "the middle score was *6*" in revealed
    assert "It has gone *up* by 1" in revealed
    assert "Seen twice, well" in revealed and "sent in writing" in revealed
    assert "A difference of view" not in revealed  # 6 to 8 is 2 apart


def test_only_the_chair_asks_and_only_during_a_meeting(people, slack, app):
    case = _case(people, slack)
    people["sw"].command("scale", channel=case.channel_id)
    assert any("asked during a meeting" in t for t in ephemeral_texts(slack))
    insert_meeting(app.engine, case.case_id, chair_user=people["hv"].user_id)
    people["teacher"].command("scale", channel=case.channel_id)
    assert any("Only the chair" in t for t in ephemeral_texts(slack))
    assert not [c for c in slack.calls_to("views.open") if c.args["view"]["callback_id"] == View.SCALE_ASK]


def test_reveal_with_no_scores_says_so(people, slack, app):
    case = _case(people, slack)
    insert_meeting(app.engine, case.case_id)
    message = _ask(people, slack, case)
    people["sw"].click(Action.REVEAL, button(message, Action.REVEAL)[0], channel=case.channel_id, message=message)
    assert any("No one has scored yet" in t for t in ephemeral_texts(slack))


def test_non_member_is_refused_everywhere(people, slack, app):
    case = _case(people, slack)
    insert_meeting(app.engine, case.case_id)
    message = _ask(people, slack, case)
    outsider = people["outsider"]
    score_value = button(message, Action.GIVE_SCORE)[0]
    outsider.command("scale", channel=case.channel_id)
    outsider.click(Action.GIVE_SCORE, score_value, channel=case.channel_id, message=message)
    outsider.click(Action.REVEAL, score_value, channel=case.channel_id, message=message)
    refusals = [t for t in ephemeral_texts(slack) if "Only members of this core group" in t]
    assert len(refusals) == 3
    # A form opened by a member, submitted by someone else, is refused and stores nothing.
    people["hv"].click(Action.GIVE_SCORE, score_value, channel=case.channel_id, message=message)
    view = opened_view(slack, View.SCALE_SCORE)
    reply = outsider.submit(view, {Block.SCORE: "5", Block.SCORE_REASON: "x"})
    assert reply.json()["response_action"] == "update"
    ask = people["sw"]
    ask.command("scale", channel=case.channel_id)
    reply = outsider.submit(opened_view(slack, View.SCALE_ASK), {Block.SCALE_QUESTION: "Another?",
                                                                 Block.SCALE_ZERO: "a", Block.SCALE_TEN: "b"})
    assert reply.json()["response_action"] == "update"
    with Session(app.engine) as session:
        assert session.exec(select(Score)).all() == []
        assert len(session.exec(select(ScalingQuestion)).all()) == 1


def test_score_form_errors_keep_what_was_typed(people, slack, app):
    case = _case(people, slack)
    insert_meeting(app.engine, case.case_id)
    message = _ask(people, slack, case)
    people["hv"].click(Action.GIVE_SCORE, button(message, Action.GIVE_SCORE)[0], channel=case.channel_id,
                       message=message)
    reply = people["hv"].submit(opened_view(slack, View.SCALE_SCORE), {Block.SCORE: "5", Block.SCORE_REASON: ""})
    body = reply.json()
    assert body["response_action"] == "errors" and Block.SCORE_REASON in body["errors"]
    with Session(app.engine) as session:
        assert session.exec(select(Score)).all() == []


def test_ask_form_needs_a_question_and_not_two(people, slack, app):
    case = _case(people, slack)
    insert_meeting(app.engine, case.case_id)
    people["sw"].command("scale", channel=case.channel_id)
    reply = people["sw"].submit(opened_view(slack, View.SCALE_ASK), {Block.SCALE_QUESTION: "",
                                                                     Block.SCALE_ZERO: "a", Block.SCALE_TEN: "b"})
    assert reply.json()["response_action"] == "errors"
    _ask(people, slack, case, **{Block.SCALE_STANDING: []})
    with Session(app.engine) as session:
        assert session.exec(select(ScalingQuestion)).one().standing is False


def test_no_scores_after_the_meeting_has_ended(people, slack, app):
    case = _case(people, slack)
    meeting = insert_meeting(app.engine, case.case_id)
    message = _ask(people, slack, case)
    set_meeting_status(app.engine, meeting, MeetingStatus.ENDED)
    people["hv"].click(Action.GIVE_SCORE, button(message, Action.GIVE_SCORE)[0], channel=case.channel_id,
                       message=message)
    assert any("This meeting has ended" in t for t in ephemeral_texts(slack))
    assert not [c for c in slack.calls_to("views.open") if c.args["view"]["callback_id"] == View.SCALE_SCORE]
