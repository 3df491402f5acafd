"""Core group meetings: scheduling by the statutory calendar, moving, cancelling, attendance, the chair.

One upcoming meeting at a time per case. Each meeting that is not cancelled holds a natural key
(`source_key`, "meeting:<case>:<number>"), so two people scheduling at the same moment cannot both
succeed; cancelling releases the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache

import holidays
from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from models import audit, cases, dates, reminders
from models.audit import Actor
from models.calendar import NextDue, WorkingCalendar
from models.cases import DomainError
from models.db import change_once
from models.tables import (
    Attendance,
    AttendanceStatus,
    Case,
    Meeting,
    MeetingChange,
    MeetingStatus,
    Member,
    MemberStatus,
    Update,
    is_professional,
)

OPEN_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS)
HELD_STATUSES = (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS, MeetingStatus.ENDED,
                 MeetingStatus.ENDED_WITHOUT_RECORD)
MIN_LENGTH, MAX_LENGTH, DEFAULT_LENGTH = 30, 240, 90


def long_date(day: date) -> str:
    """E.g. "Tuesday 8 December 2026"."""
    return f"{day:%A} {day.day} {day:%B %Y}"


# --- finding meetings -------------------------------------------------------------------------


def upcoming(session: Session, case_id: int) -> Meeting | None:
    """The earliest meeting that is scheduled or in progress."""
    return session.exec(
        select(Meeting)
        .where(Meeting.case_id == case_id, col(Meeting.status).in_(OPEN_STATUSES))
        .order_by(col(Meeting.scheduled_start), col(Meeting.id))
    ).first()


def in_progress(session: Session, case_id: int) -> Meeting | None:
    return session.exec(
        select(Meeting)
        .where(Meeting.case_id == case_id, Meeting.status == MeetingStatus.IN_PROGRESS)
        .order_by(col(Meeting.scheduled_start))
    ).first()


def previous_ended(session: Session, case_id: int, *, before: Meeting | None = None) -> Meeting | None:
    """The most recent ended meeting (before `before`, when given)."""
    query = select(Meeting).where(Meeting.case_id == case_id, Meeting.status == MeetingStatus.ENDED)
    if before is not None:
        query = query.where(Meeting.scheduled_start < before.scheduled_start, Meeting.id != before.id)
    return session.exec(query.order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())).first()


def get_for_case(session: Session, case_id: int, meeting_id) -> Meeting | None:
    """The meeting with this id if it belongs to the case (ids from buttons are only hints)."""
    try:
        meeting = session.get(Meeting, int(meeting_id))
    except (TypeError, ValueError):
        return None
    return meeting if meeting is not None and meeting.case_id == case_id else None


# --- the statutory calendar -------------------------------------------------------------------


@dataclass
class Proposal:
    day: date
    reasons: list[str] = field(default_factory=list)


def propose(calendar: WorkingCalendar, *, case: Case, last_meeting: date | None, today: date,
            review_conference: date | None = None) -> Proposal:
    """The next meeting date by the statutory calendar, with the reasons in plain words.

    `review_conference` is the date to plan around, when it is not (yet) the case's."""
    review = review_conference or case.review_conference_date
    due = calendar.next_meeting_due(initial_conference=case.initial_conference_date,
                                    frequency_weeks=case.frequency_weeks, last_meeting=last_meeting,
                                    review_conference=review)
    day = calendar.propose_meeting_date(
        today=today, initial_conference=case.initial_conference_date, frequency_weeks=case.frequency_weeks,
        last_meeting=last_meeting, review_conference=review,
    )
    reasons: list[str] = []
    if last_meeting is None:
        reasons.append(f"The first core group meets within 10 working days of the initial conference"
                       f" ({long_date(case.initial_conference_date)}): by {long_date(due.day)}.")
    else:
        reasons.append(f"This core group meets every {case.frequency_weeks} weeks. The last meeting was on"
                       f" {long_date(last_meeting)}.")
    if review is not None and review > today:
        review_deadline = calendar.last_meeting_deadline(review)
        reasons.append(f"The review conference is on {long_date(review)}. The last core"
                       f" group before it should be at least 10 working days earlier: by"
                       f" {long_date(review_deadline)}.")
        if due.rule == NextDue.BROUGHT_FORWARD:
            reasons.append("So this meeting is brought forward to that day, as close to the review as the rule"
                           " allows, for the group to agree what it will recommend.")
        elif due.rule == NextDue.AFTER_REVIEW:
            reasons.append(f"The meeting on {long_date(last_meeting)} is the last core group before the review,"
                           " so the next is suggested for after the review conference.")
        elif last_meeting is not None and review <= due.day and last_meeting <= review_deadline:
            reasons.append(f"The meeting on {long_date(last_meeting)} is the last core group before the review,"
                           " early enough, so no extra meeting is needed before it.")
    if day > due.day:
        reasons.append("That date has passed, so the next working day is suggested.")
    return Proposal(day=day, reasons=reasons)


