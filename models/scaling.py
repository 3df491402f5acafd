"""Signs of Safety scaling questions: each member scores 0 to 10 privately, with the reason and what would
need to happen to move the score up; the chair shows the scores together.

The guidance: "Important to understand each member scaling – everyone does not need to agree"; "it is
good to discuss and explore differences in opinions". So a summary keeps every score and flags a wide
spread rather than averaging it away; the middle score (median) is shown beside the lowest and highest.
A standing question is asked again at later meetings, so the group can see the direction of travel.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import audit, names, reminders
from models.audit import Actor
from models.cases import DomainError
from models.db import change_once
from models.tables import (
    Attendance,
    AttendanceStatus,
    Child,
    Meeting,
    MeetingStatus,
    Member,
    PlanItem,
    PlanItemKind,
    ScalingQuestion,
    ScalingRound,
    Score,
)
from models.types import utcnow

MAX_QUESTION = 500
MAX_ANCHOR = 300
MAX_REASON = 1000
MAX_TO_MOVE_UP = 1000
DIFFERENCE = 3  # a spread of this many points or more is a difference of view to talk about
NOT_THERE = (AttendanceStatus.APOLOGIES, AttendanceStatus.ABSENT)


@dataclass
class ScoreLine:
    member_id: int
    name: str
    role: str
    score: int
    reason: str
    to_move_up: str
    in_writing: bool = False  # sent by someone unable to attend (in their update)
    recorded_by: dict | None = None  # {"id", "name", "role"} of who recorded it on the family's behalf


@dataclass
class RoundSummary:
    question: ScalingQuestion
    scores: list[ScoreLine]
    low: int | None
    high: int | None
    median: float | None
    spread: int | None
    differs: bool
    previous_median: float | None
    previous_date: date | None
    direction: str | None  # "up", "down", "same", or None when there is nothing to compare
    round_id: int | None = None
    meeting_id: int | None = None
    revealed: bool = False
    previous_low: int | None = None
    previous_high: int | None = None
    previous_count: int = 0
    child_label: str | None = None
    danger_text: str | None = None


def _text(value: str | None, limit: int, what: str, field_name: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise DomainError(f"Please fill in {what}.", field=field_name)
    if len(value) > limit:
        raise DomainError(f"Please keep {what} under {limit:,} characters.", field=field_name)
    return value


def ask(session: Session, *, case_id: int, question: str, zero_means: str, ten_means: str,
        child_id: int | None = None, plan_item_id: int | None = None, standing: bool = True,
        goal: int | None = None, member_id: int | None, actor: Actor, now: datetime | None = None
        ) -> ScalingQuestion:
    """A new scaling question for the case (not yet asked at any meeting: see `round_for`)."""
    question = _text(question, MAX_QUESTION, "the question", "question")
    zero_means = _text(zero_means, MAX_ANCHOR, "what 0 means", "zero")
    ten_means = _text(ten_means, MAX_ANCHOR, "what 10 means", "ten")
    if child_id is not None:
        child = session.get(Child, child_id)
        if child is None or child.case_id != case_id:
            raise DomainError("Choose one of the children in this case.", field="child")
    if plan_item_id is not None:
        item = session.get(PlanItem, plan_item_id)
        if item is None or item.case_id != case_id or item.kind != PlanItemKind.DANGER or item.removed_at:
            raise DomainError("That danger statement is no longer in the plan.", field="danger")
    if goal is not None and not 0 <= goal <= 10:
        raise DomainError("The score we are aiming for must be from 0 to 10.", field="goal")
    asked = ScalingQuestion(case_id=case_id, question=question, zero_means=zero_means, ten_means=ten_means,
                            child_id=child_id, plan_item_id=plan_item_id, standing=standing, goal=goal,
                            created_at=now or utcnow(), created_by_member_id=member_id)
    session.add(asked)
    session.flush()
    audit.record(session, actor=actor, action="scaling.question_added", record_type="scaling_question",
                 record_id=asked.id, case_id=case_id)
    return asked


def standing_questions(session: Session, case_id: int) -> list[ScalingQuestion]:
    """Questions that carry forward to every meeting, oldest first."""
    return list(session.exec(
        select(ScalingQuestion)
        .where(ScalingQuestion.case_id == case_id, col(ScalingQuestion.standing).is_(True),
               col(ScalingQuestion.retired_at).is_(None))
        .order_by(ScalingQuestion.id)
    ))


def retire(session: Session, *, question: ScalingQuestion, actor: Actor, now: datetime) -> ScalingQuestion:
    """Stop carrying a standing question forward (once); its past rounds are kept."""
    if change_once(session, ScalingQuestion, question.id, col(ScalingQuestion.retired_at).is_(None), retired_at=now):
        audit.record(session, actor=actor, action="scaling.question_retired", record_type="scaling_question",
                     record_id=question.id, case_id=question.case_id)
    return question


def _find_round(session: Session, question_id: int, meeting_id: int) -> ScalingRound | None:
    return session.exec(select(ScalingRound).where(ScalingRound.question_id == question_id,
                                                   ScalingRound.meeting_id == meeting_id)).first()


def round_for(session: Session, *, question_id: int, meeting_id: int, actor: Actor | None = None
              ) -> ScalingRound:
    """The question's round at the meeting, created if needed (one per question and meeting)."""
    found = _find_round(session, question_id, meeting_id)
    if found is not None:
        return found
    question = session.get(ScalingQuestion, question_id)
    meeting = session.get(Meeting, meeting_id)
    if question is None or meeting is None or question.case_id != meeting.case_id:
        raise DomainError("That scaling question does not belong to this meeting's case.")
    created = ScalingRound(question_id=question_id, meeting_id=meeting_id)
    savepoint = session.begin_nested()
    try:
        session.add(created)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        found = _find_round(session, question_id, meeting_id)
        if found is None:
            raise
        return found
    savepoint.commit()
    audit.record(session, actor=actor or Actor.app(), action="scaling.round_opened", record_type="scaling_round",
                 record_id=created.id, case_id=question.case_id, meeting_id=meeting_id, question_id=question_id)
    return created


