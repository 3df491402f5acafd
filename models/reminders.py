"""Scheduled work that follows from changes to the domain.

The domain tables hold the truth; each change that affects what should be sent (a case opened, a
meeting scheduled, moved, started, ended or cancelled, an action created, re-dated, done or dropped,
someone sending apologies, a member removed or away) calls one of these hooks in the same
transaction, and they write or withdraw rows in the scheduled message ledger (models/ledger.py).
Keys carry what the message depends on ("meeting:12:remind2d:20261208T1000Z", "action:7:overdue:
2026-12-01:2"), so moving a meeting withdraws the old rows and plans new ones, and moving it back
revives them. The dispatcher (handlers/reminders.py, run by bot/scheduler.py) sends what falls due,
after checking the domain again.

Recurring work (overdue nudges backing off, the weekly drift summary, the lapse check) is planned one
step at a time: when a step is finished (`after_final`), the next is planned in the same transaction.

The working calendar (timezone, working hours) comes from the settings through `configure()`, which
the app calls at start; hooks have no settings of their own.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlmodel import Session, col, select

from models import ledger, planning
from models.ledger import Kind, Planned
from models.planning import Policy
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
    MessageStatus,
    Recap,
    RecapStatus,
    ScheduledMessage,
)

_policy = Policy()


def configure(policy: Policy) -> None:
    """Use this calendar and these numbers for planning (called once at start from the settings)."""
    global _policy
    _policy = policy


def policy() -> Policy:
    return _policy


def stamp(moment: datetime) -> str:
    """A meeting start as it appears in keys: UTC, to the minute."""
    return planning.utc(moment).strftime("%Y%m%dT%H%MZ")


# --- hooks ----------------------------------------------------------------------------------------


def case_opened(session: Session, *, case: Case, now: datetime) -> None:
    """A new case: plan the lapse check, the review conference reminder and the weekly drift summary; and, two
    working days on, a reminder to the lead social worker of what is still missing to get started."""
    plan_case(session, case, now)
    cal = _policy.calendar
    due = planning.day_start(cal, cal.add_working_days(planning.local_day(cal, now), 2))
    ledger.plan(session, Planned(key=f"case:{case.id}:setup", kind=Kind.SETUP, case_id=case.id, due_at=due), now=now)


def meeting_changed(session: Session, *, meeting: Meeting, now: datetime) -> None:
    """A meeting scheduled, moved, cancelled, started or ended: re-plan its reminders."""
    plan_meeting(session, meeting, now)
    case = session.get(Case, meeting.case_id)
    if case is not None:
        plan_case(session, case, now)
        if meeting.status == MeetingStatus.ENDED:
            ledger.plan(session, Planned(key=f"case:{case.id}:stalling:{meeting.id}", kind=Kind.STALLING,
                                         case_id=case.id, meeting_id=meeting.id,
                                         due_at=planning.soonest(_policy.calendar, now)), now=now)


def action_changed(session: Session, *, action: Action, now: datetime) -> None:
    """An action created, given a new date, done or dropped: re-plan its overdue nudges."""
    wanted = []
    if action.status == ActionStatus.OPEN:
        stage = planning.next_nudge_stage(_policy.calendar, action.due_date, now)
        wanted.append(overdue_nudge(action, stage))
    ledger.reconcile(session, kinds=[Kind.OVERDUE], wanted=wanted, action_id=action.id, now=now)


def attendance_changed(session: Session, *, attendance: Attendance, now: datetime) -> None:
    """Someone said they are attending or sent apologies. Who gets the day-before follow-up is decided
    when it falls due, from the attendance and updates then; here the meeting's plan is made sure of."""
    meeting = session.get(Meeting, attendance.meeting_id)
    if meeting is not None:
        plan_meeting(session, meeting, now)
        # The chair's apologies: the lead social worker's alert, withdrawn if they say they can come after all
        # before it goes (and planned again if they then send apologies again).
        away = (attendance.status == AttendanceStatus.APOLOGIES and meeting.status == MeetingStatus.SCHEDULED
                and meeting.chair_member_id == attendance.member_id)
        ledger.reconcile(session, kinds=[Kind.CHAIR_APOLOGIES], now=now, meeting_id=meeting.id,
                         member_id=attendance.member_id,
                         wanted=[chair_apologies(meeting, attendance.member_id, now)] if away else [])


def chair_apologies_key(meeting_id: int, member_id: int) -> str:
    return f"meeting:{meeting_id}:chair_apologies:m{member_id}"