@lru_cache(maxsize=1)
def _bank_holidays() -> holidays.HolidayBase:
    return holidays.country_holidays("GB", subdiv="ENG")


def check_start(calendar: WorkingCalendar, *, start: datetime, now: datetime) -> str | None:
    """Why a meeting cannot start then (in the past, not a working day), or None."""
    day = calendar.local(start).date()
    if start <= now:
        return "That time has already passed. Please choose a time in the future."
    too_far = dates.check_meeting_day(day, today=calendar.local(now).date())
    if too_far:
        return too_far
    if day.weekday() >= 5:
        return f"{long_date(day)} is a {day:%A}, not a working day. Please choose a weekday."
    if calendar.is_bank_holiday(day):
        name = _bank_holidays().get(day) or "a bank holiday"
        return (f"{long_date(day)} is a bank holiday in England and Wales ({name}). Please choose a working"
                " day.")
    if not calendar.is_working_day(day):
        return f"{long_date(day)} is not a working day. Please choose another day."
    return None


def deadline_warning(calendar: WorkingCalendar, *, case: Case, start: datetime, first: bool,
                     review_conference: date | None = None) -> str | None:
    """A warning (not a refusal) when the date misses a statutory deadline.

    The review rule is about the last core group before a review conference that is still to come: a
    meeting on or after the review day, or before the deadline, is not warned about. `review_conference`
    is the date to check against when a new one is being saved with this meeting (else the case's)."""
    day = calendar.local(start).date()
    warnings = []
    if first:
        deadline = calendar.first_meeting_deadline(case.initial_conference_date)
        if day > deadline:
            warnings.append("The first core group should meet within 10 working days of the initial conference:"
                            f" by {long_date(deadline)}.")
    review = review_conference or case.review_conference_date
    if review is not None:
        deadline = calendar.last_meeting_deadline(review)
        if deadline < day < review:
            warnings.append(f"This is less than 10 working days before the review conference on {long_date(review)}"
                            f" (the last core group before it should be by {long_date(deadline)}).")
    if not warnings:
        return None
    return " ".join([*warnings, "Choose an earlier date, or press the button again to keep this one."])


# --- the review conference --------------------------------------------------------------------


def check_review_date(review: date, *, today: date) -> str | None:
    """Why this cannot be the next review conference, or None (the rule is models.dates')."""
    return dates.check_review_conference(review, today=today)


def set_review_date(session: Session, *, case_id: int, review: date, actor: Actor, now: datetime,
                    today: date) -> bool:
    """Record the date of the next review conference (after one was held, or when it moves).

    False when it is the date already recorded. Its reminder moves with it, in the same transaction.
    Raises DomainError when the date is not after today."""
    problem = check_review_date(review, today=today)
    if problem:
        raise DomainError(problem, field="review")
    # Conditional: two people recording the same new date at once record (and announce) it once.
    changed = change_once(session, Case, case_id, or_(col(Case.review_conference_date).is_(None),
                                                       col(Case.review_conference_date) != review),
                          review_conference_date=review)
    if not changed:
        return False
    case = session.get(Case, case_id)
    audit.record(session, actor=actor, action="case.review_date_set", record_type="case", record_id=case.id,
                 case_id=case.id)
    reminders.plan_case(session, case, now)
    return True


# --- scheduling, moving, cancelling -----------------------------------------------------------


def _member_of(session: Session, case_id: int, actor: Actor) -> Member | None:
    return cases.active_member(session, case_id, actor.team_id, actor.user_id)


def _key(case_id: int, number: int) -> str:
    return f"meeting:{case_id}:{number}"


def held_count(session: Session, case_id: int) -> int:
    """Meetings held or planned (not cancelled)."""
    return session.exec(
        select(func.count()).select_from(Meeting)
        .where(Meeting.case_id == case_id, col(Meeting.status).in_(HELD_STATUSES))
    ).one()


