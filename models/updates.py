"""Written updates for a meeting: "the written views of those who were not able to attend".

Each submission is a new version (the latest is used, earlier ones are kept). Updates are taken
until the meeting starts. An update may also mark the member's own actions done, on track or
delayed, and score the standing scaling questions for someone who cannot attend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from models import actions, audit, scaling
from models.audit import Actor
from models.cases import DomainError
from models.meetings import latest_update, set_attendance
from models.tables import (
    Action,
    ActionStatus,
    AttendanceStatus,
    Meeting,
    MeetingStatus,
    Member,
    Update,
    UpdateActionProgress,
)

SEEN_CHOICES = ("yes", "no", "not_applicable")
PROGRESS_CHOICES = ("done", "on_track", "delayed")
TOO_LATE = ("The meeting has already started, so updates can no longer be sent or changed. Please tell the chair"
            " in the meeting, or post in the channel.")


@dataclass
class ProgressIn:
    action_id: int
    status: str  # done, on_track, delayed
    note: str = ""


@dataclass
class ScoreIn:
    question_id: int
    score: int
    reason: str
    to_move_up: str = ""


@dataclass
class UpdateIn:
    attending: bool
    child_views: str = ""
    contacts: str = ""
    child_seen: str = ""
    seen_alone: str = ""
    working_well: str = ""
    worries: str = ""
    needs_to_happen: str = ""
    progress: list[ProgressIn] = field(default_factory=list)
    scores: list[ScoreIn] = field(default_factory=list)


def own_open_actions(session: Session, case_id: int, member_id: int) -> list[Action]:
    """The member's open actions on the case, soonest due first."""
    return list(session.exec(
        select(Action)
        .where(Action.case_id == case_id, Action.owner_member_id == member_id, Action.status == ActionStatus.OPEN)
        .order_by(col(Action.due_date), col(Action.id))
    ))


def standing_questions(session: Session, case_id: int) -> list:
    return list(scaling.standing_questions(session, case_id))


def progress_of(session: Session, update_id: int) -> list[UpdateActionProgress]:
    return list(session.exec(select(UpdateActionProgress).where(UpdateActionProgress.update_id == update_id)
                             .order_by(col(UpdateActionProgress.id))))


def versions(session: Session, meeting_id: int, member_id: int) -> list[Update]:
    return list(session.exec(select(Update).where(Update.meeting_id == meeting_id, Update.member_id == member_id)
                             .order_by(col(Update.version))))


def save_update(session: Session, *, meeting: Meeting, member: Member, update_in: UpdateIn, actor: Actor,
                now: datetime, recorded_by: Member | None = None) -> Update:
    """Store a new version of the member's update, with attendance, action progress and scores.

    `recorded_by`: the lead social worker or the chair recording the views and scores of a family member
    without Slack, before or during the meeting. Their attendance is left as it is (nobody said it)."""
    open_states = (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS) if recorded_by else (MeetingStatus.SCHEDULED,)
    if meeting.status not in open_states:
        raise DomainError(TOO_LATE)
    if member.case_id != meeting.case_id:
        raise DomainError("Only members of this core group can send an update for its meeting.")
    for value in (update_in.child_seen, update_in.seen_alone):
        if value and value not in SEEN_CHOICES:
            raise DomainError("Choose yes, no or not applicable.")
    previous = latest_update(session, meeting.id, member.id)
    update = Update(
        meeting_id=meeting.id, member_id=member.id, version=(previous.version + 1) if previous else 1,
        attending=update_in.attending, contacts=update_in.contacts, child_seen=update_in.child_seen,
        seen_alone=update_in.seen_alone, working_well=update_in.working_well, worries=update_in.worries,
        needs_to_happen=update_in.needs_to_happen, child_views=update_in.child_views, submitted_at=now,
        recorded_by_member_id=recorded_by.id if recorded_by else None,
    )
    session.add(update)
    session.flush()
    audit.record(session, actor=actor, action="update.sent", record_type="update", record_id=update.id,
                 case_id=meeting.case_id, meeting_id=meeting.id, version=update.version)
    if recorded_by is None:
        set_attendance(session, meeting=meeting, member=member, now=now, actor=actor,
                       status=AttendanceStatus.ATTENDING if update_in.attending else AttendanceStatus.APOLOGIES)
    _record_progress(session, update=update, member=member, meeting=meeting, items=update_in.progress, actor=actor,
                     now=now)
    _record_scores(session, meeting=meeting, member=member, scores=update_in.scores, actor=actor,
                   recorded_by=recorded_by)
    return update


def _record_progress(session: Session, *, update: Update, member: Member, meeting: Meeting,
                     items: list[ProgressIn], actor: Actor, now: datetime) -> None:
    mine = {action.id: action for action in own_open_actions(session, meeting.case_id, member.id)}
    for item in items:
        action = mine.get(item.action_id)
        if action is None or item.status not in PROGRESS_CHOICES:
            continue
        session.add(UpdateActionProgress(update_id=update.id, action_id=action.id, status=item.status,
                                         note=item.note))
        if item.status == "done":
            actions.complete(session, action=action, actor=actor, member_id=member.id, now=now)
    session.flush()


def _record_scores(session: Session, *, meeting: Meeting, member: Member, scores: list[ScoreIn],
                   actor: Actor, recorded_by: Member | None = None) -> None:
    if not scores:
        return
    allowed = {question.id for question in scaling.standing_questions(session, meeting.case_id)}
    for item in scores:
        if item.question_id not in allowed or not 0 <= item.score <= 10:
            continue
        scaling_round = scaling.round_for(session, question_id=item.question_id, meeting_id=meeting.id)
        scaling.record_score(session, round_id=scaling_round.id, member_id=member.id, score=item.score,
                             reason=item.reason, to_move_up=item.to_move_up, actor=actor,
                             recorded_by_member_id=recorded_by.id if recorded_by else None)
