"""The facts the oversight measures count (issue 14), kept up to date in the same transaction as the change.

`meeting_facts` holds one narrow row per held core group (a posted record): its day and working-day number, its
place among the case's held core groups, when the agreed interval after the one before ran out, when the record
was posted and the family version first given (as working-day numbers), what the record says of the child's and
the parents' views, and the organisations of the chair and of the lead social worker. `meeting_attendance_facts`
holds, for each held core group, the attendance counted by organisation; `case_facts` each case's first core group
against its initial conference and last core group before its review conference; `action_facts` each action's due
day, owner's organisation and state. Each is also summed by workspace and day (`Sums`: attendance_by_day,
held_by_day, cases_by_day, actions_by_day), so a whole workspace's figures are a GROUP BY over a few thousand rows
whatever the number of cases. The measures (models/oversight.py) read these, never the raw tables.

Kept true by session hooks: whenever a flush writes a case, member, meeting, record, attendance, update, family
handover or action, the case is noted with the part of it that changed (its meetings or its actions); just before
that transaction commits, that part of the noted cases' facts is worked out again from scratch (one INSERT ...
SELECT each, a few rows per case) and the sums are given the difference, inside the same transaction. Changes made
by a bulk UPDATE statement rather than through objects call `touch`. `rebuild` works out every case's facts
(`coregroup oversight rebuild`, and `ensure_current` at start when the rules or the timezone changed), with the
same statements, so the two can never disagree.

Days are days in the app's timezone (COREGROUP_TIMEZONE): a core group booked for 00.30 in London on a summer
night counts on that day, not the UTC day before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import bindparam, event, text
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# The rules the facts are worked out by: raise it whenever _sql or _sums change what they hold, and every
# database's facts are worked out again when the app next starts (ensure_current).
FACTS_VERSION = 2
_PENDING = "meeting_facts_cases"
_MEETINGS = "meeting_facts_meetings"
_IF_HELD = "meeting_facts_if_held"  # meetings whose change matters only if they are held (a record posted)


@lru_cache(maxsize=4)
def _sql(dialect: str, *, all_cases: bool) -> tuple[str, ...]:
    """The statements that work out the facts of the cases `:ids` (or of every case), in order: the held core
    groups, their attendance, the cases, the actions. Days are the app's timezone's (`:tz`)."""
    from models.oversight import BEFORE_REVIEW, FAMILY, FIRST_WITHIN, NO_ORGANISATION, _org, _Sql

    q = _Sql(dialect)
    where = "" if all_cases else " AND m.case_id IN :ids"
    doc, lateral = ("rj.doc", " CROSS JOIN LATERAL (SELECT CAST(rr.content AS jsonb) AS doc) rj") if q.pg \
        else ("rr.content", "")
    # (a correlated look-up by the members' case index: SQLite would scan a grouped subquery for every row)
    lead = f"SELECT MIN({_org('lm')}) FROM members lm WHERE lm.case_id = x.case_id AND lm.is_lead"
    day = q.local_day("m.scheduled_start")
    facts = f"""
INSERT INTO meeting_facts (meeting_id, case_id, team_id, day, month, n, seq, due_n, posted_n, given_n, child_said,
                           child_why_not, parents_said, chair_org, lead_org)
SELECT x.meeting_id, x.case_id, x.team_id, x.day, x.month, x.n, x.seq, nd.n, wp.n, wg.n,
       CASE WHEN x.child_said <> '' THEN 1 ELSE 0 END, CASE WHEN x.child_why_not <> '' THEN 1 ELSE 0 END,
       CASE WHEN x.parents_said <> '' THEN 1 ELSE 0 END,
       COALESCE(x.chair_org, '{NO_ORGANISATION}'), COALESCE(({lead}), '{NO_ORGANISATION}')