def schedule(session: Session, *, case: Case, start: datetime, duration_minutes: int, location: str,
             chair_member_id: int | None, actor: Actor, now: datetime) -> Meeting:
    """Schedule the case's next meeting. Raises DomainError if one is already scheduled."""
    if upcoming(session, case.id) is not None:
        raise DomainError("A meeting is already scheduled. Move or cancel it first.", field="date")
    if not MIN_LENGTH <= duration_minutes <= MAX_LENGTH:
        raise DomainError(f"A meeting lasts from {MIN_LENGTH} to {MAX_LENGTH} minutes.", field="length")
    if chair_member_id is not None:
        chair = session.get(Member, chair_member_id)
        if chair is None or chair.case_id != case.id or not can_chair(chair):
            raise DomainError(CHAIR_WHO, field="chair")
    number = held_count(session, case.id) + 1
    meeting = Meeting(case_id=case.id, number=number, scheduled_start=start, duration_minutes=duration_minutes,
                      location=location, chair_member_id=chair_member_id, created_at=now,
                      source_key=_key(case.id, number))
    session.add(meeting)
    session.flush()
    audit.record(session, actor=actor, action="meeting.scheduled", record_type="meeting", record_id=meeting.id,
                 case_id=case.id)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return meeting


NOT_SCHEDULED = "This meeting has already started, ended or been cancelled, so it cannot be changed."


def _must_be_scheduled(meeting: Meeting) -> None:
    if meeting.status != MeetingStatus.SCHEDULED:
        raise DomainError(NOT_SCHEDULED)


def move(session: Session, *, meeting: Meeting, start: datetime, reason: str, actor: Actor, now: datetime,
         location: str | None = None) -> Meeting:
    """Move a scheduled meeting to a new start (and place), recording the reason."""
    _must_be_scheduled(meeting)
    if not reason.strip():
        raise DomainError("Please give a reason for moving the meeting.", field="reason")
    member = _member_of(session, meeting.case_id, actor)
    old_start = meeting.scheduled_start
    moved = {"scheduled_start": start} | ({"location": location} if location is not None else {})
    # Conditional: a meeting cancelled or started a moment ago is not moved.
    if not change_once(session, Meeting, meeting.id, Meeting.status == MeetingStatus.SCHEDULED, **moved):
        raise DomainError(NOT_SCHEDULED)
    change = MeetingChange(meeting_id=meeting.id, kind="moved", old_start=old_start, new_start=start,
                           reason=reason.strip(), at=now, by_member_id=member.id if member else None)
    session.add(change)
    session.flush()
    audit.record(session, actor=actor, action="meeting.moved", record_type="meeting", record_id=meeting.id,
                 case_id=meeting.case_id, change_id=change.id)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return meeting


def cancel(session: Session, *, meeting: Meeting, reason: str, actor: Actor, now: datetime) -> Meeting:
    """Cancel a scheduled meeting, recording the reason; its number is free for the next one."""
    _must_be_scheduled(meeting)
    if not reason.strip():
        raise DomainError("Please give a reason for cancelling the meeting.", field="reason")
    member = _member_of(session, meeting.case_id, actor)
    # Conditional: of two people cancelling (or one starting) at the same moment, one changes it.
    if not change_once(session, Meeting, meeting.id, Meeting.status == MeetingStatus.SCHEDULED,
                       status=MeetingStatus.CANCELLED,
                       source_key=f"{_key(meeting.case_id, meeting.number)}:cancelled:{meeting.id}"):
        raise DomainError(NOT_SCHEDULED)
    change = MeetingChange(meeting_id=meeting.id, kind="cancelled", old_start=meeting.scheduled_start,
                           reason=reason.strip(), at=now, by_member_id=member.id if member else None)
    session.add(change)
    session.flush()
    audit.record(session, actor=actor, action="meeting.cancelled", record_type="meeting", record_id=meeting.id,
                 case_id=meeting.case_id, change_id=change.id)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return meeting


def changes(session: Session, meeting_id: int) -> list[MeetingChange]:
    return list(session.exec(select(MeetingChange).where(MeetingChange.meeting_id == meeting_id)
                             .order_by(col(MeetingChange.id))))


# --- the chair --------------------------------------------------------------------------------