def record_score(session: Session, *, round_id: int, member_id: int, score: int, reason: str, to_move_up: str,
                 actor: Actor, recorded_by_member_id: int | None = None) -> Score:
    """A member's score for a round; scoring again replaces their earlier score."""
    if not isinstance(score, int) or not 0 <= score <= 10:
        raise DomainError("Choose a score from 0 to 10.", field="score")
    reason = _text(reason, MAX_REASON, "the reason for your score", "reason")
    to_move_up = _text(to_move_up, MAX_TO_MOVE_UP, "what would move it up", "to_move_up", required=False)
    scaling_round = session.get(ScalingRound, round_id)
    member = session.get(Member, member_id)
    question = session.get(ScalingQuestion, scaling_round.question_id) if scaling_round else None
    if question is None or member is None or member.case_id != question.case_id:
        raise DomainError("That scaling question is not for this person's core group.")
    now = utcnow()
    existing = score_of(session, round_id, member_id)
    if existing is None:
        created = Score(round_id=round_id, member_id=member_id, score=score, reason=reason, to_move_up=to_move_up,
                        submitted_at=now, recorded_by_member_id=recorded_by_member_id)
        savepoint = session.begin_nested()
        try:
            session.add(created)
            session.flush()
        except IntegrityError:
            savepoint.rollback()
            existing = score_of(session, round_id, member_id)
            if existing is None:
                raise
        else:
            savepoint.commit()
            audit.record(session, actor=actor, action="scaling.score_recorded", record_type="score",
                         record_id=created.id, case_id=question.case_id, round_id=round_id, member_id=member_id)
            return created
    existing.score, existing.reason, existing.to_move_up, existing.submitted_at = score, reason, to_move_up, now
    existing.recorded_by_member_id = recorded_by_member_id
    session.add(existing)
    session.flush()
    audit.record(session, actor=actor, action="scaling.score_replaced", record_type="score", record_id=existing.id,
                 case_id=question.case_id, round_id=round_id, member_id=member_id)
    return existing


