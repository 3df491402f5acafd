"""Closing a case: the plan ended, the case stepped up to legal proceedings, or moved to another area.

A closed case keeps every record, read-only: `handlers.access.member_for` refuses writes to it,
and read-only views ask for `allow_closed`. Closing cancels meetings not yet held and withdraws
scheduled messages, so nothing more is sent about the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, col, func, select

from models import audit, dates, meetings, reminders
from models.audit import Actor
from models.cases import DomainError
from models.tables import (
    Action,
    ActionStatus,
    Case,
    CaseStatus,
    CloseOutcome,
    Meeting,
    MeetingStatus,
    Member,
    MemberStatus,
    MessageStatus,
    ScheduledMessage,
)

MAX_REASON_CHARS = 2000
CLOSER_ROLES = ("team manager",)  # compared ignoring case and spaces at the ends
CANCEL_REASON = "The case was closed."

OUTCOME_TITLES = {
    CloseOutcome.PLAN_ENDED: "The plan ended",
    CloseOutcome.STEPPED_UP: "Stepped up to legal proceedings",
    CloseOutcome.TRANSFERRED: "Transferred to another area",
}

ONLY_LEAD = ("Only the lead social worker or a team manager in the core group can close the case. Ask"
             " the lead social worker if it is time to close it.")
MEETING_RUNNING = ("A meeting is in progress. End it with `/coregroup end` first, so that its record is"
                   " kept, then close the case.")
ALREADY_CLOSED = "This case has already been closed."


def may_close(member: Member | None) -> bool:
    """The lead social worker, or a team manager in the core group."""
    return (member is not None and member.status == MemberStatus.ACTIVE
            and (member.is_lead or " ".join((member.role or "").split()).casefold() in CLOSER_ROLES))


@dataclass(frozen=True)
class Closing:
    """What closing the case will do, shown before the person confirms it."""

    open_actions: int
    meetings_to_cancel: list[Meeting]
    pending_messages: int
    meeting_running: bool


def preview(session: Session, case_id: int) -> Closing:
    open_actions = session.exec(select(func.count()).select_from(Action).where(
        Action.case_id == case_id, Action.status == ActionStatus.OPEN)).one()
    return Closing(
        open_actions=open_actions,
        meetings_to_cancel=_scheduled_meetings(session, case_id),
        pending_messages=len(_pending(session, case_id)),
        meeting_running=meetings.in_progress(session, case_id) is not None,
    )


def check_close(*, case: Case, outcome: str | None, reason: str, closed_on: date | None, today: date
                ) -> dict[str, str]:
    """Field errors ("outcome", "reason", "date"), empty when the closure may go ahead."""
    errors: dict[str, str] = {}
    if outcome not in OUTCOME_TITLES:
        errors["outcome"] = "Please choose why the case is closing."
    if not reason.strip():
        errors["reason"] = "Please say why the case is closing, in a sentence or two."
    elif len(reason) > MAX_REASON_CHARS:
        errors["reason"] = f"Please keep the reason under {MAX_REASON_CHARS:,} characters (it is {len(reason):,} now)."
    if closed_on is None:
        errors["date"] = "Please choose the date the case closed."
    elif problem := dates.check_closed_on(closed_on, today=today, initial=case.initial_conference_date):
        errors["date"] = problem
    return errors


def close_case(session: Session, *, case: Case, outcome: str, reason: str, closed_on: date, actor: Actor,
               now: datetime, today: date) -> Case:
    """Close the case in the caller's transaction; raises DomainError if it cannot close now.

    Once only, by a unique key: two people closing at the same moment cannot both succeed.
    """
    errors = check_close(case=case, outcome=outcome, reason=reason, closed_on=closed_on, today=today)
    if errors:
        field, message = next(iter(errors.items()))
        raise DomainError(message, field=field)
    if case.status != CaseStatus.OPEN or not audit.claim_once(session, f"case:{case.id}:closed"):
        raise DomainError(ALREADY_CLOSED)
    if meetings.in_progress(session, case.id) is not None:
        raise DomainError(MEETING_RUNNING, field="meeting")
    cancelled = []
    for meeting in _scheduled_meetings(session, case.id):
        meetings.cancel(session, meeting=meeting, reason=CANCEL_REASON, actor=actor, now=now)
        cancelled.append(meeting.id)
    withdrawn = len(_pending(session, case.id))
    case.status = CaseStatus.CLOSED
    case.closed_at = now
    case.closed_on = closed_on
    case.close_outcome = outcome
    case.close_reason = reason.strip()
    session.add(case)
    session.flush()
    reminders.case_closed(session, case=case, now=now)
    audit.record(session, actor=actor, action="case.closed", record_type="case", record_id=case.id,
                 case_id=case.id, outcome=str(outcome), meetings_cancelled=len(cancelled),
                 messages_withdrawn=withdrawn)
    return case


def _scheduled_meetings(session: Session, case_id: int) -> list[Meeting]:
    return list(session.exec(select(Meeting).where(
        Meeting.case_id == case_id, Meeting.status == MeetingStatus.SCHEDULED).order_by(col(Meeting.id))))


def _pending(session: Session, case_id: int) -> list[ScheduledMessage]:
    return list(session.exec(select(ScheduledMessage).where(
        ScheduledMessage.case_id == case_id, ScheduledMessage.status == MessageStatus.PENDING)))