FROM (
  SELECT h.meeting_id, h.case_id, h.team_id, h.day, h.month, h.posted_at, h.frequency_weeks, wd.n,
         LAG(h.day) OVER (PARTITION BY h.case_id ORDER BY h.day, h.meeting_id) AS prev_day,
         ROW_NUMBER() OVER (PARTITION BY h.case_id ORDER BY h.day, h.meeting_id) AS seq,
         {q.json_text(doc, 'child_views', 'text')} AS child_said,
         {q.json_text(doc, 'child_views', 'not_obtained')} AS child_why_not,
         {q.json_text(doc, 'parents_views')} AS parents_said,
         (SELECT {_org('ch')} FROM members ch WHERE ch.id = h.chair_id) AS chair_org,
         (SELECT MIN(fh.given_on) FROM family_handovers fh WHERE fh.meeting_id = h.meeting_id) AS given_on
  FROM (
    SELECT m.id AS meeting_id, m.case_id, {day} AS day, {q.month(day)} AS month, MIN(r.posted_at) AS posted_at,
           MAX(r.id) AS recap_id, COALESCE(m.chaired_by_member_id, m.chair_member_id) AS chair_id,
           c.frequency_weeks, c.team_id
    FROM meetings m JOIN recaps r ON r.meeting_id = m.id AND r.status = 'posted' JOIN cases c ON c.id = m.case_id
    WHERE 1 = 1{where}
    GROUP BY m.id, m.case_id, m.scheduled_start, m.chaired_by_member_id, m.chair_member_id, c.frequency_weeks, c.team_id
  ) h JOIN working_days wd ON wd.day = h.day JOIN recaps rr ON rr.id = h.recap_id{lateral}
) x
JOIN working_days wp ON wp.day = {q.local_day('x.posted_at')}
LEFT JOIN working_days wg ON wg.day = x.given_on
LEFT JOIN working_days nd ON nd.day = {q.plus_days('x.prev_day', '7 * x.frequency_weeks')}"""
    fwhere = "" if all_cases else " WHERE f.case_id IN :ids"
    if q.pg:
        updated = "CASE WHEN u.member_id IS NULL THEN 0 ELSE 1 END"
        updates_join = ("\nLEFT JOIN (SELECT meeting_id, member_id FROM updates GROUP BY meeting_id, member_id) u"
                        " ON u.meeting_id = a.meeting_id AND u.member_id = a.member_id")
    else:
        updated = ("CASE WHEN EXISTS (SELECT 1 FROM updates u WHERE u.meeting_id = a.meeting_id"
                   " AND u.member_id = a.member_id) THEN 1 ELSE 0 END")
        updates_join = ""
    assert FAMILY  # the family's members are counted together (in _org)
    attendance = f"""
INSERT INTO meeting_attendance_facts (meeting_id, org, case_id, team_id, day, month, present, apologies_update,
                                      apologies_only, absent)
SELECT b.meeting_id, b.org, b.case_id, b.team_id, b.day, b.month,
       SUM(CASE WHEN b.status = 'present' THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.status = 'apologies' AND b.updated = 1 THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.status = 'apologies' AND b.updated = 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN b.status = 'absent' THEN 1 ELSE 0 END)
FROM (
  SELECT f.meeting_id, f.case_id, f.team_id, f.day, f.month, {_org('mb')} AS org, a.status, {updated} AS updated
  FROM meeting_facts f JOIN attendance a ON a.meeting_id = f.meeting_id JOIN members mb ON mb.id = a.member_id
  {updates_join}{fwhere}
) b
GROUP BY b.meeting_id, b.org, b.case_id, b.team_id, b.day, b.month"""
    cwhere = "" if all_cases else " WHERE c.id IN :ids"
    case_lead = f"SELECT MIN({_org('lm')}) FROM members lm WHERE lm.case_id = c.id AND lm.is_lead"
    cases = f"""
INSERT INTO case_facts (case_id, team_id, lead_org, initial_day, initial_month, first_due_n, first_held_n,
                        review_day, review_month, review_n, last_before_review_n)
SELECT c.id, c.team_id, COALESCE(({case_lead}), '{NO_ORGANISATION}'), c.initial_conference_date,
       {q.month('c.initial_conference_date')}, ic.n + {FIRST_WITHIN},
       (SELECT f.n FROM meeting_facts f WHERE f.case_id = c.id AND f.seq = 1),
       c.review_conference_date, {q.month('c.review_conference_date')}, rv.n,
       (SELECT MAX(f.n) FROM meeting_facts f WHERE f.case_id = c.id AND f.day < c.review_conference_date)
