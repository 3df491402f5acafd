"""Per-meeting facts for oversight (issue 14), kept up to date in the same transaction as the change.

`meeting_facts` holds one narrow row per held core group (a posted record): its day and working-day number, its
place among the case's held core groups, when the agreed interval after the one before ran out, when the record
was posted and the family version first given (as working-day numbers), what the record says of the child's and
the parents' views, and the organisations of the chair and of the lead social worker. `meeting_attendance_facts`
holds, for each held core group, the attendance counted by organisation. The measures (models/oversight.py) are
then indexed GROUP BYs over these rows instead of joins over meetings, records, attendance, updates and members.

Kept true by session hooks: whenever a flush writes a case, member, meeting, record, attendance, update or family
handover, the case is noted; just before that transaction commits, the facts of the noted cases are worked out
again from scratch (one INSERT ... SELECT each, a few rows per case), inside the same transaction. Changes made by
a bulk UPDATE statement rather than through objects call `touch`. `rebuild` works out every case's facts
(`coregroup oversight rebuild`), with the same statements, so the two can never disagree.

Days are the UTC date of the booked start, as the measures have always counted them.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, event, text
from sqlalchemy.orm import Session

_PENDING = "meeting_facts_cases"
_MEETINGS = "meeting_facts_meetings"


def _sql(dialect: str, *, all_cases: bool) -> tuple[str, str]:
    from models.oversight import FAMILY, NO_ORGANISATION, _org, _Sql

    q = _Sql(dialect)
    where = "" if all_cases else " AND m.case_id IN :ids"
    doc, lateral = ("rj.doc", " CROSS JOIN LATERAL (SELECT CAST(rr.content AS jsonb) AS doc) rj") if q.pg \
        else ("rr.content", "")
    # (a correlated look-up by the members' case index: SQLite would scan a grouped subquery for every row)
    lead = f"SELECT MIN({_org('lm')}) FROM members lm WHERE lm.case_id = x.case_id AND lm.is_lead"
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
    SELECT m.id AS meeting_id, m.case_id, {q.day('m.scheduled_start')} AS day,
           {q.month('m.scheduled_start')} AS month, MIN(r.posted_at) AS posted_at, MAX(r.id) AS recap_id,
           COALESCE(m.chaired_by_member_id, m.chair_member_id) AS chair_id, c.frequency_weeks, c.team_id
    FROM meetings m JOIN recaps r ON r.meeting_id = m.id AND r.status = 'posted' JOIN cases c ON c.id = m.case_id
    WHERE 1 = 1{where}
    GROUP BY m.id, m.case_id, m.scheduled_start, m.chaired_by_member_id, m.chair_member_id, c.frequency_weeks, c.team_id
  ) h JOIN working_days wd ON wd.day = h.day JOIN recaps rr ON rr.id = h.recap_id{lateral}
) x
JOIN working_days wp ON wp.day = {q.day('x.posted_at')}
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
    return facts, attendance


_COUNTS = ("present", "apologies_update", "apologies_only", "absent")


def _add_by_day(session: Session, *, where: str, params: dict) -> None:
    """Add these cases' attendance facts to attendance_by_day (for the rebuild: all at once)."""
    sums = ", ".join(f"SUM(f.{c})" for c in _COUNTS)
    session.execute(text(f"INSERT INTO attendance_by_day (team_id, day, org, month, {', '.join(_COUNTS)})"
                         f" SELECT f.team_id, f.day, f.org, MIN(f.month), {sums} FROM meeting_attendance_facts f"
                         f" WHERE {where} GROUP BY f.team_id, f.day, f.org"), params)


def _by_day_of(session: Session, params: dict) -> dict[tuple, list[int]]:
    """These cases' attendance facts summed by workspace, day (with its month) and organisation."""
    sums = ", ".join(f"SUM(f.{c})" for c in _COUNTS)
    rows = session.execute(text(f"SELECT f.team_id, f.day, f.org, f.month, {sums} FROM meeting_attendance_facts f"
                                " WHERE f.case_id IN :ids GROUP BY f.team_id, f.day, f.org, f.month")
                           .bindparams(bindparam("ids", expanding=True)), params)
    return {tuple(row[:4]): [int(v or 0) for v in row[4:]] for row in rows}