def can_chair(member: Member | None) -> bool:
    """Someone who can run a meeting: an active professional on Slack (buttons work across organisations)."""
    return (member is not None and member.status == MemberStatus.ACTIVE and bool(member.slack_user_id)
            and is_professional(member.role))


CHAIR_WHO = "The chair must be a professional in the core group who uses Slack."


def chairs(session: Session, case_id: int) -> list[Member]:
    """Everyone who can chair this case's meetings."""
    return [m for m in cases.professionals(session, case_id) if can_chair(m)]


def suggest_chair(session: Session, case_id: int) -> Member | None:
    """Who should chair the next meeting.

    The first meeting: the lead social worker (the product's rule, and the seeds': the social worker leads
    the first core group, which reviews and fine-tunes the plan). After that the chair rotates: "it is good to
    take turns so the social worker has the opportunity to contribute more", so the professional on Slack who
    chaired least recently, those who never chaired first and, among those, the lead social worker last. What
    counts is who actually chaired (recorded at the start), else who was asked to.
    """
    candidates = chairs(session, case_id)
    if not candidates:
        return None
    held = list(session.exec(select(Meeting).where(Meeting.case_id == case_id,
                                                   col(Meeting.status).in_(HELD_STATUSES))))
    if not held:
        lead = next((m for m in candidates if m.is_lead), None)
        if lead is not None:
            return lead
    last_chaired: dict[int, datetime] = {}
    for meeting in held:
        chair_id = meeting.chaired_by_member_id or meeting.chair_member_id
        if chair_id is None:
            continue
        when = meeting.scheduled_start
        if chair_id not in last_chaired or when > last_chaired[chair_id]:
            last_chaired[chair_id] = when

    def order(member: Member) -> tuple:
        chaired = last_chaired.get(member.id)
        if chaired is None:
            return (0, 0.0, member.is_lead, member.id)
        return (1, chaired.timestamp(), member.is_lead, member.id)

    return min(candidates, key=order)


def chair_id_of(meeting: Meeting) -> int | None:
    """Who chairs the meeting: once it has started, whoever actually chaired; before, whoever was asked to."""
    return meeting.chaired_by_member_id or meeting.chair_member_id


def is_chair(session: Session, meeting: Meeting, member: Member | None) -> bool:
    """The meeting's chair, or the lead social worker standing in."""
    if member is None or member.case_id != meeting.case_id or member.status != MemberStatus.ACTIVE:
        return False
    return member.id == chair_id_of(meeting) or member.is_lead


def change_chair(session: Session, *, meeting: Meeting, chair: Member, actor: Actor, now: datetime) -> bool:
    """Ask someone else to chair a meeting that has not started (after the chair sent apologies, say).

    False when they are the chair already. Raises DomainError when the meeting has started or they cannot
    chair (a professional in the group, on Slack)."""
    _must_be_scheduled(meeting)
    if chair.case_id != meeting.case_id or not can_chair(chair):
        raise DomainError(CHAIR_WHO, field="chair")
    was = meeting.chair_member_id
    # One statement: two people pressing "Chair it myself" at once on PostgreSQL change the chair (and tell the
    # group) once; the second finds them the chair already.
    if not change_once(session, Meeting, meeting.id, Meeting.status == MeetingStatus.SCHEDULED,
                       or_(col(Meeting.chair_member_id).is_(None), Meeting.chair_member_id != chair.id),
                       chair_member_id=chair.id):
        session.refresh(meeting)
        _must_be_scheduled(meeting)
        return False
    audit.record(session, actor=actor, action="meeting.chair_changed", record_type="meeting", record_id=meeting.id,
                 case_id=meeting.case_id, was=was, chair=chair.id)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return True


def actual_chair(*, meeting: Meeting, starter: Member, marked: dict[int, str]) -> int:
    """Who chairs the meeting being started: the chair if they start it or are marked present (the lead social
    worker only pressed the button for them), else whoever starts it, standing in."""
    if meeting.chair_member_id is not None and marked.get(meeting.chair_member_id) == AttendanceStatus.PRESENT:
        return meeting.chair_member_id
    return starter.id


# --- attendance -------------------------------------------------------------------------------


def attendance(session: Session, meeting_id: int) -> dict[int, str]:
    """member_id -> AttendanceStatus for everyone who replied or was recorded."""
    rows = session.exec(select(Attendance).where(Attendance.meeting_id == meeting_id))
    return {row.member_id: row.status for row in rows}


