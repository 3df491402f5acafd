"""Is the plan stalling? Actions carried forward again and again, or scaling scores moving away from the
goal meeting after meeting: the core group is then prompted to consider an early review conference."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from models.tables import Action, ActionStatus, Meeting, Member, ScalingQuestion, ScalingRound, Score

CARRIED_AGAIN = 2  # carried forward this often is "again and again" ...
CARRIED_MANY = 3  # ... for two actions, or this often for one


@dataclass
class Stalling:
    carried: list[tuple[Action, Member]] = field(default_factory=list)
    falling: list[tuple[str, list[float]]] = field(default_factory=list)


def _worsening(medians: list[float], goal: int) -> bool:
    """Moving away from the goal at each of the last two meetings."""
    distance = [abs(goal - m) for m in medians[-3:]]
    return len(distance) == 3 and distance[0] < distance[1] < distance[2]


def stalling(session: Session, case_id: int) -> Stalling:
    """Actions carried forward again and again, or scores moving away from the goal meeting after meeting."""
    found = Stalling()
    for action in session.exec(select(Action).where(
            Action.case_id == case_id, Action.status == ActionStatus.OPEN,
            Action.carried_forward >= CARRIED_AGAIN).order_by(col(Action.carried_forward).desc())):
        found.carried.append((action, session.get(Member, action.owner_member_id)))
    if len(found.carried) < 2 and not any(a.carried_forward >= CARRIED_MANY for a, _ in found.carried):
        found.carried = []
    questions = session.exec(select(ScalingQuestion).where(
        ScalingQuestion.case_id == case_id, col(ScalingQuestion.retired_at).is_(None))).all()
    for question in questions:
        rounds = session.exec(select(ScalingRound.id).join(Meeting, col(Meeting.id) == ScalingRound.meeting_id)
                              .where(ScalingRound.question_id == question.id)
                              .order_by(col(Meeting.scheduled_start))).all()
        medians = []
        for round_id in rounds:
            scores = session.exec(select(Score.score).where(Score.round_id == round_id)).all()
            if scores:
                medians.append(float(statistics.median(scores)))
        goal = question.goal if question.goal is not None else 10
        if _worsening(medians, goal):
            found.falling.append((question.question, medians[-3:]))
    return found
