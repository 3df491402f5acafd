"""The outbox: a Slack side effect that must follow a change is written as a ledger row in the change's own
transaction, due at once, so that it happens even if the process dies straight after the commit.

The rows live in the scheduled-message ledger (`scheduled_messages`, kinds `outbox.*`, models/ledger.py): they
are claimed, leased, marked sent and looked for in Slack by the key in their metadata exactly as the scheduled
messages are, and the scheduler's run (at start and every interval) takes up any the request's own thread did
not finish. handlers/outbox.py sends them. No Slack here.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session

from models import ledger, reminders
from models.ledger import Kind, Planned
from models.tables import Meeting


def enqueue(session: Session, *, key: str, kind: Kind, case_id: int, now: datetime, meeting_id: int | None = None,
            member_id: int | None = None, detail: dict | None = None) -> str:
    """Write the row (once per key) in the caller's transaction; returns the key, for sending it after the commit."""
    ledger.insert_new(session, [Planned(key=key, kind=kind, case_id=case_id, due_at=now, meeting_id=meeting_id,
                                        member_id=member_id, detail=detail)], now=now)
    return key


def opening(session: Session, *, case_id: int, meeting_id: int, now: datetime, notify: str | None = None
            ) -> list[str]:
    """A meeting has started: its opening post (attendance, agenda, written updates), its message redrawn, and the
    chair's buttons in its thread."""
    return [enqueue(session, key=f"meeting:{meeting_id}:opening", kind=Kind.OPENING, case_id=case_id,
                    meeting_id=meeting_id, now=now, detail={"notify": notify} if notify else None),
            redraw(session, case_id=case_id, meeting_id=meeting_id, now=now, why="started"),
            enqueue(session, key=f"meeting:{meeting_id}:chair_panel", kind=Kind.CHAIR_PANEL, case_id=case_id,
                    meeting_id=meeting_id, now=now)]


def redraw(session: Session, *, case_id: int, meeting_id: int, now: datetime, why: str) -> str:
    """A meeting's message drawn again (it started, it ended). The recap's follow-up and charts are written by
    models.recap_posting.follow_ups."""
    return enqueue(session, key=f"meeting:{meeting_id}:redraw:{why}", kind=Kind.REDRAW, case_id=case_id,
                   meeting_id=meeting_id, now=now)


def update_post(session: Session, *, case_id: int, meeting_id: int, update_id: int, scored: int, now: datetime,
                notify: str | None = None) -> str:
    return enqueue(session, key=f"update:{update_id}:post", kind=Kind.UPDATE_POST, case_id=case_id,
                   meeting_id=meeting_id, now=now, detail={"update": update_id, "scored": scored, "notify": notify})


def scaling_question(session: Session, *, case_id: int, meeting_id: int, round_id: int, now: datetime,
                     notify: str | None = None) -> str:
    return enqueue(session, key=f"scaling:{round_id}:question", kind=Kind.SCALING, case_id=case_id,
                   meeting_id=meeting_id, now=now, detail={"round": round_id, "notify": notify})


def family_outline(session: Session, *, meeting: Meeting, now: datetime, moved: bool = False) -> str:
    """A meeting was booked or moved: its outline for the family, to the lead social worker
    (handlers/family_outline.py).
    One per meeting and start time: a later time gets its own row, and the row of a time since changed is skipped."""
    return enqueue(session, key=outline_key(meeting), kind=Kind.FAMILY_OUTLINE, case_id=meeting.case_id,
                   meeting_id=meeting.id, now=now, detail={"start": reminders.stamp(meeting.scheduled_start),
                                                           "moved": moved})


def outline_key(meeting: Meeting) -> str:
    return f"outline:{meeting.id}:{reminders.stamp(meeting.scheduled_start)}"


def channel_note(session: Session, *, case_id: int, what: str, text: str, now: datetime) -> str:
    """The case channel told of a membership change (handlers/events.py). Written only by the transaction that made
    the change (a conditional update or a once-only claim), so the key need only be unique: what, and when."""
    return enqueue(session, key=f"note:{what}:{now.timestamp():.6f}", kind=Kind.CHANNEL_NOTE, case_id=case_id,
                   now=now, detail={"text": text})


def cancelled_accepted(session: Session, *, case_id: int, member_id: int, user_id: str, approval_required: bool,
                       event_id: str | None, now: datetime) -> str:
    """Someone accepted an invitation the core group had cancelled (handlers/connect_events.py): they are taken out
    of the channel again (unless an administrator must still approve them) and the channel is told. Written with the
    event's once-only claim, so one row per event; the member is named in `detail`, not `member_id`, because rows
    addressed to a removed member are withdrawn."""
    when = (event_id or "")[:80] or f"{now.timestamp():.6f}"
    return enqueue(session, key=f"cancelled_accepted:{member_id}:{when}", kind=Kind.CANCELLED_ACCEPTED,
                   case_id=case_id, now=now, detail={"member": member_id, "user": user_id,
                                                     "approval_required": bool(approval_required)})


def member_removed(session: Session, *, case_id: int, member_id: int, user_id: str | None, external: bool, text: str,
                   notify: str | None, now: datetime) -> str:
    """Someone was removed from the core group (handlers/members.py): they are taken out of the channel (if they are
    on Slack) and the channel is told; the person who removed them is told privately if Slack would not take them
    out. Written by the conditional update that removed them, so once. Named in `detail`, not `member_id` (rows
    addressed to a removed member are withdrawn)."""
    return enqueue(session, key=f"removed:{member_id}:{now.timestamp():.6f}", kind=Kind.MEMBER_REMOVED,
                   case_id=case_id, now=now, detail={"member": member_id, "user": user_id, "external": external,
                                                     "text": text, "notify": notify})
