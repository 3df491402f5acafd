"""Scaling in the domain: one score per member per round, the summary, the previous meeting, the series."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from models import decisions, scaling
from models.cases import DomainError
from models.tables import Attendance, AttendanceStatus, AuditEvent, MeetingStatus, Score
from tests.meeting_factories import ACTOR, DANGER, NOW, make_meeting, make_plan_item, make_world


def _question(session, world, **overrides):
    values = dict(case_id=world.case.id, question="How safe is Child A at home?",
                  zero_means="Child A is not safe at home", ten_means="Everyone is sure Child A is safe at home",
                  member_id=world.sw.id, actor=ACTOR, now=NOW)
    values.update(overrides)
    return scaling.ask(session, **values)


def _score(session, scaling_round, member, score, reason="Because", to_move_up=""):
    return scaling.record_score(session, round_id=scaling_round.id, member_id=member.id, score=score,
                                reason=reason, to_move_up=to_move_up, actor=ACTOR)


def test_scoring_again_replaces_the_score(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW)
    question = _question(session, world)
    scaling_round = scaling.round_for(session, question_id=question.id, meeting_id=meeting.id)
    assert scaling.round_for(session, question_id=question.id, meeting_id=meeting.id).id == scaling_round.id
    _score(session, scaling_round, world.hv, 3, "Missed two visits")
    _score(session, scaling_round, world.hv, 5, "Seen twice since")
    session.commit()
    rows = session.exec(select(Score)).all()
    assert [(r.member_id, r.score, r.reason) for r in rows] == [(world.hv.id, 5, "Seen twice since")]
    actions = [e.action for e in session.exec(select(AuditEvent).where(AuditEvent.record_type == "score"))]
    assert actions == ["scaling.score_recorded", "scaling.score_replaced"]


@pytest.mark.parametrize(("score", "reason"), [(11, "x"), (-1, "x"), (5, "  ")])
def test_scores_must_be_0_to_10_with_a_reason(session, score, reason):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW)
    scaling_round = scaling.round_for(session, question_id=_question(session, world).id, meeting_id=meeting.id)
    with pytest.raises(DomainError):
        _score(session, scaling_round, world.hv, score, reason)


def test_a_member_of_another_case_cannot_score(session):
    world = make_world(session)
    other = make_world(session, reference="CP-TEST-0102")
    meeting = make_meeting(session, world.case, NOW)
    scaling_round = scaling.round_for(session, question_id=_question(session, world).id, meeting_id=meeting.id)
    with pytest.raises(DomainError):
        _score(session, scaling_round, other.hv, 5)


def test_summary_low_high_middle_spread_and_direction(session):
    world = make_world(session)
    danger = make_plan_item(session, world.case, DANGER, "Child A could be hurt when the adults argue")
    question = _question(session, world, child_id=world.child.id, plan_item_id=danger.id, goal=7)
    earlier = make_meeting(session, world.case, NOW - timedelta(weeks=6), status=MeetingStatus.ENDED)
    now = make_meeting(session, world.case, NOW, number=2)
    first = scaling.round_for(session, question_id=question.id, meeting_id=earlier.id)
    _score(session, first, world.hv, 2)
    _score(session, first, world.teacher, 4)
    second = scaling.round_for(session, question_id=question.id, meeting_id=now.id)
    _score(session, second, world.sw, 4, "Some progress", "Both parents at the parenting group")
    _score(session, second, world.hv, 7)
    _score(session, second, world.teacher, 5)
    session.add(Attendance(meeting_id=now.id, member_id=world.teacher.id, status=AttendanceStatus.APOLOGIES))
    session.commit()

    summary = scaling.round_summary(session, second.id)
    assert [line.score for line in summary.scores] == [4, 5, 7]
    assert (summary.low, summary.high, summary.median, summary.spread, summary.differs) == (4, 7, 5.0, 3, True)
    assert summary.previous_median == 3.0 and summary.previous_date == date(2026, 10, 27)
    assert summary.direction == "up"
    assert [line.in_writing for line in summary.scores] == [False, True, False]
    assert summary.scores[0].role == "Social worker" and summary.scores[0].to_move_up.startswith("Both parents")
    assert summary.child_label == "Child A" and summary.danger_text.startswith("Child A could be hurt")
    assert summary.question.goal == 7

    first_summary = scaling.round_summary(session, first.id)
    assert first_summary.previous_median is None and first_summary.direction is None
    assert (first_summary.spread, first_summary.differs) == (2, False)
    assert [m.id for m, _ in scaling.series(session, question.id)] == [earlier.id, now.id]


def test_no_scores_summary_is_empty(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW)
    scaling_round = scaling.round_for(session, question_id=_question(session, world).id, meeting_id=meeting.id)
    summary = scaling.round_summary(session, scaling_round.id)
    assert summary.scores == [] and summary.median is None and summary.differs is False
    assert summary.direction is None and summary.revealed is False


def test_standing_questions_and_rounds_for_meeting(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW)
    kept = _question(session, world)
    once = _question(session, world, question="How well is Child A doing at school?", standing=False)
    assert scaling.standing_questions(session, world.case.id) == [kept]
    second = scaling.round_for(session, question_id=once.id, meeting_id=meeting.id)
    first = scaling.round_for(session, question_id=kept.id, meeting_id=meeting.id)
    assert [r.id for r in scaling.rounds_for_meeting(session, meeting.id)] == [second.id, first.id]
    scaling.retire(session, question=kept, actor=ACTOR, now=NOW)
    assert scaling.standing_questions(session, world.case.id) == []


def test_reveal_is_recorded_once(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW)
    scaling_round = scaling.round_for(session, question_id=_question(session, world).id, meeting_id=meeting.id)
    scaling.reveal(session, round_id=scaling_round.id, actor=ACTOR, now=NOW)
    scaling.reveal(session, round_id=scaling_round.id, actor=ACTOR, now=NOW + timedelta(minutes=5))
    assert scaling_round.revealed_at == NOW
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "scaling.revealed")).all()) == 1


def test_decisions_are_recorded_once_per_source_key(session):
    world = make_world(session)
    meeting = make_meeting(session, world.case, NOW)
    first = decisions.record(session, case_id=world.case.id, meeting_id=meeting.id, text="Refer to the parenting"
                             " group", member_id=world.sw.id, actor=ACTOR, now=NOW, source_key="view:V9")
    again = decisions.record(session, case_id=world.case.id, meeting_id=meeting.id, text="Refer to the parenting"
                             " group", member_id=world.sw.id, actor=ACTOR, now=NOW, source_key="view:V9")
    outside = decisions.record(session, case_id=world.case.id, meeting_id=None, text="Invite the school nurse",
                               member_id=world.sw.id, actor=ACTOR, now=NOW)
    assert first.id == again.id
    assert decisions.for_meeting(session, meeting.id) == [first]
    assert decisions.for_case(session, world.case.id) == [first, outside]
    with pytest.raises(DomainError):
        decisions.record(session, case_id=world.case.id, meeting_id=None, text=" ", member_id=None, actor=ACTOR,
                         now=NOW)


def test_meeting_days_and_the_recap_trend_are_in_the_configured_timezone(session):
    """A meeting at 23:30 in London is already the next morning in Auckland: the day shown follows the zone the
    app was configured with (COREGROUP_TIMEZONE), not a fixed default."""
    from datetime import datetime

    from models import recap as records

    late = datetime(2026, 12, 8, 23, 30, tzinfo=NOW.tzinfo)
    world = make_world(session)
    question = _question(session, world)
    earlier = make_meeting(session, world.case, late - timedelta(weeks=6), status=MeetingStatus.ENDED)
    latest = make_meeting(session, world.case, late, number=2)
    for meeting, score in ((earlier, 3), (latest, 6)):
        _score(session, scaling.round_for(session, question_id=question.id, meeting_id=meeting.id), world.hv, score)
    session.commit()

    assert scaling.meeting_date(latest, "Europe/London") == date(2026, 12, 8)
    assert scaling.meeting_date(latest, "Pacific/Auckland") == date(2026, 12, 9)
    outcome = {"key_points": "Points.", "child_views": "", "child_missing": "Child A was at school.",
               "parents_views": "", "risk_direction": "no_change", "recommendation": "continue", "next": None}
    for tz, days in (("Europe/London", ["2026-10-27", "2026-12-08"]),
                     ("Pacific/Auckland", ["2026-10-28", "2026-12-09"])):
        content = records.build_content(session, meeting_id=latest.id, outcome=outcome, today=date(2026, 12, 9), tz=tz)
        assert [point["date"] for point in content["scaling"][0]["trend"]] == days