def chair_apologies(meeting: Meeting, member_id: int, now: datetime) -> Planned:
    """The chair of a meeting that has not started sent apologies: the lead social worker is told at once, once per
    meeting and chair. Planned in the apologies' own transaction, so a crash after saving them cannot lose it."""
    return Planned(key=chair_apologies_key(meeting.id, member_id), kind=Kind.CHAIR_APOLOGIES,
                   case_id=meeting.case_id, meeting_id=meeting.id, member_id=member_id, due_at=now)


def member_changed(session: Session, *, member: Member, now: datetime) -> None:
    """A member removed, or away until a date: their nudges wait or stop."""
    if member.status == MemberStatus.REMOVED:
        ledger.cancel_pending(session, member_id=member.id)
        return
    wanted = []
    today = planning.local_day(_policy.calendar, now)
    if member.status == MemberStatus.ACTIVE and member.away_until and member.away_until >= today:
        wanted.append(Planned(key=f"member:{member.id}:away:{member.away_until.isoformat()}", kind=Kind.AWAY,
                              case_id=member.case_id, member_id=member.id,
                              due_at=planning.soonest(_policy.calendar, now)))
    ledger.reconcile(session, kinds=[Kind.AWAY], wanted=wanted, member_id=member.id, now=now)


def case_closed(session: Session, *, case: Case, now: datetime) -> None:
    """A case closed: nothing more is sent about it, so its pending messages are withdrawn."""
    ledger.cancel_pending(session, case_id=case.id)


# --- what each part of the domain wants ------------------------------------------------------------


def plan_meeting(session: Session, meeting: Meeting, now: datetime) -> None:
    """The meeting's reminders: all of them while it is scheduled, the chair's prompt while it runs."""
    cal = _policy.calendar
    start = meeting.scheduled_start
    base = f"meeting:{meeting.id}"
    wanted: list[Planned] = []

    def want(kind: str, name: str, due: datetime | None) -> None:
        if due is not None and due > now:
            wanted.append(Planned(key=f"{base}:{name}:{stamp(start)}", kind=kind, case_id=meeting.case_id,
                                  meeting_id=meeting.id, due_at=due))

    if meeting.status == MeetingStatus.SCHEDULED:
        want(Kind.REMIND_2D, "remind2d", planning.two_days_before(cal, start))
        want(Kind.APOLOGIES, "apologies", planning.day_before(cal, start))
        want(Kind.REMIND_MORNING, "morning", planning.morning_of(cal, start))
    if meeting.status in (MeetingStatus.SCHEDULED, MeetingStatus.IN_PROGRESS):
        want(Kind.TIMEKEEPING, "timekeeping",
             planning.timekeeping(start, meeting.duration_minutes, _policy.timekeeping_minutes))
    if meeting.status == MeetingStatus.IN_PROGRESS:
        # Nobody may end it: the chair, then the lead social worker, are asked; then it is closed. (A meeting
        # started long after its planned time is still closed, on the next working morning at the soonest.)
        chair_at, lead_at, close_at = planning.left_open(cal, start, meeting.duration_minutes)
        want(Kind.OPEN_CHAIR, "open.chair", chair_at)
        want(Kind.OPEN_LEAD, "open.lead", lead_at)
        want(Kind.OPEN_CLOSE, "open.close", max(close_at, planning.next_working_morning(_policy.calendar, now)))
    ledger.reconcile(session, kinds=ledger.MEETING_KINDS, wanted=wanted, meeting_id=meeting.id, now=now)


def plan_case(session: Session, case: Case, now: datetime) -> None:
    """The case's own calendar: the lapse check, the review reminder, and a drift summary to come."""
    if case.status != CaseStatus.OPEN:
        return
    cal = _policy.calendar
    ledger.reconcile(session, kinds=[Kind.LAPSE], wanted=[next_lapse_check(session, case, now)],
                     case_id=case.id, now=now)
    review = []
    if case.review_conference_date and case.review_conference_date > planning.local_day(cal, now):
        due = planning.review_reminder(cal, case.review_conference_date)
        review.append(Planned(key=f"case:{case.id}:review:{case.review_conference_date.isoformat()}",
                              kind=Kind.REVIEW, case_id=case.id, due_at=max(due, planning.soonest(cal, now))))
    ledger.reconcile(session, kinds=[Kind.REVIEW], wanted=review, case_id=case.id, now=now)
    drift_pending = session.exec(select(ScheduledMessage.id).where(
        ScheduledMessage.case_id == case.id, ScheduledMessage.kind == Kind.DRIFT,
        ScheduledMessage.status == MessageStatus.PENDING)).first()
    if drift_pending is None:
        label, due = planning.next_weekly(cal, now)
        ledger.plan(session, Planned(key=f"case:{case.id}:drift:{label}", kind=Kind.DRIFT, case_id=case.id,
                                     due_at=due), now=now)


