"""What a due ledger row means now: send it (to whom, with which facts), fan it out, skip it, or record
it as missed. The domain is read again at the moment of sending, so a reminder for a meeting that has
moved, an action that is done, or a member who is away or removed is not sent.

No Slack here: handlers/reminders.py turns a `Send` into a message and delivers it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlmodel import Session, col, select

from models import getting_started, left_open, meetings, planning, reminders
from models.ledger import ANYTIME, FAN_OUT, UNTIL_DECIDED, Claimed, Kind, Planned
from models.stalling import stalling
from models.tables import (
    Action,
    ActionStatus,
    Attendance,
    AttendanceStatus,
    Case,
    CaseStatus,
    Meeting,
    MeetingStatus,
    Member,
    MemberStatus,
    ScheduledMessage,
    Update,
)

MAX_REPORT_ATTEMPTS = 12  # a report of missed messages is not itself reported missed; it gives up instead


@dataclass
class Skip:
    reason: str


@dataclass
class Missed:
    reason: str


@dataclass
class Expand:
    children: list[Planned]


@dataclass
class Send:
    """Deliver to a member (DM, or their thread in the case channel), the case channel, or a Slack user
    who is not a member (a manager). `facts` is what the message is built from."""

    case: Case | None  # None only for the monthly oversight report
    facts: object
    member: Member | None = None
    user: tuple[str, str] | None = None

    @property
    def to_channel(self) -> bool:
        return self.member is None and self.user is None


@dataclass
class MeetingReminder:
    kind: str
    meeting: Meeting
    member: Member


@dataclass
class Timekeeping:
    meeting: Meeting
    minutes: int


@dataclass
class LeftOpen:
    """A meeting nobody ended. `to_lead`: told to the lead social worker; `closed`: it has just been closed
    as ended without a record, and the group is told."""

    meeting: Meeting
    chair: Member | None
    to_lead: bool = False
    closed: bool = False


@dataclass
class ChairApologies:
    """To the lead social worker: the chair of a meeting that has not started sent apologies. `to_the_chair`: the
    lead social worker was the chair themselves."""

    meeting: Meeting
    chair: Member
    to_the_chair: bool


@dataclass
class GettingStarted:
    missing: list  # models.getting_started.Item, still not done


@dataclass
class Overdue:
    action: Action
    owner: Member
    days_late: int
    to_lead: bool


@dataclass
class DriftItem:
    action: Action
    owner: Member
    days_late: int
    away_until: date | None


@dataclass
class Drift:
    items: list[DriftItem]
    # Approved family versions not recorded as given to the family after 5 working days (models.family_versions).
    family_not_given: list = field(default_factory=list)


@dataclass
class Lapse:
    deadline: date
    held: Meeting | None
    booked: Meeting | None
    frequency_weeks: int
    managers: int = 0
    unrecorded: Meeting | None = None  # a meeting running, or ended without a record, after the last one held


@dataclass
class ManagerLapse:
    lapse: Lapse
    members: list[Member]


@dataclass
class Review:
    review: date
    booked: Meeting | None
    days: int = 14


@dataclass
class Away:
    member: Member
    until: date
    actions: list[Action]


@dataclass
class MissedItem:
    kind: str
    due_at: datetime
    member: Member | None
    meeting: Meeting | None
    action: Action | None


@dataclass
class MissedReport:
    items: list[MissedItem]


Decision = Skip | Missed | Expand | Send


def too_late(row: Claimed, now: datetime) -> bool:
    policy = reminders.policy()
    if row.kind in UNTIL_DECIDED:
        return False
    if row.kind in ANYTIME:
        return now - row.due_at > policy.grace
    return planning.working_lateness(policy.calendar, row.due_at, now) > policy.grace


@dataclass
class MonthlyReport:
    """The oversight report for a month (first day of it), to the report channel."""

    month: date


def decide(session: Session, row: Claimed, now: datetime) -> Decision:
    if row.kind == Kind.OVERSIGHT_REPORT:  # about no one case; a month's report sent late is still wanted
        return Send(case=None, facts=MonthlyReport(month=date.fromisoformat(row.detail["month"] + "-01")))
    case = session.get(Case, row.case_id)
    if case is None or case.status != CaseStatus.OPEN:
        return Skip("case_closed")
    if row.kind == Kind.MISSED_REPORT:
        if row.attempts >= MAX_REPORT_ATTEMPTS:
            return Skip("undeliverable")
        return _missed_report(session, case, row)
    if too_late(row, now):
        return Missed("late")
    handler = _DECIDERS.get(row.kind)
    if handler is None:
        return Skip("unknown_kind")
    return handler(session, case, row, now)


# --- meetings -------------------------------------------------------------------------------------


def _meeting(session: Session, row: Claimed, *statuses: str) -> Meeting | None:
    """The row's meeting if it is still in one of `statuses` at the start the key was planned for."""
    meeting = session.get(Meeting, row.meeting_id)
    if meeting is None or meeting.status not in statuses:
        return None
    return meeting if f":{reminders.stamp(meeting.scheduled_start)}" in row.key else None


