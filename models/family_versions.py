"""Family versions: drafted, approved once, kept; and when, how and to whom each was given.

Who may prepare, approve and record the hand-over: the case's lead social worker, or the chair of the meeting
the record is about (`may_approve`). A draft is replaced while it is unapproved; approving is one conditional
update (`UPDATE ... WHERE status = 'draft' AND content = <what the person saw>`), so two clicks at once make
one approved version, and an approved version never changes: a change is a new version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import audit, cases, meetings
from models.audit import Actor
from models.calendar import WorkingCalendar
from models.cases import DomainError
from models.meetings import long_date
from models.tables import (
    FAMILY_ROLES,
    FamilyHandover,
    FamilyVersion,
    FamilyVersionStatus,
    Meeting,
    Member,
    MemberStatus,
)

NOT_ALLOWED = ("Only the lead social worker or the chair of this meeting can prepare, approve or hand over the"
               " family version. This is so that someone who knows the family checks it is safe to share first."
               " Please ask the lead social worker.")
HOW = {"in_person": "given in person", "home_visit": "read together at a home visit", "read_aloud": "read aloud",
       "post": "sent by post", "email": "sent by email"}
HOW_CHOICES = (("Read together at a home visit", "home_visit"), ("Given in person", "in_person"),
               ("Read aloud to them", "read_aloud"), ("Sent by post", "post"), ("Sent by email", "email"))
NOT_GIVEN_AFTER = 5  # working days


def may_approve(session: Session, meeting: Meeting | None, member: Member | None) -> bool:
    """The case's lead social worker, or whoever chairs (or chaired) the meeting."""
    if member is None or member.status != MemberStatus.ACTIVE:
        return False
    if meeting is None:
        return member.is_lead
    return meetings.is_chair(session, meeting, member)


def versions(session: Session, meeting_id: int) -> list[FamilyVersion]:
    return list(session.exec(select(FamilyVersion).where(FamilyVersion.meeting_id == meeting_id)
                             .order_by(col(FamilyVersion.version))))


def draft(session: Session, meeting_id: int) -> FamilyVersion | None:
    return session.exec(select(FamilyVersion).where(FamilyVersion.meeting_id == meeting_id,
                                                    FamilyVersion.status == FamilyVersionStatus.DRAFT)).first()


def approved(session: Session, meeting_id: int) -> FamilyVersion | None:
    """The newest approved version of the meeting's family version, or None."""
    return session.exec(select(FamilyVersion).where(FamilyVersion.meeting_id == meeting_id,
                                                    FamilyVersion.status == FamilyVersionStatus.APPROVED)
                        .order_by(col(FamilyVersion.version).desc())).first()


def content_of(version: FamilyVersion) -> dict:
    return json.loads(version.content)


def dumps(content: dict) -> str:
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def save_draft(session: Session, *, meeting: Meeting, recap_id: int | None, content: dict, member: Member,
               actor: Actor, now: datetime) -> FamilyVersion:
    """The meeting's draft, replaced while unapproved; a new draft takes the next version number."""
    row = draft(session, meeting.id)
    if row is None:
        existing = versions(session, meeting.id)
        row = FamilyVersion(case_id=meeting.case_id, meeting_id=meeting.id,
                            version=(existing[-1].version + 1) if existing else 1, content="{}")
        savepoint = session.begin_nested()
        try:
            session.add(row)
            session.flush()
        except IntegrityError:  # someone saved this version a moment ago: replace theirs (it is still a draft)
            savepoint.rollback()
            row = draft(session, meeting.id)
            if row is None:
                raise
        else:
            savepoint.commit()
    row.content = dumps(content)
    row.recap_id = recap_id
    row.includes_child_words = bool(content.get("includes_child_words"))
    row.prepared_by_member_id = member.id
    row.created_at = now
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="family_version.drafted", record_type="family_version",
                 record_id=row.id, case_id=meeting.case_id, meeting_id=meeting.id, version=row.version)
    return row