def overdue_nudge(action: Action, stage: int) -> Planned:
    cal = _policy.calendar
    return Planned(key=f"action:{action.id}:overdue:{action.due_date.isoformat()}:{stage}", kind=Kind.OVERDUE,
                   case_id=action.case_id, action_id=action.id,
                   due_at=planning.nudge_due(cal, action.due_date, stage), detail={"stage": stage})


# --- the lapse check ------------------------------------------------------------------------------


def last_held(session: Session, case_id: int) -> Meeting | None:
    """The most recent meeting that counts as held: one whose record is posted. A meeting running now, or
    left open, or closed without a record, does not count, so no state of a meeting can hold the lapse
    check back."""
    recorded = select(Recap.meeting_id).where(Recap.status == RecapStatus.POSTED)
    return session.exec(
        select(Meeting).where(Meeting.case_id == case_id, Meeting.status == MeetingStatus.ENDED,
                              col(Meeting.id).in_(recorded))
        .order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())).first()


def record_posted(session: Session, *, meeting: Meeting, now: datetime) -> None:
    """A meeting's record is in the channel: the meeting now counts as held, so the lapse check moves on."""
    case = session.get(Case, meeting.case_id)
    if case is not None:
        plan_case(session, case, now)


def meeting_deadline(session: Session, case: Case) -> tuple[date, Meeting | None]:
    """By when the next meeting must have been held: 10 working days after the initial conference for
    the first, then `frequency_weeks` after the last one held."""
    cal = _policy.calendar
    held = last_held(session, case.id)
    if held is None:
        return cal.first_meeting_deadline(case.initial_conference_date), None
    return planning.local_day(cal, held.scheduled_start) + timedelta(weeks=case.frequency_weeks), held


def lapse_key(case_id: int, checked: date) -> str:
    return f"case:{case_id}:lapse:{checked.isoformat()}"


def next_lapse_check(session: Session, case: Case, now: datetime) -> Planned:
    """The next lapse check: on the first working morning after the deadline, then again every interval
    while nothing is held. A deadline already past when it is planned gets a working day's notice."""
    cal = _policy.calendar
    deadline, _ = meeting_deadline(session, case)
    checked = deadline
    for _ in range(100):
        if ledger.status_of(session, lapse_key(case.id, checked)) not in ledger.FINAL:
            break
        checked += timedelta(weeks=case.frequency_weeks)
    due = planning.lapse_check(cal, checked)
    if due <= now and ledger.status_of(session, lapse_key(case.id, checked)) is None:
        due = planning.next_working_morning(cal, now)
    return Planned(key=lapse_key(case.id, checked), kind=Kind.LAPSE, case_id=case.id, due_at=due,
                   detail={"deadline": deadline.isoformat(), "checked": checked.isoformat()})


# --- recurring work: plan the next step when one is finished -----------------------------------------


def after_final(session: Session, row: ledger.Claimed, now: datetime) -> None:
    """A row was sent, skipped or missed: plan what comes after it, in the same transaction."""
    if row.case_id is None:  # the monthly oversight report: next month's is planned when next month comes
        return
    case = session.get(Case, row.case_id)
    if case is None or case.status != CaseStatus.OPEN:
        return
    if row.kind == Kind.OVERDUE:
        action = session.get(Action, row.action_id)
        if action is not None and action.status == ActionStatus.OPEN \
                and row.key.startswith(f"action:{action.id}:overdue:{action.due_date.isoformat()}:"):
            stage = planning.next_nudge_stage(_policy.calendar, action.due_date, now, after=row.detail["stage"])
            ledger.plan(session, overdue_nudge(action, stage), now=now)
    elif row.kind == Kind.DRIFT:
        label, due = planning.next_weekly(_policy.calendar, now)
        ledger.plan(session, Planned(key=f"case:{case.id}:drift:{label}", kind=Kind.DRIFT, case_id=case.id,
                                     due_at=due), now=now)
    elif row.kind == Kind.LAPSE:
        ledger.plan(session, next_lapse_check(session, case, now), now=now)
