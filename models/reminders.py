"""Scheduled work that follows from changes to the domain.

The domain tables hold the truth; each change that affects what should be sent (a case opened, a
meeting scheduled, moved or cancelled, an action's due date changed, someone sending apologies)
calls one of these in the same transaction, and they write or withdraw rows in the scheduled
message ledger (`ScheduledMessage`). The dispatcher in bot/scheduler.py sends what falls due.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models.tables import Action, Attendance, Case, Meeting, Member


def case_opened(session: Session, *, case: Case, now: datetime) -> None:
    """A new case: plan the lapse check and the review conference reminder."""


def meeting_changed(session: Session, *, meeting: Meeting, now: datetime) -> None:
    """A meeting scheduled, moved, cancelled, started or ended: re-plan its reminders."""


def action_changed(session: Session, *, action: Action, now: datetime) -> None:
    """An action created, given a new date, done or dropped: re-plan its overdue nudges."""


def attendance_changed(session: Session, *, attendance: Attendance, now: datetime) -> None:
    """Someone said they are attending or sent apologies: plan or withdraw their follow-up."""


def member_changed(session: Session, *, member: Member, now: datetime) -> None:
    """A member removed, or away until a date: their nudges wait or stop."""