def _today(now: datetime) -> date:
    return planning.local_day(reminders.policy().calendar, now)


def reachable(member: Member | None, today: date) -> bool:
    """Active, on Slack and not away: someone we may nudge today."""
    return (member is not None and member.status == MemberStatus.ACTIVE and bool(member.slack_user_id)
            and not (member.away_until and member.away_until >= today))


def _replies(session: Session, meeting_id: int) -> tuple[set[int], set[int]]:
    """Who sent apologies, and who sent an update, for the meeting."""
    apologies = set(session.exec(select(Attendance.member_id).where(
        Attendance.meeting_id == meeting_id, Attendance.status == AttendanceStatus.APOLOGIES)))
    updated = set(session.exec(select(Update.member_id).where(Update.meeting_id == meeting_id)))
    return apologies, updated


def _wants(kind: str, member_id: int, apologies: set[int], updated: set[int]) -> bool:
    if kind in (Kind.APOLOGIES, Kind.APOLOGIES_MEMBER):
        return member_id in apologies and member_id not in updated
    if kind in (Kind.REMIND_MORNING, Kind.REMIND_MORNING_MEMBER):
        return member_id not in apologies
    return not (member_id in apologies and member_id in updated)  # nothing more is asked of them


def _meeting_reminder(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    meeting = _meeting(session, row, MeetingStatus.SCHEDULED)
    if meeting is None:
        return Skip("meeting_changed")
    if now >= meeting.scheduled_start:
        return Missed("meeting_started")
    apologies, updated = _replies(session, meeting.id)
    today = _today(now)
    if row.kind in FAN_OUT:
        people = session.exec(select(Member).where(Member.case_id == case.id).order_by(col(Member.id)))
        children = [Planned(key=f"{row.key}:m{m.id}", kind=FAN_OUT[row.kind], case_id=case.id,
                            meeting_id=meeting.id, member_id=m.id, due_at=row.due_at)
                    for m in people if reachable(m, today) and _wants(row.kind, m.id, apologies, updated)]
        return Expand(children) if children else Skip("nobody")
    member = session.get(Member, row.member_id)
    if not reachable(member, today):
        return Skip("member_away_or_gone")
    if not _wants(row.kind, member.id, apologies, updated):
        return Skip("already_replied")
    return Send(case=case, member=member, facts=MeetingReminder(kind=row.kind, meeting=meeting, member=member))


def chair_of(session: Session, meeting: Meeting, today: date) -> Member | None:
    """The chair if they are on Slack and not away, else the lead social worker (who stands in), if they
    are; None when neither can be told."""
    chair_id = meetings.chair_id_of(meeting)
    chair = session.get(Member, chair_id) if chair_id else None
    if meeting.chaired_by_member_id is None and chair is not None and session.exec(select(Attendance.id).where(
            Attendance.meeting_id == meeting.id, Attendance.member_id == chair.id,
            Attendance.status == AttendanceStatus.APOLOGIES)).first() is not None:
        chair = None  # not started, and the chair sent apologies: the lead social worker stands in
    if reachable(chair, today):
        return chair
    lead = lead_of(session, meeting.case_id)
    return lead if reachable(lead, today) else None


def lead_of(session: Session, case_id: int) -> Member | None:
    return session.exec(select(Member).where(
        Member.case_id == case_id, Member.is_lead, Member.status == MemberStatus.ACTIVE,
        col(Member.slack_user_id).is_not(None)).order_by(col(Member.id))).first()


def _timekeeping(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    meeting = _meeting(session, row, MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS)
    if meeting is None:
        return Skip("meeting_changed")
    end = planning.planned_end(meeting.scheduled_start, meeting.duration_minutes)
    if now >= end:
        return Missed("meeting_over")
    chair = chair_of(session, meeting, _today(now))
    if chair is None:
        return Skip("no_chair")
    minutes = max(1, round((end - now).total_seconds() / 60))
    return Send(case=case, member=chair, facts=Timekeeping(meeting=meeting, minutes=minutes))


def _left_open(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    """Still open after its planned end: the chair, then the lead social worker; then closed without a record
    (the close is one conditional update; a retry after a failed post finds it closed already and posts)."""
    if row.kind == Kind.OPEN_CLOSE:
        found = _meeting(session, row, MeetingStatus.IN_PROGRESS, MeetingStatus.ENDED_WITHOUT_RECORD)
        if found is None:
            return Skip("meeting_ended")
        with session.begin_nested():  # the close and its audit together, or neither
            left_open.close(session, meeting_id=found.id, now=now)
        chair_id = meetings.chair_id_of(found)
        chair = session.get(Member, chair_id) if chair_id else None
        return Send(case=case, facts=LeftOpen(meeting=found, chair=chair, closed=True))
    meeting = _meeting(session, row, MeetingStatus.IN_PROGRESS)
    if meeting is None:
        return Skip("meeting_ended")
    today = _today(now)
    chair_id = meetings.chair_id_of(meeting)
    chair = session.get(Member, chair_id) if chair_id else None
    if row.kind == Kind.OPEN_CHAIR:
        told = chair_of(session, meeting, today)
        return Send(case=case, member=told, facts=LeftOpen(meeting=meeting, chair=chair, to_lead=told is not chair)) \
            if told is not None else Skip("no_chair")
    lead = lead_of(session, case.id)
    if not reachable(lead, today):
        return Skip("no_lead")
    return Send(case=case, member=lead, facts=LeftOpen(meeting=meeting, chair=chair, to_lead=True))


def _chair_apologies(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    """Still the chair, still away, and the meeting not started: the lead social worker is told (the lead on Slack
    now, whoever that is; away or not, as they are the one to find another chair)."""
    meeting = session.get(Meeting, row.meeting_id)
    if meeting is None or meeting.status != MeetingStatus.SCHEDULED or now >= meeting.scheduled_start:
        return Skip("meeting_changed")
    if meeting.chair_member_id != row.member_id:
        return Skip("chair_changed")
    if meetings.attendance(session, meeting.id).get(row.member_id) != AttendanceStatus.APOLOGIES:
        return Skip("coming_after_all")
    lead = lead_of(session, case.id)
    if lead is None:
        return Skip("no_lead")
    chair = session.get(Member, row.member_id)
    return Send(case=case, member=lead, facts=ChairApologies(meeting=meeting, chair=chair,
                                                             to_the_chair=lead.id == chair.id))


# --- actions --------------------------------------------------------------------------------------


def _overdue(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    action = session.get(Action, row.action_id)
    if action is None or action.status != ActionStatus.OPEN:
        return Skip("action_closed")
    today = _today(now)
    if f":overdue:{action.due_date.isoformat()}:" not in row.key or action.due_date >= today:
        return Skip("action_redated")
    owner = session.get(Member, action.owner_member_id)
    days = reminders.policy().calendar.working_days_between(action.due_date, today)
    if owner is not None and owner.status == MemberStatus.ACTIVE and owner.slack_user_id:
        if not reachable(owner, today):
            return Skip("owner_away")
        return Send(case=case, member=owner, facts=Overdue(action=action, owner=owner, days_late=days, to_lead=False))
    lead = lead_of(session, case.id)
    if not reachable(lead, today):
        return Skip("no_one_to_tell")
    return Send(case=case, member=lead, facts=Overdue(action=action, owner=owner, days_late=days, to_lead=True))


def overdue_items(session: Session, case_id: int, today: date) -> list[DriftItem]:
    actions = session.exec(select(Action).where(
        Action.case_id == case_id, Action.status == ActionStatus.OPEN, Action.due_date < today)
        .order_by(col(Action.due_date), col(Action.id))).all()
    cal = reminders.policy().calendar
    items = []
    for action in actions:
        owner = session.get(Member, action.owner_member_id)
        away = owner.away_until if owner and owner.away_until and owner.away_until >= today else None
        items.append(DriftItem(action=action, owner=owner, away_until=away,
                               days_late=cal.working_days_between(action.due_date, today)))
    return items


def _drift(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    from models import family_versions

    items = overdue_items(session, case.id, _today(now))
    not_given = family_versions.not_given(session, reminders.policy().calendar, today=_today(now),
                                          case_ids=[case.id])
    if not items and not not_given:
        return Skip("nothing_overdue")
    return Send(case=case, facts=Drift(items=items, family_not_given=not_given))


# --- the case -------------------------------------------------------------------------------------


def _lapse_facts(session: Session, case: Case, row: Claimed, now: datetime) -> Lapse | Skip:
    deadline, held = reminders.meeting_deadline(session, case)
    if deadline.isoformat() > row.detail.get("checked", ""):
        return Skip("met_since")
    # Nothing else holds the escalation back: a meeting counts as held only once its record is posted, so one
    # running now, or left without a record, is named in the message instead of silencing it.
    booked = session.exec(select(Meeting).where(
        Meeting.case_id == case.id, Meeting.status == MeetingStatus.SCHEDULED, Meeting.scheduled_start > now)
        .order_by(col(Meeting.scheduled_start))).first()
    unrecorded = session.exec(select(Meeting).where(
        Meeting.case_id == case.id, col(Meeting.status).in_(left_open.RECORDABLE))
        .order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())).first()
    if unrecorded is not None and held is not None and unrecorded.scheduled_start < held.scheduled_start:
        unrecorded = None
    return Lapse(deadline=deadline, held=held, booked=booked, frequency_weeks=case.frequency_weeks,
                 unrecorded=unrecorded)


def managers(session: Session, case_id: int) -> dict[tuple[str, str], list[Member]]:
    """Each manager named for an active member, with the members they manage here."""
    found: dict[tuple[str, str], list[Member]] = defaultdict(list)
    for member in session.exec(select(Member).where(
            Member.case_id == case_id, Member.status == MemberStatus.ACTIVE,
            col(Member.manager_user_id).is_not(None)).order_by(col(Member.id))):
        found[(member.manager_team_id or "", member.manager_user_id)].append(member)
    return found


def _lapse(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    facts = _lapse_facts(session, case, row, now)
    if isinstance(facts, Skip):
        return facts
    if row.kind == Kind.LAPSE:
        children = [Planned(key=f"{row.key}:channel", kind=Kind.LAPSE_CHANNEL, case_id=case.id,
                            due_at=row.due_at, detail=row.detail)]
        for (team, user), people in managers(session, case.id).items():
            children.append(Planned(key=f"{row.key}:manager:{team}:{user}", kind=Kind.LAPSE_MANAGER,
                                    case_id=case.id, due_at=row.due_at,
                                    detail=dict(row.detail, team=team, user=user, members=[m.id for m in people])))
        return Expand(children)
    facts.managers = len(managers(session, case.id))
    if row.kind == Kind.LAPSE_CHANNEL:
        return Send(case=case, facts=facts)
    people = [m for m in (session.get(Member, i) for i in row.detail.get("members", [])) if m is not None]
    return Send(case=case, user=(row.detail["team"], row.detail["user"]), facts=ManagerLapse(facts, people))


def _setup(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    missing = getting_started.checklist(session, case.id).missing
    if not missing:
        return Skip("all_set")
    lead = lead_of(session, case.id)
    if not reachable(lead, _today(now)):
        return Skip("no_lead")
    return Send(case=case, member=lead, facts=GettingStarted(missing=missing))


def _review(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    review = case.review_conference_date
    if review is None or not row.key.endswith(f":review:{review.isoformat()}"):
        return Skip("review_changed")
    if review <= _today(now):
        return Missed("review_passed")
    booked = session.exec(select(Meeting).where(
        Meeting.case_id == case.id, Meeting.status == MeetingStatus.SCHEDULED, Meeting.scheduled_start > now)
        .order_by(col(Meeting.scheduled_start))).first()
    return Send(case=case, facts=Review(review=review, booked=booked, days=(review - _today(now)).days))


def _stalling(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    found = stalling(session, case.id)
    return Send(case=case, facts=found) if found.carried or found.falling else Skip("not_stalling")


def _away(session: Session, case: Case, row: Claimed, now: datetime) -> Decision:
    member = session.get(Member, row.member_id)
    today = _today(now)
    if member is None or member.status != MemberStatus.ACTIVE or not member.away_until \
            or not row.key.endswith(f":away:{member.away_until.isoformat()}") or member.away_until < today:
        return Skip("not_away")
    actions = session.exec(select(Action).where(
        Action.owner_member_id == member.id, Action.status == ActionStatus.OPEN)
        .order_by(col(Action.due_date))).all()
    if not actions:
        return Skip("no_actions")
    return Send(case=case, facts=Away(member=member, until=member.away_until, actions=list(actions)))


def _missed_report(session: Session, case: Case, row: Claimed) -> Decision:
    items = []
    for row_id in row.detail.get("rows", []):
        missed = session.get(ScheduledMessage, row_id)
        if missed is None:
            continue
        items.append(MissedItem(
            kind=missed.kind, due_at=missed.due_at,
            member=session.get(Member, missed.member_id) if missed.member_id else None,
            meeting=session.get(Meeting, missed.meeting_id) if missed.meeting_id else None,
            action=session.get(Action, missed.action_id) if missed.action_id else None))
    return Send(case=case, facts=MissedReport(items=items)) if items else Skip("nothing_to_report")


_DECIDERS = {
    Kind.REMIND_2D: _meeting_reminder, Kind.REMIND_MORNING: _meeting_reminder, Kind.APOLOGIES: _meeting_reminder,
    Kind.REMIND_2D_MEMBER: _meeting_reminder, Kind.REMIND_MORNING_MEMBER: _meeting_reminder,
    Kind.APOLOGIES_MEMBER: _meeting_reminder, Kind.TIMEKEEPING: _timekeeping, Kind.OVERDUE: _overdue,
    Kind.OPEN_CHAIR: _left_open, Kind.OPEN_LEAD: _left_open, Kind.OPEN_CLOSE: _left_open,
    Kind.DRIFT: _drift, Kind.LAPSE: _lapse, Kind.LAPSE_CHANNEL: _lapse, Kind.LAPSE_MANAGER: _lapse,
    Kind.REVIEW: _review, Kind.STALLING: _stalling, Kind.AWAY: _away, Kind.SETUP: _setup,
    Kind.CHAIR_APOLOGIES: _chair_apologies,
}
