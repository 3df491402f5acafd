"""SQLModel tables for the whole CoreGroup domain (PRODUCT.md, "Domain").

Children are recorded by label ("Child A (7)"), never by name. A Slack person is identified by
team id and user id together: members from other organisations (Slack Connect) share user-id
space with nobody, so a user id alone is never a key.

Enumerated values are stored as short strings; the allowed values live in the `*Kind`/`*Status`
classes below so that migrations do not depend on database enum types.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from models.types import UTCDateTime, utcnow


def _when(**kwargs) -> object:
    return Field(sa_type=UTCDateTime, **kwargs)


def _text(**kwargs) -> object:
    return Field(sa_type=Text, **kwargs)


class CaseStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class CloseOutcome(StrEnum):
    PLAN_ENDED = "plan_ended"
    STEPPED_UP = "stepped_up"
    TRANSFERRED = "transferred"


class MemberStatus(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"  # invited by email through Slack Connect, not yet joined
    REMOVED = "removed"


class PlanItemKind(StrEnum):
    DANGER = "danger"
    GOAL = "goal"
    BOTTOM_LINE = "bottom_line"


class ActionStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    DROPPED = "dropped"


class ActionEventKind(StrEnum):
    CREATED = "created"
    PROGRESS = "progress"
    DUE_CHANGED = "due_changed"
    DONE = "done"
    DROPPED = "dropped"
    REOPENED = "reopened"
    CARRIED_FORWARD = "carried_forward"


class MeetingStatus(StrEnum):
    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    ENDED = "ended"
    CANCELLED = "cancelled"
    ENDED_WITHOUT_RECORD = "ended_without_record"  # left open for 2 working days; a record can still be written


class AttendanceStatus(StrEnum):
    ATTENDING = "attending"  # said beforehand that they will come
    APOLOGIES = "apologies"
    PRESENT = "present"
    ABSENT = "absent"


class RiskDirection(StrEnum):
    REDUCING = "reducing"
    NO_CHANGE = "no_change"
    INCREASING = "increasing"


class Recommendation(StrEnum):
    CONTINUE = "continue"
    END = "end"
    STEP_UP = "step_up"


class RecapStatus(StrEnum):
    DRAFT = "draft"
    POSTING = "posting"
    POSTED = "posted"


class MessageStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    MISSED = "missed"
    CANCELLED = "cancelled"
    SKIPPED = "skipped"


# --- cases and people -------------------------------------------------------------------------


class Case(SQLModel, table=True):
    __tablename__ = "cases"

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=40, unique=True)
    team_id: str = Field(max_length=32, description="the council's Slack workspace")
    channel_id: str | None = Field(default=None, max_length=32, unique=True)
    channel_name: str | None = Field(default=None, max_length=80)
    status: str = Field(default=CaseStatus.OPEN, max_length=16)
    initial_conference_date: date
    review_conference_date: date | None = None
    frequency_weeks: int = 6
    welcome_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(default_factory=utcnow)
    created_by_team_id: str = Field(max_length=32)
    created_by_user_id: str = Field(max_length=32)
    closed_at: datetime | None = _when(default=None)
    closed_on: date | None = None
    close_outcome: str | None = Field(default=None, max_length=16)
    close_reason: str | None = _text(default=None)
    checklist_ts: str | None = Field(default=None, max_length=32)  # the pinned "getting started" checklist


class Child(SQLModel, table=True):
    __tablename__ = "children"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    label: str = Field(max_length=60)
    age: int | None = None
    position: int = 0


class Member(SQLModel, table=True):
    """A person in the core group, with or without a Slack account."""

    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("case_id", "slack_team_id", "slack_user_id", name="uq_member_slack_person"),
        Index("ix_member_slack_person", "slack_team_id", "slack_user_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    name: str = Field(max_length=120)
    role: str = Field(max_length=60)
    agency: str | None = Field(default=None, max_length=120)
    relationship: str | None = Field(default=None, max_length=120)
    slack_team_id: str | None = Field(default=None, max_length=32)
    slack_user_id: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    invite_id: str | None = Field(default=None, max_length=64)
    status: str = Field(default=MemberStatus.ACTIVE, max_length=16)
    is_lead: bool = False
    manager_team_id: str | None = Field(default=None, max_length=32)
    manager_user_id: str | None = Field(default=None, max_length=32)
    away_until: date | None = None
    added_at: datetime = _when(default_factory=utcnow)
    removed_at: datetime | None = _when(default=None)


# --- the plan ----------------------------------------------------------------------------------


class PlanItem(SQLModel, table=True):
    """A danger statement, safety goal or bottom line (Signs of Safety)."""

    __tablename__ = "plan_items"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    kind: str = Field(max_length=16)
    text: str = _text()
    position: int = 0
    created_at: datetime = _when(default_factory=utcnow)
    updated_at: datetime = _when(default_factory=utcnow)
    removed_at: datetime | None = _when(default=None)


class Action(SQLModel, table=True):
    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_status_due", "status", "due_date"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    what: str = _text()
    owner_member_id: int = Field(foreign_key="members.id", index=True)
    due_date: date
    measure: str = _text(default="")
    safety_goal_id: int | None = Field(default=None, foreign_key="plan_items.id")
    status: str = Field(default=ActionStatus.OPEN, max_length=16)
    meeting_id: int | None = Field(default=None, foreign_key="meetings.id")
    carried_forward: int = 0
    created_at: datetime = _when(default_factory=utcnow)
    created_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    completed_at: datetime | None = _when(default=None)
    source_key: str | None = Field(default=None, max_length=120, unique=True)


class ActionEvent(SQLModel, table=True):
    """The history of an action: progress notes, due-date changes with reasons, completion."""

    __tablename__ = "action_events"

    id: int | None = Field(default=None, primary_key=True)
    action_id: int = Field(foreign_key="actions.id", index=True)
    kind: str = Field(max_length=20)
    note: str | None = _text(default=None)
    old_due: date | None = None
    new_due: date | None = None
    at: datetime = _when(default_factory=utcnow)
    by_member_id: int | None = Field(default=None, foreign_key="members.id")


# --- meetings ----------------------------------------------------------------------------------


class Meeting(SQLModel, table=True):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_status_start", "status", "scheduled_start"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    number: int = 1
    scheduled_start: datetime = _when()
    duration_minutes: int = 90
    location: str = _text(default="")
    chair_member_id: int | None = Field(default=None, foreign_key="members.id")
    status: str = Field(default=MeetingStatus.SCHEDULED, max_length=24)
    started_at: datetime | None = _when(default=None)
    ended_at: datetime | None = _when(default=None)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    created_at: datetime = _when(default_factory=utcnow)
    source_key: str | None = Field(default=None, max_length=120, unique=True)
    # who actually chaired: recorded when the meeting starts (the chair, or whoever stood in for them)
    chaired_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    # the chair's panel in the meeting's thread (handlers/chair.py), updated when the meeting ends
    chair_panel_ts: str | None = Field(default=None, max_length=32)


class MeetingChange(SQLModel, table=True):
    """A meeting moved or cancelled, with the reason given."""

    __tablename__ = "meeting_changes"

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    kind: str = Field(max_length=16)
    old_start: datetime | None = _when(default=None)
    new_start: datetime | None = _when(default=None)
    reason: str = _text()
    at: datetime = _when(default_factory=utcnow)
    by_member_id: int | None = Field(default=None, foreign_key="members.id")


class Attendance(SQLModel, table=True):
    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", name="uq_attendance"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    status: str = Field(max_length=16)
    responded_at: datetime = _when(default_factory=utcnow)


class Update(SQLModel, table=True):
    """A member's written contribution for a meeting; each edit is a new version."""

    __tablename__ = "updates"
    __table_args__ = (UniqueConstraint("meeting_id", "member_id", "version", name="uq_update_version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    version: int = 1
    attending: bool = False
    contacts: str = _text(default="")
    child_seen: str = Field(default="", max_length=16)
    seen_alone: str = Field(default="", max_length=16)
    working_well: str = _text(default="")
    worries: str = _text(default="")
    needs_to_happen: str = _text(default="")
    child_views: str = _text(default="")
    submitted_at: datetime = _when(default_factory=utcnow)
    message_ts: str | None = Field(default=None, max_length=32)
    # Set when the lead social worker or the chair recorded the family's views on their behalf (issue 12).
    recorded_by_member_id: int | None = Field(default=None, foreign_key="members.id")


class UpdateActionProgress(SQLModel, table=True):
    __tablename__ = "update_action_progress"

    id: int | None = Field(default=None, primary_key=True)
    update_id: int = Field(foreign_key="updates.id", index=True)
    action_id: int = Field(foreign_key="actions.id")
    status: str = Field(max_length=16)  # done, on_track, delayed
    note: str = _text(default="")


# --- scaling -----------------------------------------------------------------------------------


class ScalingQuestion(SQLModel, table=True):
    __tablename__ = "scaling_questions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    question: str = _text()
    zero_means: str = _text()
    ten_means: str = _text()
    child_id: int | None = Field(default=None, foreign_key="children.id")
    plan_item_id: int | None = Field(default=None, foreign_key="plan_items.id")
    standing: bool = True
    goal: int | None = None
    created_at: datetime = _when(default_factory=utcnow)
    created_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    retired_at: datetime | None = _when(default=None)


class ScalingRound(SQLModel, table=True):
    """One scaling question asked at one meeting."""

    __tablename__ = "scaling_rounds"
    __table_args__ = (UniqueConstraint("question_id", "meeting_id", name="uq_round"),)

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="scaling_questions.id", index=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    opened_at: datetime = _when(default_factory=utcnow)
    revealed_at: datetime | None = _when(default=None)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)


class Score(SQLModel, table=True):
    __tablename__ = "scores"
    __table_args__ = (UniqueConstraint("round_id", "member_id", name="uq_score"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="scaling_rounds.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    score: int
    reason: str = _text()
    to_move_up: str = _text(default="")
    submitted_at: datetime = _when(default_factory=utcnow)
    # Set when someone recorded the score on behalf of a member without Slack (the family).
    recorded_by_member_id: int | None = Field(default=None, foreign_key="members.id")


# --- decisions and the record ------------------------------------------------------------------


class Decision(SQLModel, table=True):
    __tablename__ = "decisions"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meetings.id", index=True)
    text: str = _text()
    recorded_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    recorded_at: datetime = _when(default_factory=utcnow)
    source_key: str | None = Field(default=None, max_length=120, unique=True)


class Recap(SQLModel, table=True):
    """One version of a meeting's record; never changed once posted (a correction is a new version)."""

    __tablename__ = "recaps"
    __table_args__ = (UniqueConstraint("meeting_id", "version", name="uq_recap_version"),)

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    version: int = 1
    content: str = _text()  # JSON: the record as the chair approved it
    risk_direction: str | None = Field(default=None, max_length=16)
    recommendation: str | None = Field(default=None, max_length=16)
    status: str = Field(default=RecapStatus.DRAFT, max_length=16)
    created_at: datetime = _when(default_factory=utcnow)
    created_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    approved_at: datetime | None = _when(default=None)
    posted_at: datetime | None = _when(default=None)
    channel_id: str | None = Field(default=None, max_length=32)
    message_ts: str | None = Field(default=None, max_length=32)
    correction_reason: str | None = _text(default=None)
    # Posting progress (not part of the record): messages of the recap already in Slack, and a lease so that
    # one process at a time posts it (a crash leaves the lease to run out; then it is posted from where it stopped).
    parts_posted: int = 0
    posting_until: datetime | None = _when(default=None)


class RecapRecipient(SQLModel, table=True):
    __tablename__ = "recap_recipients"
    __table_args__ = (UniqueConstraint("recap_id", "member_id", name="uq_recap_recipient"),)

    id: int | None = Field(default=None, primary_key=True)
    recap_id: int = Field(foreign_key="recaps.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    via: str = Field(max_length=16)  # channel, outside_slack


class RecapAcknowledgement(SQLModel, table=True):
    __tablename__ = "recap_acknowledgements"
    __table_args__ = (UniqueConstraint("recap_id", "member_id", name="uq_recap_ack"),)

    id: int | None = Field(default=None, primary_key=True)
    recap_id: int = Field(foreign_key="recaps.id", index=True)
    member_id: int = Field(foreign_key="members.id")
    at: datetime = _when(default_factory=utcnow)


# --- scheduled messages, idempotency and audit -------------------------------------------------


class ScheduledMessage(SQLModel, table=True):
    """The ledger: every scheduled message, keyed so it is sent exactly once."""

    __tablename__ = "scheduled_messages"
    __table_args__ = (
        Index("ix_scheduled_status_due", "status", "due_at"),
        Index("ix_scheduled_kind_sent", "kind", "sent_at"),  # oversight: lapse escalations sent in a period
        Index("ix_scheduled_meeting", "meeting_id"),
        Index("ix_scheduled_action", "action_id"),
        Index("ix_scheduled_member", "member_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=160, unique=True)
    kind: str = Field(max_length=40)
    # None only for messages about no one case (the monthly oversight report).
    case_id: int | None = Field(default=None, foreign_key="cases.id", index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meetings.id")
    action_id: int | None = Field(default=None, foreign_key="actions.id")
    member_id: int | None = Field(default=None, foreign_key="members.id")
    due_at: datetime = _when()
    status: str = Field(default=MessageStatus.PENDING, max_length=16)
    claimed_by: str | None = Field(default=None, max_length=80)
    claimed_until: datetime | None = _when(default=None)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=80)
    sent_at: datetime | None = _when(default=None)
    delivered_via: str | None = Field(default=None, max_length=16)  # dm, channel, thread
    slack_channel: str | None = Field(default=None, max_length=32)
    slack_ts: str | None = Field(default=None, max_length=32)
    detail: str | None = _text(default=None)  # JSON of ids only (a fan-out's recipients, a report's rows)
    created_at: datetime = _when(default_factory=utcnow)


class ProcessedRequest(SQLModel, table=True):
    """A Slack delivery already acted on (event id, view id, button click), kept unique."""

    __tablename__ = "processed_requests"

    key: str = Field(primary_key=True, max_length=200)
    at: datetime = _when(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only trail of every write to case data: who, what, when, which record (ids only)."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _when(default_factory=utcnow)
    case_id: int | None = Field(default=None, index=True)
    actor_team_id: str | None = Field(default=None, max_length=32)
    actor_user_id: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=60)
    record_type: str = Field(max_length=40)
    record_id: int | None = None
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


PROFESSIONAL_ROLES = (
    "Social worker",
    "Team manager",
    "Health visitor",
    "School nurse",
    "Midwife",
    "Teacher",
    "Designated safeguarding lead",
    "Early years worker",
    "GP",
    "Police officer",
    "Adult services worker",
    "Mental health worker",
    "Drug and alcohol worker",
    "Domestic abuse worker",
    "Housing officer",
    "Family support worker",
    "Youth worker",
    "Other professional",
)
FAMILY_ROLES = ("Parent", "Carer", "Family member", "Young person")


def is_professional(role: str) -> bool:
    return role not in FAMILY_ROLES


# --- the family's part (issue 12) ---------------------------------------------------------------


class FamilyVersionStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class FamilyVersion(SQLModel, table=True):
    """The family's version of a meeting's record, prepared and approved by the lead social worker or the chair.

    `content` is JSON of exactly what the family reads (the sections as approved). Approved versions never
    change; a new one is a new version number for the meeting.
    """

    __tablename__ = "family_versions"
    __table_args__ = (UniqueConstraint("meeting_id", "version", name="uq_family_version"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    recap_id: int | None = Field(default=None, foreign_key="recaps.id")
    version: int = 1
    status: str = Field(default=FamilyVersionStatus.DRAFT, max_length=16)
    content: str = _text()
    includes_child_words: bool = False
    prepared_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    approved_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    approved_at: datetime | None = _when(default=None)
    created_at: datetime = _when(default_factory=utcnow)


class FamilyHandover(SQLModel, table=True):
    """When, how and to whom an approved family version was given."""

    __tablename__ = "family_handovers"

    id: int | None = Field(default=None, primary_key=True)
    family_version_id: int = Field(foreign_key="family_versions.id", index=True)
    case_id: int = Field(foreign_key="cases.id", index=True)
    meeting_id: int = Field(foreign_key="meetings.id", index=True)
    given_on: date
    how: str = Field(max_length=40)
    interpreter: bool = False
    given_to: str = Field(max_length=120)
    recorded_by_member_id: int | None = Field(default=None, foreign_key="members.id")
    recorded_at: datetime = _when(default_factory=utcnow)


# --- oversight ------------------------------------------------------------------------------------


class StaffRole(SQLModel, table=True):
    """An oversight role granted on the command line to a Slack person (team id and user id together).

    `scope` says what it covers: "" (the whole workspace: service managers and analysts, who see figures
    only), "team:<name>" (a team manager's team) or "case:<id>" (a conference chair's case)."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("slack_team_id", "slack_user_id", "role", "scope", name="uq_staff_role"),
                      Index("ix_staff_person", "slack_team_id", "slack_user_id"))

    id: int | None = Field(default=None, primary_key=True)
    slack_team_id: str = Field(max_length=32)
    slack_user_id: str = Field(max_length=32)
    role: str = Field(max_length=32)
    scope: str = Field(default="", max_length=160)
    team_name: str | None = Field(default=None, max_length=120)
    case_id: int | None = Field(default=None, foreign_key="cases.id")
    granted_at: datetime = _when(default_factory=utcnow)
    granted_by: str = Field(max_length=64)


class WorkingDay(SQLModel, table=True):
    """England and Wales working days, numbered: `n` counts the working days from 1 January 2000 up to and
    including `day`, so the working days between two dates is a subtraction the database can do. Filled
    from models.calendar (the `holidays` package) when first needed (models/oversight.py)."""

    __tablename__ = "working_days"

    day: date = Field(primary_key=True)
    n: int
    working: bool


class OversightChart(SQLModel, table=True):
    """A chart of oversight figures already uploaded to Slack (privately, for App Home image blocks), by a digest
    of the figures drawn: the same figures are shown again without drawing or uploading them again."""

    __tablename__ = "oversight_charts"

    digest: str = Field(primary_key=True, max_length=64)
    file_id: str = Field(max_length=32)
    created_at: datetime = _when(default_factory=utcnow)


# Oversight: a team manager's cases are found by the manager named on members (models/staff.py).
Index("ix_member_manager", Member.manager_team_id, Member.manager_user_id)


class OversightFigures(SQLModel, table=True):
    """The App Home's oversight figures for one scope (a workspace, or one person's cases), kept for a few minutes
    so that opening the App Home again does not count them again (handlers/oversight.py)."""

    __tablename__ = "oversight_figures"

    scope_key: str = Field(primary_key=True, max_length=120)
    computed_at: datetime = _when()
    figures: str = _text()  # JSON: months and counts only, never a case reference or text
class FormReturn(SQLModel, table=True):
    """Where to redraw after a form opened from a list is saved: the list's own view, or the response URL of
    the message it is on. Written when the app opens the form (keyed by the id Slack gave the new view, for the
    person it was opened for) and read back by the id of the view Slack says was submitted, so nothing in a
    form's private metadata can point a redraw at someone else's view or at any other URL."""

    __tablename__ = "form_returns"

    view_id: str = Field(primary_key=True, max_length=64)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    list_view_id: str | None = Field(default=None, max_length=64)
    response_url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime = _when(default_factory=utcnow, index=True)


class SubmissionJournal(SQLModel, table=True):
    """A submitted form taken down as it came (its values and ids), committed before the person is answered, and
    saved from here (handlers/journal.py): what a person is told was saved survives any crash after the answer."""

    __tablename__ = "submission_journal"
    __table_args__ = (Index("ix_submission_journal_unprocessed", "processed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)  # "view:<view id>": Slack sending the same form twice is one entry
    kind: str = Field(max_length=40)  # what the form is ("update")
    payload: str = _text()  # JSON: the form's values and the ids checked before the answer
    created_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime, server_default=func.now()))
    processed_at: datetime | None = _when(default=None)
    outcome: str | None = Field(default=None, max_length=40)  # saved, refused (the person was told why), ...


class MeetingFact(SQLModel, table=True):
    """What the oversight measures need of one held core group (a posted record), worked out once and kept up to
    date in the same transaction as whatever changes it (models/meeting_facts.py), so that each measure is an
    indexed GROUP BY over narrow rows. Rebuildable from the tables it comes from: `coregroup oversight rebuild`.
    Day numbers are working-day numbers (`working_days.n`); 0/1 columns are flags."""

    __tablename__ = "meeting_facts"
    __table_args__ = (Index("ix_meeting_facts_day", "day", "case_id"), Index("ix_meeting_facts_team", "team_id", "day"),
                      Index("ix_meeting_facts_case", "case_id", "seq"))

    meeting_id: int = Field(primary_key=True)
    case_id: int
    team_id: str = Field(max_length=32)  # the case's Slack workspace
    day: date  # the day it was booked for
    month: str = Field(max_length=7)  # YYYY-MM of that day
    n: int  # that day's working-day number
    seq: int  # 1 for the case's first held core group, and so on
    due_n: int | None = None  # the agreed interval after the one before (None for the first)
    posted_n: int  # the working day the record was first posted
    given_n: int | None = None  # the working day the family version was first given, if it was
    child_said: int = 0
    child_why_not: int = 0
    parents_said: int = 0
    chair_org: str = Field(max_length=200)
    lead_org: str = Field(max_length=200)


class MeetingAttendanceFact(SQLModel, table=True):
    """Attendance at one held core group, counted by organisation (family members together as Family); kept with
    meeting_facts."""

    __tablename__ = "meeting_attendance_facts"
    __table_args__ = (Index("ix_meeting_attendance_facts_day", "day", "case_id"),
                      Index("ix_meeting_attendance_facts_team", "team_id", "day"),
                      Index("ix_meeting_attendance_facts_case", "case_id"))

    meeting_id: int = Field(primary_key=True)
    org: str = Field(primary_key=True, max_length=200)
    case_id: int
    team_id: str = Field(max_length=32)
    day: date
    month: str = Field(max_length=7)
    present: int = 0
    apologies_update: int = 0
    apologies_only: int = 0
    absent: int = 0


class AttendanceByDay(SQLModel, table=True):
    """meeting_attendance_facts summed by workspace, day and organisation (kept with them, by adding what changed),
    so that a whole workspace's or the whole country's attendance is a GROUP BY over a few thousand rows."""

    __tablename__ = "attendance_by_day"

    team_id: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    org: str = Field(primary_key=True, max_length=200)
    month: str = Field(max_length=7)
    present: int = 0
    apologies_update: int = 0
    apologies_only: int = 0
    absent: int = 0


class HeldByDay(SQLModel, table=True):
    """meeting_facts summed by workspace, day, the lead social worker's organisation, the chair's organisation
    and the working days a later core group was late (0 when on time or not a later one), kept with them by
    adding what changed, so that a whole workspace's or the whole country's held core groups are a GROUP BY over
    a few thousand rows. Each count is of held core groups; flags as in meeting_facts."""

    __tablename__ = "held_by_day"

    team_id: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    lead_org: str = Field(primary_key=True, max_length=200)
    chair_org: str = Field(primary_key=True, max_length=200)
    late_by: int = Field(primary_key=True)
    month: str = Field(max_length=7)
    meetings: int = 0
    later: int = 0  # after the first, with an agreed interval to be held within
    record_on_time: int = 0
    record_late: int = 0
    family_on_time: int = 0
    family_late: int = 0
    family_not_given: int = 0
    child_said: int = 0
    child_why_not: int = 0
    child_missing: int = 0
    parents_said: int = 0


class CaseFact(SQLModel, table=True):
    """What the oversight measures need of one case (its first core group against its initial conference, its
    last core group before its review conference), kept with meeting_facts."""

    __tablename__ = "case_facts"
    __table_args__ = (Index("ix_case_facts_initial", "initial_day"), Index("ix_case_facts_review", "review_day"),
                      Index("ix_case_facts_team_initial", "team_id", "initial_day"),
                      Index("ix_case_facts_team_review", "team_id", "review_day"))

    case_id: int = Field(primary_key=True)
    team_id: str = Field(max_length=32)
    lead_org: str = Field(max_length=200)
    initial_day: date
    initial_month: str = Field(max_length=7)
    first_due_n: int | None = None  # the working day the first core group is due by (None: outside the calendar)
    first_held_n: int | None = None  # the working day the first core group was held, if it was
    review_day: date | None = None
    review_month: str | None = Field(default=None, max_length=7)
    review_n: int | None = None
    last_before_review_n: int | None = None  # the last core group held before the review conference


class CasesByDay(SQLModel, table=True):
    """case_facts summed by workspace, day and the lead social worker's organisation: the first core groups by the
    day of their initial conference, and the reviews by the day of the review conference."""

    __tablename__ = "cases_by_day"

    team_id: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    lead_org: str = Field(primary_key=True, max_length=200)
    month: str = Field(max_length=7)
    first_cases: int = 0
    first_on_time: int = 0
    first_late: int = 0
    first_days_late: int = 0
    first_not_held: int = 0
    reviews: int = 0
    review_in_time: int = 0
    review_too_close: int = 0
    review_none: int = 0


class ActionFact(SQLModel, table=True):
    """What the oversight measures need of one action (not dropped, with an owner and a due date): its due day,
    its owner's organisation, whether it is open, and how often it was carried forward; kept with meeting_facts."""

    __tablename__ = "action_facts"
    __table_args__ = (Index("ix_action_facts_case", "case_id", "due_date"),)

    action_id: int = Field(primary_key=True)
    case_id: int
    team_id: str = Field(max_length=32)
    due_date: date
    month: str = Field(max_length=7)
    org: str = Field(max_length=200)
    open: int = 0
    carried: int = 0
    times_carried: int = 0


class ActionsByDay(SQLModel, table=True):
    """action_facts summed by workspace, due day and the owner's organisation."""

    __tablename__ = "actions_by_day"

    team_id: str = Field(primary_key=True, max_length=32)
    day: date = Field(primary_key=True)
    org: str = Field(primary_key=True, max_length=200)
    month: str = Field(max_length=7)
    actions: int = 0
    open: int = 0
    carried: int = 0
    times_carried: int = 0


class FactsBuilt(SQLModel, table=True):
    """How the oversight facts in the database were worked out (one row): the version of their rules and the
    timezone whose days they count in. When either differs from the running code's, they are worked out again
    at start (models/meeting_facts.py, ensure_current)."""

    __tablename__ = "facts_built"

    id: int = Field(default=1, primary_key=True)
    version: int
    timezone: str = Field(max_length=64)
    built_at: datetime = _when(default_factory=utcnow)


# Facts kept up to date as meetings change: the session hooks live with the facts' SQL.
from models import meeting_facts as _meeting_facts  # noqa: E402,F401