FROM cases c LEFT JOIN working_days ic ON ic.day = c.initial_conference_date
LEFT JOIN working_days rv ON rv.day = c.review_conference_date{cwhere}"""
    assert BEFORE_REVIEW  # counted from these (models/oversight.py)
    awhere = "" if all_cases else " AND ac.case_id IN :ids"
    actions = f"""
INSERT INTO action_facts (action_id, case_id, team_id, due_date, month, org, open, carried, times_carried)
SELECT ac.id, ac.case_id, c.team_id, ac.due_date, {q.month('ac.due_date')}, {_org('ow')},
       CASE WHEN ac.status = 'open' THEN 1 ELSE 0 END, CASE WHEN ac.carried_forward > 0 THEN 1 ELSE 0 END,
       ac.carried_forward
FROM actions ac JOIN members ow ON ow.id = ac.owner_member_id JOIN cases c ON c.id = ac.case_id
WHERE ac.status <> 'dropped' AND ac.due_date IS NOT NULL{awhere}"""
    return facts, attendance, cases, actions


FACT_TABLES = ("meeting_attendance_facts", "meeting_facts", "case_facts", "action_facts")


# --- the facts summed by workspace and day ------------------------------------------------------------------


@dataclass(frozen=True)
class Sums:
    """A table of facts summed by workspace, day and more (`keys`), kept by adding what changed: `rows` selects,
    from the facts of the cases `{where}` picks, each fact's keys, its month and what it adds to each count."""

    table: str
    keys: tuple[str, ...]
    counts: tuple[str, ...]
    rows: str

    def select(self, where: str) -> str:
        keys = ", ".join(self.keys)
        sums = ", ".join(f"SUM(r.{c})" for c in self.counts)
        return (f"SELECT {keys}, MIN(r.month) AS month, {sums} FROM ({self.rows.format(where=where)}) r"
                f" GROUP BY {keys}")


def _late_by() -> str:
    return "CASE WHEN f.seq > 1 AND f.due_n IS NOT NULL AND f.n > f.due_n THEN f.n - f.due_n ELSE 0 END"


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


