"""The record of a meeting: what the chair approves, posts and keeps unchanged.

`build_content` gathers everything the recap shows into one JSON-ready dict: attendance, written
updates, the child's and the parents' views, progress on every action, scaling results with their
trend, decisions, new actions, and the chair's outcome (key points, risk direction, recommendation,
next meeting). The dict is what the chair sees in the preview and what is stored in the `Recap` row,
so the posted record is exactly the approved one and can be shown again without the tables.

Names are stored as recorded (not Slack mentions): a record must not notify anyone, and it must read
the same after someone leaves the group.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import audit, cases, decisions, meetings, names, plan, scaling
from models.audit import Actor
from models.tables import (
    Action,
    ActionEvent,
    ActionEventKind,
    ActionStatus,
    AttendanceStatus,
    Case,
    Meeting,
    MeetingStatus,
    Member,
    MemberStatus,
    Recap,
    RecapStatus,
    Recommendation,
    RiskDirection,
    UpdateActionProgress,
)
from models.types import utcnow

SCHEMA = 1
MAX_TEXT = 3000
CHANNEL, OUTSIDE_SLACK = "channel", "outside_slack"

# The chair's outcome: what the end-of-meeting form (or a correction) says. "next" is the meeting to book and
# "review" a new date for the next review conference (ISO), both acted on when the first version is approved,
# so a correction keeps them as they were. "unbooked" says the chair chose to leave the next meeting unbooked
# (not the same as "next" being empty, which is also so when a meeting was already booked).
OUTCOME_TEXTS = ("key_points", "child_views", "child_missing", "parents_views")
OUTCOME_FIELDS = (*OUTCOME_TEXTS, "risk_direction", "recommendation", "next", "unbooked", "review", "refresh")
ON_APPROVAL = ("next", "unbooked", "review")


def check_outcome(outcome: dict) -> dict[str, str]:
    """Field name -> what is wrong, for the chair's part of the record; empty when it can be saved."""
    errors: dict[str, str] = {}
    for name in OUTCOME_TEXTS:
        value = outcome.get(name) or ""
        if len(value) > MAX_TEXT:
            errors[name] = f"Please keep this under {MAX_TEXT:,} characters (it is {len(value):,} now)."
    if not (outcome.get("key_points") or "").strip() and "key_points" not in errors:
        errors["key_points"] = "Please write the main points of the meeting."
    if not (outcome.get("child_views") or "").strip() and not (outcome.get("child_missing") or "").strip():
        errors["child_views"] = ("Please write the child's views, or below why they were not obtained. The"
                                 " child's voice is part of every record.")
    if outcome.get("risk_direction") not in set(RiskDirection):
        errors["risk_direction"] = "Please say whether the risks are reducing, the same, or increasing."
    if outcome.get("recommendation") not in set(Recommendation):
        errors["recommendation"] = "Please choose the core group's recommendation for the review conference."
    return errors


# --- reading the meeting ---------------------------------------------------------------------------------


