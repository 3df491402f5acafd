"""A meeting nobody ended: closed as "ended without a record" after 2 working days, and still recordable.

The scheduler asks the chair and then the lead social worker to end it (models/dispatch.py); if it is
still open after 2 working days, `close` marks it ended without a record, in one conditional update, so
it can never sit "in progress" for weeks. A record can still be written afterwards through the normal
end flow (`/coregroup end`), which ends it properly. For the lapse check a meeting counts as held only
once its record is posted (models/reminders.py `last_held`).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import audit, meeting_facts, reminders
from models.audit import Actor
from models.tables import Meeting, MeetingStatus

# A meeting whose record can be written through the end flow.
RECORDABLE = (MeetingStatus.IN_PROGRESS, MeetingStatus.ENDED_WITHOUT_RECORD)


def close(session: Session, *, meeting_id: int, now: datetime) -> Meeting | None:
    """In progress → ended without a record; the meeting if this call closed it, else None (ended, or
    closed already by another instance)."""
    closed = session.execute(
        update(Meeting).where(col(Meeting.id) == meeting_id, col(Meeting.status) == MeetingStatus.IN_PROGRESS)
        .values(status=MeetingStatus.ENDED_WITHOUT_RECORD)  # when it really ended is not known
        .returning(Meeting.id)).first()
    if closed is None:
        return None
    meeting = session.get(Meeting, meeting_id)
    session.refresh(meeting)
    meeting_facts.touch(session, case_id=meeting.case_id)  # a bulk update: the session hooks do not see it
    audit.record(session, actor=Actor.app(), action="meeting.ended_without_record", record_type="meeting",
                 record_id=meeting.id, case_id=meeting.case_id)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return meeting


def to_record(session: Session, case_id: int) -> Meeting | None:
    """The meeting `/coregroup end` records: the one in progress, else the latest closed without a record."""
    for status in RECORDABLE:
        found = session.exec(select(Meeting).where(Meeting.case_id == case_id, Meeting.status == status)
                             .order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())).first()
        if found is not None:
            return found
    return None