def score_of(session: Session, round_id: int, member_id: int) -> Score | None:
    return session.exec(select(Score).where(Score.round_id == round_id, Score.member_id == member_id)).first()


def scores(session: Session, round_id: int) -> list[Score]:
    """The round's scores in the order they were first given."""
    return list(session.exec(select(Score).where(Score.round_id == round_id).order_by(Score.id)))


def answered(session: Session, round_id: int) -> list[Member]:
    """Who has given a score (never what)."""
    ids = [s.member_id for s in scores(session, round_id)]
    if not ids:
        return []
    found = {m.id: m for m in session.exec(select(Member).where(col(Member.id).in_(ids)))}
    return [found[i] for i in ids if i in found]


def reveal(session: Session, *, round_id: int, actor: Actor, now: datetime) -> bool:
    """Show the scores together, once: True for the one call that revealed them (a conditional update, so
    several clicks at the same moment reveal once, with one audit row); the first reveal's time is kept."""
    if not change_once(session, ScalingRound, round_id, col(ScalingRound.revealed_at).is_(None), revealed_at=now):
        return False
    scaling_round = session.get(ScalingRound, round_id)
    question = session.get(ScalingQuestion, scaling_round.question_id)
    audit.record(session, actor=actor, action="scaling.revealed", record_type="scaling_round",
                 record_id=round_id, case_id=question.case_id)
    return True


def set_message(session: Session, *, round_id: int, channel_id: str, ts: str) -> ScalingRound:
    scaling_round = session.get(ScalingRound, round_id)
    scaling_round.channel_id, scaling_round.message_ts = channel_id, ts
    session.add(scaling_round)
    return scaling_round


def rounds_for_meeting(session: Session, meeting_id: int) -> list[ScalingRound]:
    return list(session.exec(
        select(ScalingRound).where(ScalingRound.meeting_id == meeting_id).order_by(ScalingRound.opened_at,
                                                                                   ScalingRound.id)))


def meeting_date(meeting: Meeting, tz: str | ZoneInfo | None = None) -> date:
    """The day the meeting was held, where the core group is: the caller's zone (the settings'
    COREGROUP_TIMEZONE), or the configured working calendar's when none is given."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz or reminders.policy().calendar.timezone)
    return (meeting.started_at or meeting.scheduled_start).astimezone(zone).date()


def _lines(session: Session, scaling_round: ScalingRound) -> list[ScoreLine]:
    given = session.exec(select(Score, Member).join(Member, col(Member.id) == col(Score.member_id))
                         .where(Score.round_id == scaling_round.id).order_by(Score.id)).all()
    if not given:
        return []
    away = set(session.exec(select(Attendance.member_id).where(
        Attendance.meeting_id == scaling_round.meeting_id, col(Attendance.status).in_(NOT_THERE))))
    recorders = {m.id: m for m in session.exec(select(Member).where(col(Member.id).in_(
        [s.recorded_by_member_id for s, _ in given if s.recorded_by_member_id])))} if any(
        s.recorded_by_member_id for s, _ in given) else {}
    lines = [ScoreLine(member_id=s.member_id, name=names.shown(person), role=person.role, score=s.score,
                       reason=s.reason, to_move_up=s.to_move_up,
                       in_writing=s.member_id in away and not s.recorded_by_member_id,
                       recorded_by={"id": r.id, "name": names.shown(r), "role": r.role}
                       if (r := recorders.get(s.recorded_by_member_id)) else None)
             for s, person in given]
    return sorted(lines, key=lambda line: (line.score, line.name))


def _previous(session: Session, scaling_round: ScalingRound) -> tuple[Meeting, list[ScoreLine]] | None:
    """The same question's scores at the latest earlier meeting where it was scored."""
    meeting = session.get(Meeting, scaling_round.meeting_id)
    earlier = session.exec(
        select(ScalingRound, Meeting)
        .join(Meeting, col(Meeting.id) == col(ScalingRound.meeting_id))
        .where(ScalingRound.question_id == scaling_round.question_id, col(ScalingRound.id) != scaling_round.id,
               col(Meeting.scheduled_start) < meeting.scheduled_start, Meeting.status != MeetingStatus.CANCELLED)
        .order_by(col(Meeting.scheduled_start).desc())
    )
    for other, other_meeting in earlier:
        lines = _lines(session, other)
        if lines:
            return other_meeting, lines
    return None