@lru_cache(maxsize=1)
def _sums() -> tuple[Sums, ...]:
    from models.oversight import BEFORE_REVIEW, FAMILY_WITHIN, RECORD_WITHIN

    cases = ("first_cases", "first_on_time", "first_late", "first_days_late", "first_not_held", "reviews",
             "review_in_time", "review_too_close", "review_none")
    late = "f.first_held_n > f.first_due_n"
    last = "f.last_before_review_n"
    return (
        Sums("attendance_by_day", ("team_id", "day", "org"),
             ("present", "apologies_update", "apologies_only", "absent"),
             "SELECT f.team_id, f.day, f.org, f.month, f.present, f.apologies_update, f.apologies_only, f.absent"
             " FROM meeting_attendance_facts f WHERE {where}"),
        Sums("held_by_day", ("team_id", "day", "lead_org", "chair_org", "late_by"),
             ("meetings", "later", "record_on_time", "record_late", "family_on_time", "family_late",
              "family_not_given", "child_said", "child_why_not", "child_missing", "parents_said"),
             f"SELECT f.team_id, f.day, f.lead_org, f.chair_org, {_late_by()} AS late_by, f.month, 1 AS meetings,"
             f" {_flag('f.seq > 1 AND f.due_n IS NOT NULL')} AS later,"
             f" {_flag(f'f.posted_n - f.n <= {RECORD_WITHIN}')} AS record_on_time,"
             f" {_flag(f'f.posted_n - f.n > {RECORD_WITHIN}')} AS record_late,"
             f" {_flag(f'f.given_n - f.n <= {FAMILY_WITHIN}')} AS family_on_time,"
             f" {_flag(f'f.given_n - f.n > {FAMILY_WITHIN}')} AS family_late,"
             f" {_flag('f.given_n IS NULL')} AS family_not_given, f.child_said,"
             f" {_flag('f.child_said = 0 AND f.child_why_not = 1')} AS child_why_not,"
             f" {_flag('f.child_said = 0 AND f.child_why_not = 0')} AS child_missing, f.parents_said"
             " FROM meeting_facts f WHERE {where}"),
        Sums("cases_by_day", ("team_id", "day", "lead_org"), cases,
             f"SELECT f.team_id, f.initial_day AS day, f.lead_org, f.initial_month AS month, 1 AS first_cases,"
             f" {_flag('f.first_held_n <= f.first_due_n')} AS first_on_time, {_flag(late)} AS first_late,"
             f" CASE WHEN {late} THEN f.first_held_n - f.first_due_n ELSE 0 END AS first_days_late,"
             f" {_flag('f.first_held_n IS NULL')} AS first_not_held, 0 AS reviews, 0 AS review_in_time,"
             " 0 AS review_too_close, 0 AS review_none"
             " FROM case_facts f WHERE f.first_due_n IS NOT NULL AND {where}"
             " UNION ALL"
             " SELECT f.team_id, f.review_day, f.lead_org, f.review_month, 0, 0, 0, 0, 0, 1,"
             f" {_flag(f'{last} <= f.review_n - {BEFORE_REVIEW}')}, {_flag(f'{last} > f.review_n - {BEFORE_REVIEW}')},"
             f" {_flag(f'{last} IS NULL')}"
             " FROM case_facts f WHERE f.review_n IS NOT NULL AND {where}"),
        Sums("actions_by_day", ("team_id", "day", "org"), ("actions", "open", "carried", "times_carried"),
             "SELECT f.team_id, f.due_date AS day, f.org, f.month, 1 AS actions, f.open, f.carried, f.times_carried"
             " FROM action_facts f WHERE {where}"),
    )


SUM_TABLES = ("attendance_by_day", "held_by_day", "cases_by_day", "actions_by_day")
BUILT = "facts_built"  # which rules and timezone built the facts (ensure_current)


def _sums_of(session: Session, spec: Sums, params: dict) -> dict[tuple, tuple[str, list[int]]]:
    """These cases' facts summed as `spec` sums them: key → (month, counts)."""
    rows = session.execute(text(spec.select("f.case_id IN :ids")).bindparams(bindparam("ids", expanding=True)),
                           params)
    width = len(spec.keys)
    return {tuple(row[:width]): (row[width], [int(v or 0) for v in row[width + 1:]]) for row in rows}


def _apply(session: Session, spec: Sums, before: dict, after: dict) -> None:
    """Add to the sums what changed (after minus before), key by key in one order (so two transactions adding to
    the same days lock them in the same order and cannot deadlock), and take away rows left at nought."""
    changes = []
    zero = [0] * len(spec.counts)
    for key in sorted(set(before) | set(after), key=lambda k: tuple(str(v) for v in k)):
        month, old = before.get(key, (None, zero))
        month, new = after.get(key, (month, zero))
        delta = [n - o for n, o in zip(new, old, strict=True)]
        if any(delta):
            changes.append(dict(zip(spec.keys, key, strict=True)) | {"month": month}
                           | dict(zip(spec.counts, delta, strict=True)))
    if not changes:
        return
    keys, counts = ", ".join(spec.keys), ", ".join(spec.counts)
    values = ", ".join(f":{c}" for c in (*spec.keys, "month", *spec.counts))
    updates = ", ".join(f"{c} = {spec.table}.{c} + excluded.{c}" for c in spec.counts)
    session.execute(text(f"INSERT INTO {spec.table} ({keys}, month, {counts}) VALUES ({values})"
                         f" ON CONFLICT ({keys}) DO UPDATE SET {updates}"), changes)
    match = " AND ".join(f"{k} = :{k}" for k in spec.keys)
    session.execute(text(f"DELETE FROM {spec.table} WHERE {match} AND {' + '.join(spec.counts)} = 0"), changes)


def _timezone() -> str:
    from models import reminders

    return reminders.policy().calendar.timezone