def _attendance_row(session: Session, meeting_id: int, member_id: int) -> Attendance | None:
    return session.exec(select(Attendance).where(Attendance.meeting_id == meeting_id,
                                                 Attendance.member_id == member_id)).first()


def set_attendance(session: Session, *, meeting: Meeting, member: Member, status: str, actor: Actor,
                   now: datetime) -> Attendance:
    if status not in set(AttendanceStatus):
        raise DomainError("Unknown attendance.")
    row = _attendance_row(session, meeting.id, member.id)
    if row is None:
        row = Attendance(meeting_id=meeting.id, member_id=member.id, status=status, responded_at=now)
        savepoint = session.begin_nested()
        try:
            session.add(row)
            session.flush()
        except IntegrityError:  # the same person's other click got there first
            savepoint.rollback()
            row = _attendance_row(session, meeting.id, member.id)
        else:
            savepoint.commit()
    row.status = status
    row.responded_at = now
    session.add(row)
    session.flush()
    audit.record(session, actor=actor, action="attendance.set", record_type="attendance", record_id=row.id,
                 case_id=meeting.case_id, meeting_id=meeting.id, member_id=member.id)
    reminders.attendance_changed(session, attendance=row, now=now)
    return row


def start_attendance(session: Session, meeting: Meeting, *, starter: Member | None = None) -> dict[int, str]:
    """Attendance as people said it: attending → present, apologies → apologies. Nobody else is marked (never
    guessed absent: a parent without Slack can never reply), except whoever starts the meeting: they are here,
    whatever they said before."""
    replies = attendance(session, meeting.id)
    result: dict[int, str] = {}
    for member in cases.members(session, meeting.case_id):
        if member.status != MemberStatus.ACTIVE:
            continue
        reply = replies.get(member.id)
        if reply in (AttendanceStatus.ATTENDING, AttendanceStatus.PRESENT):
            result[member.id] = AttendanceStatus.PRESENT
        elif reply in (AttendanceStatus.APOLOGIES, AttendanceStatus.ABSENT):
            result[member.id] = reply
    if starter is not None:
        result[starter.id] = AttendanceStatus.PRESENT
    return result


def start(session: Session, *, meeting: Meeting, present: dict[int, str], actor: Actor, now: datetime,
          chaired_by: int | None = None) -> Meeting:
    """Open the meeting: attendance as the chair confirmed it, who chairs it, status in progress."""
    if any(status not in (AttendanceStatus.PRESENT, AttendanceStatus.APOLOGIES, AttendanceStatus.ABSENT)
           for status in present.values()):
        raise DomainError("Attendance is present, apologies or absent.")
    # One conditional update: of two chairs starting at the same moment, one starts it.
    if not change_once(session, Meeting, meeting.id, Meeting.status == MeetingStatus.SCHEDULED,
                       status=MeetingStatus.IN_PROGRESS, started_at=now,
                       chaired_by_member_id=chaired_by if chaired_by is not None else meeting.chair_member_id):
        raise DomainError("This meeting has already started, ended or been cancelled.")
    for member_id, status in present.items():
        member = session.get(Member, member_id)
        if member is None or member.case_id != meeting.case_id:
            continue
        set_attendance(session, meeting=meeting, member=member, status=status, actor=actor, now=now)
    audit.record(session, actor=actor, action="meeting.started", record_type="meeting", record_id=meeting.id,
                 case_id=meeting.case_id, chaired_by=meeting.chaired_by_member_id)
    reminders.meeting_changed(session, meeting=meeting, now=now)
    return meeting


# --- updates ----------------------------------------------------------------------------------


def latest_updates(session: Session, meeting_id: int) -> list[Update]:
    """The latest version of each member's update for the meeting, oldest first."""
    rows = session.exec(select(Update).where(Update.meeting_id == meeting_id)
                        .order_by(col(Update.member_id), col(Update.version).desc()))
    latest: dict[int, Update] = {}
    for row in rows:
        latest.setdefault(row.member_id, row)
    return sorted(latest.values(), key=lambda u: (u.submitted_at, u.id))


def latest_update(session: Session, meeting_id: int, member_id: int) -> Update | None:
    return session.exec(select(Update).where(Update.meeting_id == meeting_id, Update.member_id == member_id)
                        .order_by(col(Update.version).desc())).first()

