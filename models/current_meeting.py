"""The meeting that decisions, actions and scaling belong to, and who may chair it.

Thin over `models.meetings` (the meetings feature owns these rules); adds the case with no meeting,
where the lead social worker stands in as chair.
"""

from __future__ import annotations

from sqlmodel import Session

from models import meetings
from models.tables import Meeting, Member, MemberStatus


def in_progress(session: Session, case_id: int) -> Meeting | None:
    """The case's meeting that is in progress now, if any."""
    return meetings.in_progress(session, case_id)


def upcoming(session: Session, case_id: int) -> Meeting | None:
    return meetings.upcoming(session, case_id)


def is_chair(session: Session, meeting: Meeting | None, member: Member | None) -> bool:
    """The meeting's chair, or the lead social worker standing in (also when there is no meeting)."""
    if member is None or member.status != MemberStatus.ACTIVE:
        return False
    if meeting is None:
        return member.is_lead
    return meetings.is_chair(session, meeting, member)