def _apply_by_day(session: Session, before: dict[tuple, list[int]], after: dict[tuple, list[int]]) -> None:
    """Add to attendance_by_day what changed (after minus before), key by key in one order (so two transactions
    adding to the same days lock them in the same order and cannot deadlock), and take away days left at nought."""
    changes = []
    for key in sorted(set(before) | set(after), key=lambda k: (k[0], str(k[1]), k[2])):
        old, new = before.get(key, [0] * len(_COUNTS)), after.get(key, [0] * len(_COUNTS))
        delta = [n - o for n, o in zip(new, old, strict=True)]
        if any(delta):
            changes.append(dict(zip(("team_id", "day", "org", "month"), key, strict=True))
                           | dict(zip(_COUNTS, delta, strict=True)))
    if not changes:
        return
    columns = ", ".join(_COUNTS)
    values = ", ".join(f":{c}" for c in _COUNTS)
    updates = ", ".join(f"{c} = attendance_by_day.{c} + excluded.{c}" for c in _COUNTS)
    session.execute(text(f"INSERT INTO attendance_by_day (team_id, day, org, month, {columns})"
                         f" VALUES (:team_id, :day, :org, :month, {values})"
                         f" ON CONFLICT (team_id, day, org) DO UPDATE SET {updates}"), changes)
    session.execute(text("DELETE FROM attendance_by_day WHERE team_id = :team_id AND day = :day AND org = :org"
                         f" AND {' + '.join(_COUNTS)} = 0"), changes)


def refresh(session: Session, case_ids: Iterable[int]) -> None:
    """Work out again the facts of these cases, in the session's transaction."""
    from models.oversight import fill_calendar

    ids = sorted({int(i) for i in case_ids if i is not None})
    if not ids:
        return
    fill_calendar(session)
    dialect = session.get_bind().dialect.name
    params = {"ids": ids}
    if dialect == "postgresql":  # one transaction at a time works out a case's facts
        session.execute(text("SELECT id FROM cases WHERE id IN :ids ORDER BY id FOR UPDATE")
                        .bindparams(bindparam("ids", expanding=True)), params)
    facts, attendance = _sql(dialect, all_cases=False)
    before = _by_day_of(session, params)
    for statement in ("DELETE FROM meeting_attendance_facts WHERE case_id IN :ids",
                      "DELETE FROM meeting_facts WHERE case_id IN :ids", facts, attendance):
        session.execute(text(statement).bindparams(bindparam("ids", expanding=True)), params)
    _apply_by_day(session, before, _by_day_of(session, params))


def rebuild(session: Session) -> int:
    """Work out every case's facts from scratch (in the session's transaction); returns how many meetings."""
    from models.oversight import fill_calendar

    fill_calendar(session)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("LOCK TABLE meeting_facts, meeting_attendance_facts, attendance_by_day"
                             " IN EXCLUSIVE MODE"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    for table in ("attendance_by_day", "meeting_attendance_facts", "meeting_facts"):
        session.execute(text(f"DELETE FROM {table}"))
    facts, attendance = _sql(dialect, all_cases=True)
    count = session.execute(text(facts)).rowcount
    session.execute(text(attendance))
    _add_by_day(session, where="1 = 1", params={})
    session.execute(text("ANALYZE meeting_facts"))  # the planner's statistics (both databases)
    session.execute(text("ANALYZE meeting_attendance_facts"))
    session.execute(text("ANALYZE attendance_by_day"))
    return count


def touch(session: Session, *, case_id: int | None = None, meeting_id: int | None = None) -> None:
    """Note a case (or a meeting's case) whose facts a bulk UPDATE may have changed: refreshed before commit."""
    if case_id is not None:
        session.info.setdefault(_PENDING, set()).add(case_id)
    if meeting_id is not None:
        session.info.setdefault(_MEETINGS, set()).add(meeting_id)


def note(session: Session, obj: object) -> None:
    """Note the case of a changed row, if the facts come from rows of its kind (models.db.change_once calls this
    for its single conditional UPDATEs, which the flush hooks do not see)."""
    from models.tables import Attendance, Case, FamilyHandover, Meeting, Member, Recap, Update

    if isinstance(obj, Case):
        touch(session, case_id=obj.id)
    elif isinstance(obj, Meeting | Member | FamilyHandover):
        touch(session, case_id=obj.case_id)
    elif isinstance(obj, Recap | Attendance | Update):
        touch(session, meeting_id=obj.meeting_id)


@event.listens_for(Session, "after_flush")
def _noted(session: Session, _context) -> None:
    for obj in (*session.new, *session.dirty, *session.deleted):
        note(session, obj)


@event.listens_for(Session, "before_commit")
def _refresh_noted(session: Session) -> None:
    session.flush()  # what the commit would flush may note cases
    if not (session.info.get(_PENDING) or session.info.get(_MEETINGS)):
        return
    cases = session.info.pop(_PENDING, set())
    meetings = session.info.pop(_MEETINGS, set())
    if meetings:
        cases |= set(session.execute(text("SELECT case_id FROM meetings WHERE id IN :ids")
                                     .bindparams(bindparam("ids", expanding=True)), {"ids": sorted(meetings)})
                     .scalars())
    refresh(session, cases)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)
    session.info.pop(_MEETINGS, None)