# What is worked out again for a case, by what changed: its meetings (and records, attendance, updates, family
# hand-overs; with the case facts that come from them) or its actions. Each: the facts tables, which of _sql's
# statements fill them, and which sums are kept from them.
MEETINGS, ACTIONS = "meetings", "actions"
EVERYTHING = (MEETINGS, ACTIONS)
_PARTS = {MEETINGS: (("meeting_attendance_facts", "meeting_facts", "case_facts"), (0, 1, 2),
                     ("attendance_by_day", "held_by_day", "cases_by_day")),
          ACTIONS: (("action_facts",), (3,), ("actions_by_day",))}


def _lock(session: Session, ids: list[int]) -> None:
    """One transaction at a time works out a case's facts (PostgreSQL; SQLite has one writer), taking the cases in
    one order so that two transactions cannot deadlock."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT id FROM cases WHERE id IN :ids ORDER BY id FOR UPDATE")
                        .bindparams(bindparam("ids", expanding=True)), {"ids": ids})


def refresh(session: Session, case_ids: Iterable[int], parts: Iterable[str] = EVERYTHING) -> None:
    """Work out again these cases' facts (their meetings', their actions' or both), in the session's
    transaction."""
    from models.oversight import fill_calendar

    ids = sorted({int(i) for i in case_ids if i is not None})
    if not ids:
        return
    fill_calendar(session)
    dialect = session.get_bind().dialect.name
    params = {"ids": ids, "tz": _timezone()}
    _lock(session, ids)
    statements = _sql(dialect, all_cases=False)
    for part in EVERYTHING:
        if part not in parts:
            continue
        tables, which, sums = _PARTS[part]
        specs = [spec for spec in _sums() if spec.table in sums]
        before = [_sums_of(session, spec, params) for spec in specs]
        for statement in (*(f"DELETE FROM {table} WHERE case_id IN :ids" for table in tables),
                          *(statements[i] for i in which)):
            session.execute(text(statement).bindparams(bindparam("ids", expanding=True)), params)
        for spec, old in zip(specs, before, strict=True):
            _apply(session, spec, old, _sums_of(session, spec, params))


def rebuild(session: Session) -> int:
    """Work out every case's facts from scratch (in the session's transaction); returns how many meetings."""
    from models.oversight import fill_calendar

    fill_calendar(session)
    dialect = session.get_bind().dialect.name
    tables = (*SUM_TABLES, *FACT_TABLES)
    if dialect == "postgresql":
        session.execute(text(f"LOCK TABLE {', '.join(tables)} IN EXCLUSIVE MODE"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    for table in tables:
        session.execute(text(f"DELETE FROM {table}"))
    params = {"tz": _timezone()}
    statements = _sql(dialect, all_cases=True)
    count = session.execute(text(statements[0]), params).rowcount
    for statement in statements[1:]:
        session.execute(text(statement), params)
    for spec in _sums():
        keys, counts = ", ".join(spec.keys), ", ".join(spec.counts)
        session.execute(text(f"INSERT INTO {spec.table} ({keys}, month, {counts}) {spec.select('1 = 1')}"))
    for table in tables:  # the planner's statistics (both databases)
        session.execute(text(f"ANALYZE {table}"))
    session.execute(text("DELETE FROM facts_built"))
    session.execute(text("INSERT INTO facts_built (id, version, timezone, built_at) VALUES (1, :v, :tz, :at)"),
                    {"v": FACTS_VERSION, "tz": params["tz"], "at": datetime.now(UTC).replace(tzinfo=None)})
    return count


def ensure_current(engine) -> bool:
    """Work the facts out again if they were worked out by other rules or in another timezone than the running
    code's (after an upgrade, or when COREGROUP_TIMEZONE changed); True if they were. Two instances starting at
    once: the second waits for the first's lock, then finds them current."""
    from sqlmodel import Session as SqlSession

    with SqlSession(engine) as session:
        if _current(session):
            return False
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("LOCK TABLE facts_built IN EXCLUSIVE MODE"))
            if _current(session):
                return False
        count = rebuild(session)
        session.commit()
    log.info("oversight facts worked out again (rules version %s): %d held core groups", FACTS_VERSION, count)
    return True