def approve(session: Session, *, version_id: int, seen_content: str, member: Member, actor: Actor,
            now: datetime) -> FamilyVersion | None:
    """Draft → approved, only if it is still the draft the person saw; None otherwise (approved already, or
    changed since)."""
    result = session.exec(
        update(FamilyVersion)
        .where(col(FamilyVersion.id) == version_id, col(FamilyVersion.status) == FamilyVersionStatus.DRAFT,
               col(FamilyVersion.content) == seen_content)
        .values(status=FamilyVersionStatus.APPROVED, approved_by_member_id=member.id, approved_at=now)
    )
    if result.rowcount != 1:
        return None
    row = session.get(FamilyVersion, version_id)
    session.refresh(row)
    audit.record(session, actor=actor, action="family_version.approved", record_type="family_version",
                 record_id=row.id, case_id=row.case_id, meeting_id=row.meeting_id, version=row.version,
                 includes_child_words=int(row.includes_child_words))
    return row


def family_members(session: Session, case_id: int) -> list[Member]:
    return [m for m in cases.members(session, case_id) if m.status == MemberStatus.ACTIVE and m.role in FAMILY_ROLES]


def record_handover(session: Session, *, version: FamilyVersion, given_on: date, how: str, interpreter: bool,
                    given_to: str, member: Member, actor: Actor, now: datetime) -> FamilyHandover:
    if version.status != FamilyVersionStatus.APPROVED:
        raise DomainError("This family version is not approved yet, so it cannot be given to the family.")
    if how not in HOW:
        raise DomainError("Please choose how it was given.", field="how")
    row = FamilyHandover(family_version_id=version.id, case_id=version.case_id, meeting_id=version.meeting_id,
                         given_on=given_on, how=how, interpreter=interpreter, given_to=given_to[:120],
                         recorded_by_member_id=member.id, recorded_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="family_version.given", record_type="family_handover",
                 record_id=row.id, case_id=version.case_id, meeting_id=version.meeting_id,
                 family_version_id=version.id)
    return row


def handovers(session: Session, meeting_id: int) -> list[FamilyHandover]:
    return list(session.exec(select(FamilyHandover).where(FamilyHandover.meeting_id == meeting_id)
                             .order_by(col(FamilyHandover.given_on), col(FamilyHandover.id))))


def handover_words(row: FamilyHandover, *, number: int) -> str:
    """E.g. "The family version of meeting 2 was given to Mother of Child A on Thursday 14 January 2027, read
    together at a home visit, with an interpreter."""
    text = (f"The family version of meeting {number} was given to {row.given_to} on {long_date(row.given_on)},"
            f" {HOW.get(row.how, row.how)}")
    if row.interpreter:
        text += ", with an interpreter"
    return text + "."


@dataclass
class NotGiven:
    case_id: int
    reference: str
    meeting_number: int
    version: int
    approved_on: date
    working_days: int


def not_given(session: Session, calendar: WorkingCalendar, *, today: date, case_ids: list[int] | None = None,
              after: int = NOT_GIVEN_AFTER) -> list[NotGiven]:
    """Approved family versions (the newest of each meeting) not given to the family after `after` working days."""
    from models.tables import Case

    query = (select(FamilyVersion, Meeting, Case).join(Meeting, col(Meeting.id) == col(FamilyVersion.meeting_id))
             .join(Case, col(Case.id) == col(FamilyVersion.case_id))
             .where(FamilyVersion.status == FamilyVersionStatus.APPROVED))
    if case_ids is not None:
        if not case_ids:
            return []
        query = query.where(col(FamilyVersion.case_id).in_(case_ids))
    newest: dict[int, tuple[FamilyVersion, Meeting, object]] = {}
    for row, meeting, case in session.exec(query.order_by(col(FamilyVersion.version))):
        newest[meeting.id] = (row, meeting, case)
    given = set(session.exec(select(FamilyHandover.meeting_id).where(
        col(FamilyHandover.meeting_id).in_(list(newest)))) if newest else [])
    found = []
    for meeting_id, (row, meeting, case) in newest.items():
        if meeting_id in given or row.approved_at is None:
            continue
        approved_on = calendar.local(row.approved_at).date()
        days = calendar.working_days_between(approved_on, today)
        if days >= after:
            found.append(NotGiven(case_id=case.id, reference=case.reference, meeting_number=meeting.number,
                                  version=row.version, approved_on=approved_on, working_days=days))
    return sorted(found, key=lambda n: (n.approved_on, n.reference))
