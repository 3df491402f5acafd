"""A recap's life after the chair approves it: the meeting ends, the recap is posted once, people read it.

Crash safety. Approving saves the recap with status "posting" in the same transaction that ends the
meeting and books the next one. Posting then records each message as Slack accepts it
(`part_posted`) and finally marks the recap "posted". A lease (`posting_until`) lets one process at a
time post a recap: the approver holds it first; if the process dies, the lease runs out and
`handlers.recap_posting.post_pending_recaps` claims it and carries on from the last part recorded.
All state changes are conditional updates, so two processes (or a double click) cannot both win.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import actions, audit, chart, left_open, meeting_facts, meetings, outbox, reminders
from models.audit import Actor
from models.cases import DomainError
from models.db import change_once
from models.ledger import Kind
from models.recap import CHANNEL, OUTSIDE_SLACK, content_of, scheduled_after
from models.tables import (
    Case,
    Meeting,
    MeetingStatus,
    Member,
    Recap,
    RecapAcknowledgement,
    RecapRecipient,
    RecapStatus,
)

LEASE = timedelta(minutes=2)
NOT_IN_PROGRESS = "This meeting is not in progress any more, so it cannot be ended again."


def approve(session: Session, *, recap_id: int, approved_content: str, actor: Actor, now: datetime) -> Recap | None:
    """Draft → posting, with what follows from it, in the caller's transaction.

    Returns None when the draft is no longer the one the chair saw (approved already, or changed).
    Version 1 ends the meeting and books the next one as the record says; raises DomainError (and the
    caller's transaction rolls back) when that cannot be done.
    """
    result = session.exec(
        update(Recap)
        .where(col(Recap.id) == recap_id, col(Recap.status) == RecapStatus.DRAFT,
               col(Recap.content) == approved_content)
        .values(status=RecapStatus.POSTING, approved_at=now, posting_until=now + LEASE)
    )
    if result.rowcount != 1:
        return None
    recap = session.get(Recap, recap_id)
    session.refresh(recap)
    content = content_of(recap)
    meeting = session.get(Meeting, recap.meeting_id)
    case = session.get(Case, meeting.case_id)
    if recap.version == 1:
        end_meeting(session, meeting=meeting, actor=actor, now=now)
        book_next(session, case=case, content=content, actor=actor, now=now)
    for person in content["shared_with"]:
        session.add(RecapRecipient(recap_id=recap.id, member_id=person["id"],
                                   via=CHANNEL if person["via"] == CHANNEL else OUTSIDE_SLACK))
    session.flush()
    audit.record(session, actor=actor, action="recap.approved", record_type="recap", record_id=recap.id,
                 case_id=case.id, meeting_id=meeting.id, version=recap.version)
    return recap


def end_meeting(session: Session, *, meeting: Meeting, actor: Actor, now: datetime) -> Meeting:
    """In progress (or closed earlier without a record) → ended, in one conditional update."""
    ended = session.execute(
        update(Meeting).where(col(Meeting.id) == meeting.id, col(Meeting.status).in_(left_open.RECORDABLE))
        .values(status=MeetingStatus.ENDED, ended_at=now)
        .returning(Meeting.id)).first()
    if ended is None:
        raise DomainError(NOT_IN_PROGRESS)
    session.refresh(meeting)
    meeting_facts.touch(session, case_id=meeting.case_id)  # a bulk update: the session hooks do not see it
    audit.record(session, actor=actor, action="meeting.ended", record_type="meeting", record_id=meeting.id,
                 case_id=meeting.case_id)
    meeting_day = reminders.policy().calendar.local(meeting.scheduled_start).date()
    actions.carry_forward_overdue(session, case_id=meeting.case_id, meeting_day=meeting_day, actor=actor, now=now)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return meeting


def book_next(session: Session, *, case: Case, content: dict, actor: Actor, now: datetime) -> Meeting | None:
    """Schedule the next meeting the record names, unless it was booked already."""
    wanted = content.get("next_meeting")
    if not wanted or wanted.get("meeting_id"):
        return None
    chair = wanted.get("chair") or {}
    return meetings.schedule(session, case=case, start=datetime.fromisoformat(wanted["start"]),
                             duration_minutes=int(wanted.get("duration") or meetings.DEFAULT_LENGTH),
                             location=wanted.get("location") or "", chair_member_id=chair.get("id"),
                             actor=actor, now=now)


# --- posting -------------------------------------------------------------------------------------------------


def pending_ids(session: Session) -> list[int]:
    """Recaps approved but not yet wholly in Slack, oldest first."""
    return list(session.exec(select(Recap.id).where(Recap.status == RecapStatus.POSTING).order_by(col(Recap.id))))


def claim(session: Session, recap_id: int, now: datetime) -> bool:
    """Take the posting lease of a recap whose last holder is gone; False if someone holds it or it is done."""
    result = session.exec(
        update(Recap)
        .where(col(Recap.id) == recap_id, col(Recap.status) == RecapStatus.POSTING,
               or_(col(Recap.posting_until).is_(None), col(Recap.posting_until) <= now))
        .values(posting_until=now + LEASE)
    )
    return result.rowcount == 1


def part_posted(session: Session, *, recap_id: int, part: int, channel_id: str, ts: str, now: datetime) -> None:
    """Slack has message `part` (0 is the first, in the channel; the rest are in its thread)."""
    recap = session.get(Recap, recap_id)
    if part == 0:
        recap.channel_id, recap.message_ts = channel_id, ts
    recap.parts_posted = max(recap.parts_posted, part + 1)
    recap.posting_until = now + LEASE
    session.add(recap)


def mark_posted(session: Session, *, recap_id: int, now: datetime) -> Recap:
    """Posting → posted, once (a conditional update): the audit row, and what follows from it in Slack (written to
    the outbox), are written by the one that changed it."""
    recap = session.get(Recap, recap_id)
    if not change_once(session, Recap, recap_id, col(Recap.status) == RecapStatus.POSTING,
                       status=RecapStatus.POSTED, posted_at=now, posting_until=None):
        return recap
    meeting = session.get(Meeting, recap.meeting_id)
    audit.record(session, actor=Actor.app(), action="recap.posted", record_type="recap", record_id=recap.id,
                 case_id=meeting.case_id, meeting_id=meeting.id, version=recap.version)
    reminders.record_posted(session, meeting=meeting, now=now)
    follow_ups(session, recap, now=now)
    return recap


def follow_ups(session: Session, recap: Recap, *, now: datetime, write: bool = True) -> list[str]:
    """The outbox rows a posted recap is followed by (their keys; written unless `write` is False): after the first
    version, the ended meeting's message says so and the next meeting (booked by the record) is posted; after
    every version, a trajectory chart for each standing question asked, in its thread, and the request to prepare
    its family version (handlers/family.py); and the next meeting's outline for the family."""
    meeting = session.get(Meeting, recap.meeting_id)
    case_id = meeting.case_id
    enqueue = outbox.enqueue if write else (lambda session, *, key, **_: key)
    keys, booked = [], None
    if recap.version == 1:
        keys.append(enqueue(session, key=f"meeting:{meeting.id}:redraw:ended", kind=Kind.REDRAW, case_id=case_id,
                            meeting_id=meeting.id, now=now))
        booked = scheduled_after(session, meeting)
        if booked is not None and not booked.message_ts:
            keys.append(enqueue(session, key=f"meeting:{booked.id}:post", kind=Kind.MEETING_POST, case_id=case_id,
                                meeting_id=booked.id, now=now))
    for index, question_id in enumerate(chart.questions_to_chart(session, meeting), start=1):
        keys.append(enqueue(session, key=f"chart:{recap.id}:{question_id}", kind=Kind.CHART, case_id=case_id,
                            meeting_id=meeting.id, now=now,
                            detail={"recap": recap.id, "question": question_id, "index": index}))
    # every posted version: the lead social worker (else the chair) is asked to prepare its family version
    keys.append(enqueue(session, key=f"family-ask:{recap.id}", kind=Kind.FAMILY_ASK, case_id=case_id,
                        meeting_id=meeting.id, now=now, detail={"recap": recap.id}))
    if booked is not None and not booked.message_ts:  # the next meeting's family outline
        keys.append(outbox.family_outline(session, meeting=booked, now=now) if write else outbox.outline_key(booked))
    return keys


def superseded(session: Session, recap: Recap) -> Recap | None:
    """A later approved version of the same meeting's record, if any."""
    return session.exec(select(Recap).where(Recap.meeting_id == recap.meeting_id, Recap.version > recap.version,
                                            Recap.status != RecapStatus.DRAFT)
                        .order_by(col(Recap.version).desc())).first()


# --- who it went to, and who has read it -------------------------------------------------------------------


def recipients(session: Session, recap_id: int) -> list[tuple[RecapRecipient, Member]]:
    return list(session.exec(
        select(RecapRecipient, Member).join(Member, col(Member.id) == col(RecapRecipient.member_id))
        .where(RecapRecipient.recap_id == recap_id).order_by(col(RecapRecipient.id))))


def acknowledge(session: Session, *, recap: Recap, member: Member, actor: Actor, now: datetime) -> bool:
    """Record that the member has read this version; False if they had already said so."""
    savepoint = session.begin_nested()
    try:
        row = RecapAcknowledgement(recap_id=recap.id, member_id=member.id, at=now)
        session.add(row)
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    meeting = session.get(Meeting, recap.meeting_id)
    audit.record(session, actor=actor, action="recap.read", record_type="recap", record_id=recap.id,
                 case_id=meeting.case_id, member_id=member.id)
    return True


def readers(session: Session, recap_id: int) -> list[Member]:
    """Who has said they read this version, in the order they said it."""
    return list(session.exec(
        select(Member).join(RecapAcknowledgement, col(RecapAcknowledgement.member_id) == col(Member.id))
        .where(RecapAcknowledgement.recap_id == recap_id)
        .order_by(col(RecapAcknowledgement.at), col(RecapAcknowledgement.id))))