def _middle(values: list[int]) -> float | None:
    return float(statistics.median(values)) if values else None


def round_summary(session: Session, round_id: int, *, tz: str | ZoneInfo | None = None) -> RoundSummary:
    """Every score with the low, high and middle, the spread, and the change since the last meeting."""
    scaling_round = session.get(ScalingRound, round_id)
    question = session.get(ScalingQuestion, scaling_round.question_id)
    lines = _lines(session, scaling_round)
    values = [line.score for line in lines]
    low, high = (min(values), max(values)) if values else (None, None)
    spread = high - low if values else None
    summary = RoundSummary(
        question=question, scores=lines, low=low, high=high, median=_middle(values), spread=spread,
        differs=spread is not None and spread >= DIFFERENCE, previous_median=None, previous_date=None,
        direction=None, round_id=scaling_round.id, meeting_id=scaling_round.meeting_id,
        revealed=scaling_round.revealed_at is not None,
    )
    if question.child_id:
        child = session.get(Child, question.child_id)
        summary.child_label = child.label if child else None
    if question.plan_item_id:
        item = session.get(PlanItem, question.plan_item_id)
        summary.danger_text = item.text if item else None
    previous = _previous(session, scaling_round)
    if previous is not None:
        earlier_meeting, earlier = previous
        earlier_values = [line.score for line in earlier]
        summary.previous_median = _middle(earlier_values)
        summary.previous_date = meeting_date(earlier_meeting, tz)
        summary.previous_low, summary.previous_high = min(earlier_values), max(earlier_values)
        summary.previous_count = len(earlier_values)
        if summary.median is not None:
            summary.direction = ("up" if summary.median > summary.previous_median
                                 else "down" if summary.median < summary.previous_median else "same")
    return summary


def medians(session: Session, question_id: int) -> list[tuple[Meeting, float]]:
    """The middle score at every meeting where the question was scored, oldest first: the trend, read in one
    query (`series` gives whole summaries, each with its own look-ups, for charts)."""
    rows = session.exec(
        select(Meeting, Score.score)
        .join(ScalingRound, col(ScalingRound.meeting_id) == col(Meeting.id))
        .join(Score, col(Score.round_id) == col(ScalingRound.id))
        .where(ScalingRound.question_id == question_id, Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.scheduled_start, Meeting.id)
    ).all()
    found: dict[int, tuple[Meeting, list[int]]] = {}
    for meeting, score in rows:
        found.setdefault(meeting.id, (meeting, []))[1].append(score)
    return [(meeting, _middle(values)) for meeting, values in found.values()]


def series(session: Session, question_id: int) -> list[tuple[Meeting, RoundSummary]]:
    """Every meeting the question was asked at (posted, or scored), oldest first, for trends and charts."""
    rows = session.exec(
        select(ScalingRound, Meeting)
        .join(Meeting, col(Meeting.id) == col(ScalingRound.meeting_id))
        .where(ScalingRound.question_id == question_id, Meeting.status != MeetingStatus.CANCELLED)
        .order_by(Meeting.scheduled_start, Meeting.id)
    ).all()
    result = []
    for scaling_round, meeting in rows:
        if scaling_round.message_ts is None and not scores(session, scaling_round.id):
            continue
        result.append((meeting, round_summary(session, scaling_round.id)))
    return result
