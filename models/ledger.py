"""The scheduled message ledger: planning rows, claiming due ones, and recording what became of them.

Every message the scheduler sends has one row in `scheduled_messages`, found by its idempotency key
(unique), e.g. ``meeting:12:remind2d:20261208T1000Z``. A row's life:

    pending ──claim──▶ claimed ──Slack accepted──▶ sent
       ▲                  │ ├──the domain says no──▶ skipped
       └──Slack failed────┘ └──too late───────────▶ missed (reported in the case channel)
    pending ──the domain changed (meeting moved, action done)──▶ cancelled

Claiming is one short transaction. On PostgreSQL the due rows are picked with
``SELECT … FOR UPDATE SKIP LOCKED`` so two instances never pick the same row, and each claim is a
lease (`claimed_by`, `claimed_until`): a row whose lease ran out (its instance died mid-send) is
picked up again, and the sender first looks in Slack for the message (see handlers/delivery.py).
SQLite serves one instance; its ``BEGIN IMMEDIATE`` already serialises writers.

A row is marked sent only after Slack accepted the message, and only by the instance holding the
claim. A failed send goes back to pending with `attempts`, `last_error` and a retry time (kept in
`claimed_until` while pending), so it is tried again on a later run.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.tables import MessageStatus, ScheduledMessage

FINAL = (MessageStatus.SENT, MessageStatus.SKIPPED, MessageStatus.MISSED)
LIVE = (MessageStatus.PENDING, MessageStatus.CLAIMED)


class Kind(StrEnum):
    """What a row is. Parents fan out into one row per recipient when they fall due."""

    REMIND_2D = "meeting.remind2d"  # parent: every member, two working days before
    REMIND_MORNING = "meeting.morning"  # parent: every member, the morning of the meeting
    APOLOGIES = "meeting.apologies"  # parent: members with apologies and no update, the day before
    REMIND_2D_MEMBER = "meeting.remind2d.member"
    REMIND_MORNING_MEMBER = "meeting.morning.member"
    APOLOGIES_MEMBER = "meeting.apologies.member"
    TIMEKEEPING = "meeting.timekeeping"  # the chair, shortly before the planned end
    OPEN_CHAIR = "meeting.open.chair"  # still open 30 minutes after the planned end: the chair
    OPEN_LEAD = "meeting.open.lead"  # still open on the next working morning: the lead social worker
    OPEN_CLOSE = "meeting.open.close"  # still open after 2 working days: ended without a record, the group told
    OVERDUE = "action.overdue"  # the owner (or the lead social worker), backing off
    DRIFT = "case.drift"  # weekly summary in the channel
    LAPSE = "case.lapse"  # parent: the channel and each member's manager
    LAPSE_CHANNEL = "case.lapse.channel"
    LAPSE_MANAGER = "case.lapse.manager"
    REVIEW = "case.review"  # two weeks before the review conference
    STALLING = "case.stalling"  # after a meeting ends: is the plan stalling?
    AWAY = "member.away"  # someone is away: their actions are shown to the group
    MISSED_REPORT = "case.missed"  # what could not be sent in time
    SETUP = "case.setup"  # two working days after a case opens: the lead social worker, what is still missing
    THREAD = "thread.parent"  # not sent by the dispatcher: the channel thread for someone we cannot DM
    CHAIR_APOLOGIES = "meeting.chair_apologies"  # at once: the chair sent apologies; the lead social worker is told
    # The outbox (models/outbox.py, handlers/outbox.py): what follows a commit, due at once, at any hour.
    OPENING = "outbox.opening"  # a started meeting's attendance, agenda and written updates
    MEETING_POST = "outbox.meeting"  # a meeting's own message (the next meeting, booked by a recap)
    REDRAW = "outbox.redraw"  # a meeting's message brought up to date (started, ended)
    UPDATE_POST = "outbox.update"  # a saved update in the meeting's thread
    CHART = "outbox.chart"  # a trajectory chart in a posted recap's thread
    SCALING = "outbox.scaling"  # a scaling question asked in the channel
    CHAIR_PANEL = "outbox.chair_panel"  # the chair's buttons in a started meeting's thread
    FAMILY_ASK = "outbox.family_ask"  # the lead social worker asked to prepare a posted record's family version
    FAMILY_GIVEN = "outbox.family_given"  # "given to the family", in the record's thread
    FAMILY_OUTLINE = "outbox.family_outline"  # the family's outline of a booked (or moved) meeting, to the lead
    CHANNEL_NOTE = "outbox.channel_note"  # the case channel told of a membership change (left, joined, linked)
    CANCELLED_ACCEPTED = "outbox.cancelled_accepted"  # a cancelled invitation accepted: taken out, the channel told
    MEMBER_REMOVED = "outbox.member_removed"  # someone removed from the core group: taken out, the channel told
    OVERSIGHT_REPORT = "oversight.monthly"  # the month's oversight report, to COREGROUP_REPORT_CHANNEL (no case)


FAN_OUT = {Kind.REMIND_2D: Kind.REMIND_2D_MEMBER, Kind.REMIND_MORNING: Kind.REMIND_MORNING_MEMBER,
           Kind.APOLOGIES: Kind.APOLOGIES_MEMBER}
MEETING_KINDS = (Kind.REMIND_2D, Kind.REMIND_MORNING, Kind.APOLOGIES, Kind.TIMEKEEPING, Kind.OPEN_CHAIR,
                 Kind.OPEN_LEAD, Kind.OPEN_CLOSE)
OPEN_KINDS = (Kind.OPEN_CHAIR, Kind.OPEN_LEAD, Kind.OPEN_CLOSE)  # a meeting nobody ended
OUTBOX = (Kind.OPENING, Kind.MEETING_POST, Kind.REDRAW, Kind.UPDATE_POST, Kind.CHART, Kind.SCALING,
          Kind.CHAIR_PANEL, Kind.FAMILY_ASK, Kind.FAMILY_GIVEN, Kind.FAMILY_OUTLINE,
          Kind.CHANNEL_NOTE, Kind.CANCELLED_ACCEPTED, Kind.MEMBER_REMOVED)
ANYTIME = (Kind.TIMEKEEPING, Kind.OPEN_CHAIR, Kind.CHAIR_APOLOGIES, *OUTBOX)  # everything else waits for working hours
UNTIL_DECIDED = (Kind.CHAIR_APOLOGIES,)  # never too late by the clock: the decider says when it no longer matters


@dataclass
class Planned:
    """A row the domain wants to exist."""

    key: str
    kind: str
    case_id: int | None
    due_at: datetime
    meeting_id: int | None = None
    action_id: int | None = None
    member_id: int | None = None
    detail: dict | None = None

    def row(self) -> dict:
        return {"key": self.key, "kind": str(self.kind), "case_id": self.case_id, "due_at": self.due_at,
                "meeting_id": self.meeting_id, "action_id": self.action_id, "member_id": self.member_id,
                "detail": json.dumps(self.detail, sort_keys=True) if self.detail is not None else None,
                "status": MessageStatus.PENDING, "attempts": 0}


@dataclass
class Claimed:
    """A row this instance holds; `reclaimed` when an earlier claim ran out (it may have been sent)."""

    id: int
    key: str
    kind: str
    case_id: int | None  # None only for the monthly oversight report
    meeting_id: int | None
    action_id: int | None
    member_id: int | None
    due_at: datetime
    attempts: int
    last_error: str | None
    detail: dict | None
    reclaimed: bool = False


def detail_of(row: ScheduledMessage) -> dict:
    return json.loads(row.detail) if row.detail else {}


def _insert(session: Session, values: list[dict]) -> None:
    """Insert rows whose key is not there yet (a concurrent insert of the same key is not an error)."""
    if not values:
        return
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(ScheduledMessage).values(values).on_conflict_do_nothing(index_elements=["key"]))


def insert_new(session: Session, planned: Iterable[Planned], *, now: datetime) -> None:
    values = [dict(p.row(), created_at=now) for p in planned]
    _insert(session, values)


def plan(session: Session, wanted: Planned, *, now: datetime) -> None:
    """Make sure the row exists: insert it, or bring it back if it was withdrawn. Sent, skipped and
    missed rows stay as they are (that key's message has had its chance)."""
    existing = session.exec(select(ScheduledMessage).where(ScheduledMessage.key == wanted.key)).first()
    if existing is None:
        insert_new(session, [wanted], now=now)
    elif existing.status == MessageStatus.CANCELLED:
        existing.status = MessageStatus.PENDING
        existing.due_at = wanted.due_at
        existing.claimed_by = existing.claimed_until = None
        session.add(existing)


def reconcile(session: Session, *, kinds: Iterable[str], wanted: Iterable[Planned], now: datetime,
              case_id: int | None = None, meeting_id: int | None = None, action_id: int | None = None,
              member_id: int | None = None) -> None:
    """Make the live rows of these kinds, for this meeting/action/member/case, exactly `wanted`:
    pending rows no longer wanted are withdrawn (cancelled); wanted rows are planned."""
    wanted = list(wanted)
    keys = {p.key for p in wanted}
    query = select(ScheduledMessage).where(col(ScheduledMessage.kind).in_([str(k) for k in kinds]),
                                           ScheduledMessage.status == MessageStatus.PENDING)
    for column, value in ((ScheduledMessage.case_id, case_id), (ScheduledMessage.meeting_id, meeting_id),
                          (ScheduledMessage.action_id, action_id), (ScheduledMessage.member_id, member_id)):
        if value is not None:
            query = query.where(column == value)
    for row in session.exec(query):
        if row.key not in keys:
            row.status = MessageStatus.CANCELLED
            session.add(row)
    for planned in wanted:
        plan(session, planned, now=now)


def cancel_pending(session: Session, *, case_id: int | None = None, member_id: int | None = None) -> int:
    """Withdraw every pending row of a case (closed) or addressed to a member (removed)."""
    query = update(ScheduledMessage).where(ScheduledMessage.status == MessageStatus.PENDING)
    if case_id is not None:
        query = query.where(ScheduledMessage.case_id == case_id)
    if member_id is not None:
        query = query.where(ScheduledMessage.member_id == member_id)
    return session.execute(query.values(status=MessageStatus.CANCELLED)).rowcount


def status_of(session: Session, key: str) -> str | None:
    return session.exec(select(ScheduledMessage.status).where(ScheduledMessage.key == key)).first()


# --- claiming -------------------------------------------------------------------------------------


_RETURNED = (ScheduledMessage.id, ScheduledMessage.key, ScheduledMessage.kind, ScheduledMessage.case_id,
             ScheduledMessage.meeting_id, ScheduledMessage.action_id, ScheduledMessage.member_id,
             ScheduledMessage.due_at, ScheduledMessage.attempts, ScheduledMessage.last_error, ScheduledMessage.detail)


def _claim(session: Session, query, *, limit: int, me: str, lease_until: datetime, reclaimed: bool) -> list[Claimed]:
    """UPDATE … WHERE id IN (SELECT … ORDER BY due_at LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING …"""
    if limit <= 0:
        return []
    query = query.order_by(col(ScheduledMessage.due_at)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    claim = (update(ScheduledMessage).where(col(ScheduledMessage.id).in_(query.scalar_subquery()))
             .values(status=MessageStatus.CLAIMED, claimed_by=me, claimed_until=lease_until).returning(*_RETURNED))
    return [Claimed(id=r.id, key=r.key, kind=r.kind, case_id=r.case_id, meeting_id=r.meeting_id,
                    action_id=r.action_id, member_id=r.member_id, due_at=r.due_at, attempts=r.attempts,
                    last_error=r.last_error, detail=json.loads(r.detail) if r.detail else {}, reclaimed=reclaimed)
            for r in session.execute(claim)]


def claim_due(session: Session, *, now: datetime, me: str, lease_until: datetime, limit: int,
              anytime_only: bool = False) -> list[Claimed]:
    """Claim up to `limit` due rows, oldest first, in the caller's (short) transaction.

    Due: pending with due_at <= now and no retry time in the future; or claimed by an instance whose
    lease ran out. Each is one statement using the (status, due_at) index, so the work grows with what
    is due, not with the size of the ledger. `anytime_only` (outside working hours) claims only the
    chair's timekeeping prompts."""
    pending = select(ScheduledMessage.id).where(
        ScheduledMessage.status == MessageStatus.PENDING, ScheduledMessage.due_at <= now,
        (col(ScheduledMessage.claimed_until).is_(None)) | (col(ScheduledMessage.claimed_until) <= now))
    expired = select(ScheduledMessage.id).where(
        ScheduledMessage.status == MessageStatus.CLAIMED, col(ScheduledMessage.claimed_until) < now)
    if anytime_only:
        kinds = [str(k) for k in ANYTIME]
        pending = pending.where(col(ScheduledMessage.kind).in_(kinds))
        expired = expired.where(col(ScheduledMessage.kind).in_(kinds))
    rows = _claim(session, expired, limit=limit, me=me, lease_until=lease_until, reclaimed=True)
    rows += _claim(session, pending, limit=limit - len(rows), me=me, lease_until=lease_until, reclaimed=False)
    return sorted(rows, key=lambda r: (r.due_at, r.id))


def claim_key(session: Session, key: str, *, now: datetime, me: str, lease_until: datetime) -> Claimed | None:
    """Claim one row by its key, whatever its retry time (the outbox sending it at once): pending, or claimed by
    an instance whose lease ran out (then `reclaimed`: it may have been sent). None if it is not there to take."""
    row = ScheduledMessage.key == key
    expired = select(ScheduledMessage.id).where(row, ScheduledMessage.status == MessageStatus.CLAIMED,
                                                col(ScheduledMessage.claimed_until) < now)
    pending = select(ScheduledMessage.id).where(row, ScheduledMessage.status == MessageStatus.PENDING)
    found = _claim(session, expired, limit=1, me=me, lease_until=lease_until, reclaimed=True)
    found = found or _claim(session, pending, limit=1, me=me, lease_until=lease_until, reclaimed=False)
    return found[0] if found else None


def _mine(row_id: int, me: str):
    return update(ScheduledMessage).where(ScheduledMessage.id == row_id, ScheduledMessage.claimed_by == me,
                                          ScheduledMessage.status == MessageStatus.CLAIMED)


def renew(session: Session, row_id: int, me: str, lease_until: datetime) -> bool:
    """Extend the claim just before sending; False if the row is no longer ours to send."""
    return session.execute(_mine(row_id, me).values(claimed_until=lease_until)).rowcount == 1


def mark_sent(session: Session, row_id: int, me: str, *, now: datetime, via: str, channel: str | None = None,
              ts: str | None = None) -> bool:
    """Slack accepted it: the row is sent, with where it went."""
    values = dict(status=MessageStatus.SENT, sent_at=now, delivered_via=via, slack_channel=channel, slack_ts=ts,
                  claimed_until=None)
    return session.execute(_mine(row_id, me).values(**values)).rowcount == 1


def mark_final(session: Session, row_id: int, me: str, status: str, reason: str) -> bool:
    """Skipped (the domain says it is no longer wanted) or missed (too late), with the reason."""
    assert status in (MessageStatus.SKIPPED, MessageStatus.MISSED)
    values = dict(status=status, last_error=reason[:80], claimed_until=None)
    return session.execute(_mine(row_id, me).values(**values)).rowcount == 1


def mark_failed(session: Session, row_id: int, me: str, *, error: str, retry_at: datetime) -> bool:
    """Slack did not accept it: pending again, tried on a later run (not before `retry_at`)."""
    values = dict(status=MessageStatus.PENDING, claimed_by=None, claimed_until=retry_at, last_error=error[:80],
                  attempts=ScheduledMessage.attempts + 1)
    return session.execute(_mine(row_id, me).values(**values)).rowcount == 1


def release(session: Session, row_ids: list[int], me: str) -> int:
    """Hand back rows claimed but not yet tried (shutting down): pending again, nothing counted."""
    query = update(ScheduledMessage).where(col(ScheduledMessage.id).in_(row_ids), ScheduledMessage.claimed_by == me,
                                           ScheduledMessage.status == MessageStatus.CLAIMED)
    return session.execute(query.values(status=MessageStatus.PENDING, claimed_by=None, claimed_until=None)).rowcount


def release_own(session: Session, me: str, now: datetime) -> int:
    """At start: claims this instance (by its configured name) held before a restart run out now."""
    query = update(ScheduledMessage).where(ScheduledMessage.status == MessageStatus.CLAIMED,
                                           ScheduledMessage.claimed_by == me)
    return session.execute(query.values(claimed_until=now)).rowcount


def set_detail(session: Session, row_id: int, detail: dict) -> None:
    session.execute(update(ScheduledMessage).where(ScheduledMessage.id == row_id)
                    .values(detail=json.dumps(detail, sort_keys=True)))
