"""What the App Home shows one person: their actions, meetings, updates asked of them, and cases."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from models import meetings
from models.tables import (
    Action,
    ActionStatus,
    AttendanceStatus,
    Case,
    CaseStatus,
    Meeting,
    Member,
    MemberStatus,
    Update,
)

UPDATES_ASKED_WITHIN_DAYS = 14


@dataclass
class MeetingItem:
    case: Case
    member: Member
    meeting: Meeting
    reply: str | None  # attending, apologies, or None
    update_sent: bool


@dataclass
class HomeData:
    actions: list[tuple[Case, Action, Member]] = field(default_factory=list)  # (case, action, owner)
    meetings: list[MeetingItem] = field(default_factory=list)
    updates_asked: list[MeetingItem] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    # Family versions approved but not yet given to the family after 5 working days (cases where they lead).
    family_not_given: list = field(default_factory=list)


def for_person(session: Session, *, team_id: str, user_id: str, now: datetime) -> HomeData:
    """Everything the App Home shows this person, drawn from their active memberships of open cases."""
    memberships = list(session.exec(
        select(Member, Case)
        .join(Case, col(Case.id) == col(Member.case_id))
        .where(Member.slack_team_id == team_id, Member.slack_user_id == user_id,
               Member.status == MemberStatus.ACTIVE, Case.status == CaseStatus.OPEN)
        .order_by(Case.reference)
    ))
    data = HomeData(cases=[case for _member, case in memberships])
    if not memberships:
        return data
    by_member = {member.id: (member, case) for member, case in memberships}
    for action in session.exec(
        select(Action).where(col(Action.owner_member_id).in_(list(by_member)), Action.status == ActionStatus.OPEN)
        .order_by(Action.due_date, Action.id)
    ):
        member, case = by_member[action.owner_member_id]
        data.actions.append((case, action, member))
    soon = now + timedelta(days=UPDATES_ASKED_WITHIN_DAYS)
    for member, case in memberships:
        meeting = meetings.upcoming(session, case.id)
        if meeting is None:
            continue
        reply = meetings.attendance(session, meeting.id).get(member.id)
        sent = session.exec(select(Update.id).where(Update.meeting_id == meeting.id,
                                                    Update.member_id == member.id)).first() is not None
        item = MeetingItem(case=case, member=member, meeting=meeting, reply=reply, update_sent=sent)
        data.meetings.append(item)
        if (reply == AttendanceStatus.APOLOGIES and not sent and meeting.scheduled_start <= soon
                and meeting.status != "in_progress"):
            data.updates_asked.append(item)
    data.meetings.sort(key=lambda item: item.meeting.scheduled_start)
    leading = [case.id for member, case in memberships if member.is_lead]
    if leading:
        from models import family_versions, reminders

        data.family_not_given = family_versions.not_given(session, reminders.policy().calendar, today=now.date(),
                                                          case_ids=leading)[:10]
    return data


def overdue_count(data: HomeData, today: date) -> int:
    return sum(1 for _case, action, _owner in data.actions if action.due_date < today)