def _current(session: Session) -> bool:
    row = session.execute(text("SELECT version, timezone FROM facts_built WHERE id = 1")).first()
    return row is not None and row[0] == FACTS_VERSION and row[1] == _timezone()


def touch(session: Session, *, case_id: int | None = None, meeting_id: int | None = None,
          parts: tuple[str, ...] = (MEETINGS,)) -> None:
    """Note a case (or a meeting's case) whose facts a bulk UPDATE may have changed: refreshed before commit."""
    if case_id is not None:
        session.info.setdefault(_PENDING, {}).setdefault(case_id, set()).update(parts)
    if meeting_id is not None:
        session.info.setdefault(_MEETINGS, set()).add(meeting_id)


def note(session: Session, obj: object, *, deleted: bool = False) -> None:
    """Note the case of a changed row, if the facts come from rows of its kind (models.db.change_once calls this
    for its single conditional UPDATEs, which the flush hooks do not see). A meeting, its attendance and its
    written updates count only once the meeting is held (its record posted, which notes the case itself), so
    their changes before then (most of them) work nothing out again."""
    from models.tables import Action, Attendance, Case, FamilyHandover, Meeting, Member, Recap, Update

    if isinstance(obj, Case):
        touch(session, case_id=obj.id, parts=EVERYTHING)
    elif isinstance(obj, Member):  # their organisation: of their attendance, their actions, the chair, the lead
        touch(session, case_id=obj.case_id, parts=EVERYTHING)
    elif isinstance(obj, Action):
        touch(session, case_id=obj.case_id, parts=(ACTIONS,))
    elif isinstance(obj, FamilyHandover) or (isinstance(obj, Meeting) and deleted):
        touch(session, case_id=obj.case_id)
    elif isinstance(obj, Recap) or (isinstance(obj, Attendance | Update) and deleted):
        touch(session, meeting_id=obj.meeting_id)
    elif isinstance(obj, Meeting):
        session.info.setdefault(_IF_HELD, set()).add(obj.id)
    elif isinstance(obj, Attendance | Update):
        session.info.setdefault(_IF_HELD, set()).add(obj.meeting_id)


@event.listens_for(Session, "after_flush")
def _noted(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty):
        note(session, obj)
    for obj in session.deleted:
        note(session, obj, deleted=True)


_PENDING_KEYS = (_PENDING, _MEETINGS, _IF_HELD)


@event.listens_for(Session, "before_commit")
def _refresh_noted(session: Session) -> None:
    session.flush()  # what the commit would flush may note cases
    if not any(session.info.get(key) for key in _PENDING_KEYS):
        return
    cases: dict[int, set[str]] = session.info.pop(_PENDING, {})
    meetings = session.info.pop(_MEETINGS, set())
    if_held = session.info.pop(_IF_HELD, set())
    found: list[int] = []
    if meetings:
        found += session.execute(text("SELECT case_id FROM meetings WHERE id IN :ids")
                                 .bindparams(bindparam("ids", expanding=True)), {"ids": sorted(meetings)}
                                 ).scalars().all()
    if if_held - meetings:
        found += session.execute(text("SELECT case_id FROM meetings m WHERE m.id IN :ids AND EXISTS"
                                      " (SELECT 1 FROM recaps r WHERE r.meeting_id = m.id AND r.status = 'posted')")
                                 .bindparams(bindparam("ids", expanding=True)), {"ids": sorted(if_held - meetings)}
                                 ).scalars().all()
    for case_id in found:
        cases.setdefault(case_id, set()).add(MEETINGS)
    if not cases:
        return
    _lock(session, sorted(cases))
    for part in EVERYTHING:  # the parts, and so the sums' rows, always in one order: no deadlock between two
        ids = [case_id for case_id, parts in cases.items() if part in parts]
        if ids:
            refresh(session, ids, (part,))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    for key in _PENDING_KEYS:
        session.info.pop(key, None)