def _iso(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _person(member: Member | None) -> dict | None:
    if member is None:
        return None
    return {"id": member.id, "name": names.shown(member), "role": member.role}


def _attendance(everyone: dict[int, Member], recorded: dict[int, str]) -> list[dict]:
    shown = [m for m in everyone.values() if m.status != MemberStatus.REMOVED or m.id in recorded]
    rows = []
    for member in shown:
        status = recorded.get(member.id) or "not_recorded"
        rows.append({**_person(member), "agency": member.agency or "", "status": status})
    return rows


def _updates(session: Session, meeting: Meeting, everyone: dict[int, Member], recorded: dict[int, str],
             action_text: dict[int, str]) -> list[dict]:
    latest = meetings.latest_updates(session, meeting.id)
    progress: dict[int, list[UpdateActionProgress]] = {}
    if latest:
        rows = session.exec(select(UpdateActionProgress)
                            .where(col(UpdateActionProgress.update_id).in_([u.id for u in latest]))
                            .order_by(col(UpdateActionProgress.id)))
        for row in rows:
            progress.setdefault(row.update_id, []).append(row)
    result = []
    for update in latest:
        status = recorded.get(update.member_id)
        attended = status == AttendanceStatus.PRESENT or (status is None and update.attending)
        result.append({
            **_person(everyone.get(update.member_id)), "attended": attended, "version": update.version,
            "contacts": update.contacts, "child_seen": update.child_seen, "seen_alone": update.seen_alone,
            "working_well": update.working_well, "worries": update.worries,
            "needs_to_happen": update.needs_to_happen, "child_views": update.child_views,
            "progress": [{"action_id": p.action_id, "what": action_text.get(p.action_id, ""), "status": p.status,
                          "note": p.note} for p in progress.get(update.id, [])],
            "recorded_by": _person(everyone.get(update.recorded_by_member_id))
            if update.recorded_by_member_id else None,
        })
    return result


def _since(session: Session, meeting: Meeting) -> datetime | None:
    """When the previous meeting ended: actions finished since then are reported at this one."""
    previous = meetings.previous_ended(session, meeting.case_id, before=meeting)
    if previous is None:
        return None
    return previous.ended_at or previous.scheduled_start


def _actions(session: Session, meeting: Meeting, case_actions: list[Action], everyone: dict[int, Member],
             updates: list[dict], today: date) -> tuple[list[dict], list[dict]]:
    """(progress on every earlier action, the actions agreed at this meeting)."""
    since = _since(session, meeting)
    events: dict[int, list[ActionEvent]] = {}
    if case_actions:
        for event in session.exec(select(ActionEvent)
                                  .where(col(ActionEvent.action_id).in_([a.id for a in case_actions]))
                                  .order_by(col(ActionEvent.at), col(ActionEvent.id))):
            events.setdefault(event.action_id, []).append(event)
    reported: dict[int, dict] = {}
    for update in updates:
        for line in update["progress"]:
            reported[line["action_id"]] = {"by": update["name"], "status": line["status"], "note": line["note"]}
    progress, new = [], []
    for action in case_actions:
        owner = everyone.get(action.owner_member_id)
        row = {"id": action.id, "what": action.what, "owner": _person(owner), "due": action.due_date.isoformat(),
               "measure": action.measure, "carried_forward": action.carried_forward}
        if action.meeting_id == meeting.id:
            new.append(row)
            continue
        history = events.get(action.id, [])
        if action.status != ActionStatus.OPEN:
            closed = next((e.at for e in reversed(history)
                           if e.kind in (ActionEventKind.DONE, ActionEventKind.DROPPED)), action.completed_at)
            if since is not None and closed is not None and closed < since:
                continue  # finished before the last meeting: reported then
            row["state"] = "done" if action.status == ActionStatus.DONE else "dropped"
        else:
            row["state"] = "overdue" if action.due_date < today else "on_track"
        notes = [e.note for e in history if e.kind == ActionEventKind.PROGRESS and e.note
                 and (since is None or e.at >= since)]
        row["note"] = notes[-1] if notes else ""
        row["reported"] = reported.get(action.id)
        progress.append(row)
    order = {"overdue": 0, "on_track": 1, "done": 2, "dropped": 3}
    progress.sort(key=lambda r: (order[r["state"]], r["due"], r["id"]))
    return progress, new


def _plan(session: Session, meeting: Meeting, now: datetime) -> dict:
    """The plan as it stood, and what changed in it since the last meeting (at meeting 1: during it)."""
    since = _since(session, meeting)
    changes_at = "last_meeting" if since is not None else "this_meeting"
    if since is None:
        since = meeting.started_at or meeting.scheduled_start
    return {"items": plan.as_it_stands(session, meeting.case_id), "changes_since": changes_at,
            "changes": plan.changes_since(session, meeting.case_id, since, now)}


def _scaling(session: Session, meeting: Meeting, zone: ZoneInfo) -> list[dict]:
    result = []
    for scaling_round in scaling.rounds_for_meeting(session, meeting.id):
        summary = scaling.round_summary(session, scaling_round.id)
        question = summary.question
        trend = [{"date": scaling.meeting_date(other, zone).isoformat(), "median": median}
                 for other, median in scaling.medians(session, question.id)
                 if other.scheduled_start <= meeting.scheduled_start]
        result.append({
            "question": question.question, "zero_means": question.zero_means, "ten_means": question.ten_means,
            "child": summary.child_label, "danger": summary.danger_text, "revealed": summary.revealed,
            "scores": [{"name": s.name, "role": s.role, "score": s.score, "reason": s.reason,
                        "to_move_up": s.to_move_up, "in_writing": s.in_writing, "recorded_by": s.recorded_by}
                       for s in summary.scores],
            "low": summary.low, "high": summary.high, "median": summary.median, "spread": summary.spread,
            "differs": summary.differs, "previous_median": summary.previous_median,
            "previous_date": summary.previous_date.isoformat() if summary.previous_date else None,
            "direction": summary.direction, "trend": trend,
        })
    return result


def scheduled_after(session: Session, meeting: Meeting) -> Meeting | None:
    """A meeting already booked after this one (someone used `/coregroup schedule` during it)."""
    return session.exec(select(Meeting).where(Meeting.case_id == meeting.case_id, Meeting.id != meeting.id,
                                              Meeting.status == MeetingStatus.SCHEDULED)
                        .order_by(col(Meeting.scheduled_start), col(Meeting.id))).first()


def _next_meeting(session: Session, meeting: Meeting, outcome: dict, everyone: dict[int, Member],
                  zone: ZoneInfo) -> dict | None:
    booked = scheduled_after(session, meeting)
    if booked is not None:
        return {"meeting_id": booked.id, "start": _iso(booked.scheduled_start, zone),
                "duration": booked.duration_minutes, "location": booked.location,
                "chair": _person(everyone.get(booked.chair_member_id) if booked.chair_member_id else None)}
    wanted = outcome.get("next") or None
    if not wanted or not wanted.get("start"):
        return None
    chair_id = wanted.get("chair_member_id")
    return {"meeting_id": None, "start": wanted["start"], "duration": wanted.get("duration"),
            "location": wanted.get("location") or "", "chair": _person(everyone.get(chair_id) if chair_id else None)}


def _review_conference(case: Case, outcome: dict, today: date) -> str | None:
    """The next review conference (ISO): the date the chair gave in the form, else the case's while it is ahead."""
    if outcome.get("review"):
        return str(outcome["review"])
    known = case.review_conference_date
    return known.isoformat() if known is not None and known >= today else None


def build_content(session: Session, *, meeting_id: int, outcome: dict, today: date,
                  tz: str = "Europe/London") -> dict:
    """Everything the record shows, as a JSON-ready dict (see the module docstring)."""
    zone = ZoneInfo(tz)
    meeting = session.get(Meeting, meeting_id)
    case = session.get(Case, meeting.case_id)
    everyone = {m.id: m for m in cases.members(session, case.id, include_removed=True)}
    recorded = meetings.attendance(session, meeting.id)
    case_actions = list(session.exec(select(Action).where(Action.case_id == case.id).order_by(col(Action.id))))
    updates = _updates(session, meeting, everyone, recorded, {a.id: a.what for a in case_actions})
    progress, new_actions = _actions(session, meeting, case_actions, everyone, updates, today)
    chair_id = meetings.chair_id_of(meeting)  # who actually chaired, recorded at the start
    chair = everyone.get(chair_id) if chair_id else None
    ends = meeting.scheduled_start + timedelta(minutes=meeting.duration_minutes)
    return {
        "schema": SCHEMA,
        "case": {"id": case.id, "reference": case.reference},
        "children": [c.label + (f" ({c.age})" if c.age is not None and f"({c.age})" not in c.label else "")
                     for c in cases.children(session, case.id)],
        "meeting": {"id": meeting.id, "number": meeting.number, "start": _iso(meeting.scheduled_start, zone),
                    "end": _iso(ends, zone), "location": meeting.location, "chair": _person(chair)},
        "key_points": (outcome.get("key_points") or "").strip(),
        "attendance": _attendance(everyone, recorded),
        "updates": updates,
        "child_views": {"text": (outcome.get("child_views") or "").strip(),
                        "not_obtained": (outcome.get("child_missing") or "").strip()},
        "parents_views": (outcome.get("parents_views") or "").strip(),
        "actions": progress,
        "plan": _plan(session, meeting, utcnow()),
        "scaling": _scaling(session, meeting, zone),
        "decisions": [{"text": d.text, "by": _person(everyone.get(d.recorded_by_member_id))}
                      for d in decisions.for_meeting(session, meeting.id)],
        "new_actions": new_actions,
        "risk_direction": outcome.get("risk_direction"),
        "recommendation": outcome.get("recommendation"),
        "review_conference": _review_conference(case, outcome, today),
        "next_meeting": _next_meeting(session, meeting, outcome, everyone, zone),
        "shared_with": [{**_person(m), "via": CHANNEL if m.slack_user_id else OUTSIDE_SLACK}
                        for m in everyone.values() if m.status == MemberStatus.ACTIVE],
        "outcome": {name: outcome.get(name) for name in OUTCOME_FIELDS},
        "version": 1,
        "correction": None,
    }


# --- versions ----------------------------------------------------------------------------------------------


def dumps(content: dict) -> str:
    """The stored form: stable key order, so equal records compare equal as text."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def content_of(recap: Recap) -> dict:
    return json.loads(recap.content)


def versions(session: Session, meeting_id: int) -> list[Recap]:
    return list(session.exec(select(Recap).where(Recap.meeting_id == meeting_id).order_by(col(Recap.version))))


def latest(session: Session, meeting_id: int) -> Recap | None:
    """The newest approved version (posted, or being posted), or None."""
    return session.exec(select(Recap).where(Recap.meeting_id == meeting_id, Recap.status != RecapStatus.DRAFT)
                        .order_by(col(Recap.version).desc())).first()


def draft(session: Session, meeting_id: int) -> Recap | None:
    return session.exec(select(Recap).where(Recap.meeting_id == meeting_id, Recap.status == RecapStatus.DRAFT)
                        ).first()


def corrected(previous: dict, outcome: dict) -> dict:
    """The record with what the chair wrote replaced; everything else as it was."""
    content = json.loads(json.dumps(previous))
    content["key_points"] = (outcome.get("key_points") or "").strip()
    content["child_views"] = {"text": (outcome.get("child_views") or "").strip(),
                              "not_obtained": (outcome.get("child_missing") or "").strip()}
    content["parents_views"] = (outcome.get("parents_views") or "").strip()
    content["risk_direction"] = outcome.get("risk_direction")
    content["recommendation"] = outcome.get("recommendation")
    content["outcome"] = {**(previous.get("outcome") or {}),
                          **{name: outcome.get(name) for name in OUTCOME_FIELDS if name not in ON_APPROVAL}}
    return content


def compose(session: Session, *, meeting_id: int, outcome: dict, today: date, tz: str = "Europe/London",
            previous: dict | None = None) -> dict:
    """A first record from the tables; a correction from the version it corrects (or afresh, if asked)."""
    if previous is None or outcome.get("refresh"):
        if previous is not None:
            outcome = {**outcome, **{name: (previous.get("outcome") or {}).get(name) for name in ON_APPROVAL}}
        return build_content(session, meeting_id=meeting_id, outcome=outcome, today=today, tz=tz)
    return corrected(previous, outcome)


def versioned(content: dict, *, version: int, correction_reason: str | None) -> dict:
    """The record as stored for a version: its number, and for a correction what it corrects and why."""
    content = dict(content, version=version, correction=None)
    if version > 1:
        content["correction"] = {"of_version": version - 1, "reason": correction_reason or ""}
    return content


def rebuilt(session: Session, recap: Recap, *, today: date, tz: str = "Europe/London") -> str | None:
    """The draft as it would be built now (stored form), or None when it does not come from the tables."""
    content = content_of(recap)
    outcome = content.get("outcome") or {}
    if recap.version > 1 and not outcome.get("refresh"):
        return None
    fresh = build_content(session, meeting_id=recap.meeting_id, outcome=outcome, today=today, tz=tz)
    return dumps(versioned(fresh, version=recap.version, correction_reason=recap.correction_reason))


def save_version(session: Session, *, meeting_id: int, content: dict, member_id: int | None, actor: Actor,
                 now: datetime, correction_reason: str | None = None) -> Recap:
    """Save the record for the chair to check: the meeting's draft, replaced while it is unapproved.

    A draft takes the next version number. Approved versions never change; a correction is saved here
    as a new draft with its reason, and becomes the next version when approved.
    """
    case_id = content["case"]["id"]
    recap = draft(session, meeting_id)
    if recap is None:
        previous = versions(session, meeting_id)
        recap = Recap(meeting_id=meeting_id, version=(previous[-1].version + 1) if previous else 1, content="{}")
        savepoint = session.begin_nested()
        try:
            session.add(recap)
            session.flush()
        except IntegrityError:  # someone else saved this version a moment ago: work on theirs
            savepoint.rollback()
            recap = draft(session, meeting_id)
            if recap is None:
                raise
        else:
            savepoint.commit()
    content = versioned(content, version=recap.version, correction_reason=correction_reason)
    recap.content = dumps(content)
    recap.risk_direction = content.get("risk_direction")
    recap.recommendation = content.get("recommendation")
    recap.correction_reason = correction_reason if recap.version > 1 else None
    recap.created_at = now
    recap.created_by_member_id = member_id
    session.add(recap)
    session.flush()
    audit.record(session, actor=actor, action="recap.drafted", record_type="recap", record_id=recap.id,
                 case_id=case_id, meeting_id=meeting_id, version=recap.version)
    return recap
