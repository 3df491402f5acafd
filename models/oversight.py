"""Oversight across cases (issue 14): the measures, counted by the database.

Every figure is one SQL statement with GROUP BY over the cases a person may see (models/staff.py), so the
work is the database's, not a Python loop over rows. Working days come from the `working_days` table: each
date numbered by the working days (England and Wales: weekends and bank holidays skipped, from
models/calendar.py) since 1 January 2000, so "how many working days between" is a subtraction.

A meeting counts as *held* only when its record (recap) is posted. Its day is the day it was scheduled for.
The measures, in plain words, are in MEASURES below (and in the README and the workbook's definitions sheet).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models.calendar import WorkingCalendar
from models.tables import FAMILY_ROLES, WorkingDay
from models.types import UTCDateTime

EPOCH = date(2000, 1, 1)
ONE_DAY = timedelta(days=1)
CALENDAR_END = date(2045, 12, 31)
FIRST_WITHIN = 10
RECORD_WITHIN = 1
FAMILY_WITHIN = 5
BEFORE_REVIEW = 10
BY = ("month", "organisation", "team")
NO_TEAM = "No team named"
NO_ORGANISATION = "Organisation not given"
FAMILY = "Family"

_fill_lock = threading.Lock()


def ensure_calendar(session: Session, calendar: WorkingCalendar | None = None) -> None:
    """Fill the working_days table if it is not filled (one indexed look-up when it is; idempotent, and safe for
    two processes at once), and commit."""
    if fill_calendar(session, calendar):
        session.commit()


def fill_calendar(session: Session, calendar: WorkingCalendar | None = None) -> bool:
    """Fill the working_days table in the session's transaction if it is not filled; True if it was filled now."""
    last = select(WorkingDay.n).where(WorkingDay.day == CALENDAR_END)
    if session.execute(last).first() is not None:
        return False
    with _fill_lock:
        rows = _numbered_days(calendar or WorkingCalendar())
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        # the table, not the entity: one plain many-row insert, without the ORM's bookkeeping for each row
        session.execute(insert(WorkingDay.__table__).on_conflict_do_nothing(index_elements=["day"]), rows)
        return True


@lru_cache(maxsize=4)
def _numbered_days(cal: WorkingCalendar) -> list[dict]:
    """Every day of the table, numbered by the working days since EPOCH (worked out once per process)."""
    rows, n = [], 0
    for day, working in cal.days_from(EPOCH, CALENDAR_END):
        n += working
        rows.append({"day": day, "n": n, "working": working})
    return rows


# --- the measures, in plain words -----------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    label: str


@dataclass(frozen=True)
class MeasureDef:
    key: str
    title: str
    definition: str
    columns: tuple[Column, ...]
    per_organisation: bool = False  # counted for each organisation as well as each group


MEASURES: tuple[MeasureDef, ...] = (
    MeasureDef("first_meeting", "First core group on time",
               "Of the children whose initial conference was in the period: how many had their first core group"
               " within 10 working days of the conference, how many had it later (and how many working days"
               " late in all), and how many have not had it yet though the 10 days have passed.",
               (Column("cases", "Initial conferences"), Column("on_time", "On time"), Column("late", "Late"),
                Column("days_late", "Working days late in all"), Column("overdue", "Not held, overdue"),
                Column("not_yet_due", "Not held, not yet due"))),
    MeasureDef("later_meetings", "Later core groups within the agreed interval",
               "Every core group after the first, held in the period: whether it was held within the agreed"
               " interval (every so many weeks) after the one before, and if not, how many working days late.",
               (Column("meetings", "Meetings"), Column("on_time", "On time"), Column("late", "Late"),
                Column("days_late", "Working days late in all"), Column("most_late", "Most working days late"))),
    MeasureDef("before_review", "Last core group before the review conference",
               "Of the review conferences in the period (up to today): whether the last core group before it was"
               " held at least 10 working days before it, closer to it, or not at all.",
               (Column("reviews", "Review conferences"), Column("in_time", "At least 10 working days before"),
                Column("too_close", "Closer than 10 working days"), Column("none", "No core group held"))),
    MeasureDef("records", "Record and family version on time",
               "For each core group held in the period: whether its record was posted within 1 working day of"
               " the meeting, and whether the family's version was given to the family within 5 working days.",
               (Column("meetings", "Meetings held"), Column("record_on_time", "Record within 1 working day"),
                Column("record_late", "Record later"), Column("family_on_time", "Family version within 5 days"),
                Column("family_late", "Family version later"), Column("family_overdue", "Family version not given,"
                                                                                        " overdue"),
                Column("family_not_yet_due", "Family version not yet due"))),
    MeasureDef("child_views", "The child's views",
               "For each core group held in the period: whether the record holds the child's views, or says why"
               " they were not obtained, or neither.",
               (Column("meetings", "Meetings held"), Column("obtained", "Views obtained"),
                Column("why_not", "Not obtained, reason given"), Column("missing", "Neither"))),
    MeasureDef("parents_views", "The parents' views",
               "For each core group held in the period: whether the record holds the parents' views.",
               (Column("meetings", "Meetings held"), Column("recorded", "Recorded"),
                Column("missing", "Not recorded"))),
    MeasureDef("attendance", "Attendance by organisation",
               "For each core group held in the period, each invited person by their organisation (family"
               " members together as Family): present, sent apologies with a written update, sent apologies"
               " without one, or absent without apologies.",
               (Column("present", "Present"), Column("apologies_update", "Apologies with written update"),
                Column("apologies_only", "Apologies without update"), Column("absent", "Absent")),
               per_organisation=True),
    MeasureDef("actions", "Actions overdue and carried forward",
               "Actions due in the period, by the organisation of the person who owns them: how many are still"
               " open after their due date, and how many were carried forward from one meeting to the next"
               " (and how many times in all).",
               (Column("actions", "Actions due"), Column("overdue", "Overdue"),
                Column("carried", "Carried forward"), Column("times_carried", "Times carried forward")),
               per_organisation=True),
    MeasureDef("left_open", "Meetings left open",
               "Core groups in the period that were started but never ended with a record, and were closed by"
               " CoreGroup after 2 working days.",
               (Column("meetings", "Meetings left open"),)),
    MeasureDef("lapses", "Lapse escalations sent",
               "Times in the period the case channel and the managers were told that a group had not met"
               " within its agreed interval.",
               (Column("escalations", "Escalations sent"),)),
    MeasureDef("chairing", "Chairing shared",
               "Core groups held in the period, by the organisation of the person who chaired them.",
               (Column("meetings", "Meetings chaired"),), per_organisation=True),
)
MEASURE_BY_KEY = {m.key: m for m in MEASURES}


@dataclass
class Table:
    measure: MeasureDef
    group_label: str
    by_organisation: bool = False  # each row is also for one organisation
    rows: list[dict] = field(default_factory=list)  # each: group, [organisation], then the columns' keys

    def total(self, key: str) -> int:
        return sum(int(row.get(key) or 0) for row in self.rows)


@dataclass
class Report:
    start: date
    end: date
    by: str
    tables: list[Table]

    def table(self, key: str) -> Table:
        return next(t for t in self.tables if t.measure.key == key)


# --- SQL -------------------------------------------------------------------------------------------------


class _Sql:
    def __init__(self, dialect: str):
        self.pg = dialect == "postgresql"

    def day(self, expr: str) -> str:
        return f"CAST({expr} AS date)" if self.pg else f"date({expr})"

    def local_day(self, expr: str) -> str:
        """The day a stored (naive UTC) moment falls on in the app's timezone, bound as `:tz`."""
        if self.pg:
            return f"CAST(({expr} AT TIME ZONE 'UTC') AT TIME ZONE :tz AS date)"
        return f"cg_local_day({expr}, :tz)"

    def month(self, expr: str) -> str:
        return f"to_char({expr}, 'YYYY-MM')" if self.pg else f"strftime('%Y-%m', {expr})"

    def plus_days(self, day: str, days: str) -> str:
        return f"({day} + ({days}))" if self.pg else f"date({day}, '+' || ({days}) || ' days')"

    def json_text(self, expr: str, *path: str) -> str:
        """Text at `path` in a JSON document (`expr`: a jsonb value on PostgreSQL, parsed once per row)."""
        if self.pg:
            inner = "".join(f" -> '{p}'" for p in path[:-1])
            return f"COALESCE(TRIM({expr}{inner} ->> '{path[-1]}'), '')"
        return f"COALESCE(TRIM(json_extract({expr}, '$.{'.'.join(path)}')), '')"


def _family_roles() -> str:
    return ", ".join("'" + role.replace("'", "''") + "'" for role in FAMILY_ROLES)


def _org(alias: str) -> str:
    return (f"CASE WHEN {alias}.role IN ({_family_roles()}) THEN '{FAMILY}'"
            f" ELSE COALESCE(NULLIF(TRIM({alias}.agency), ''), '{NO_ORGANISATION}') END")


# Scopes that are whole workspaces (service managers, analysts) or everything (`coregroup report`): filtered by
# the workspace id kept on the facts, not by joining a list of every case id.
ALL_CASES = "SELECT id FROM cases"
WORKSPACE = "SELECT id FROM cases WHERE team_id = :st"
_KIND = "oversight_scope_kind"


def _kind(scope_sql: str) -> str:
    return {ALL_CASES: "all", WORKSPACE: "workspace"}.get(scope_sql.strip(), "cases")


_CASE_TEAM = """
case_team AS (
  SELECT DISTINCT tm.case_id, ts.team_name FROM members tm
  JOIN staff_roles ts ON ts.slack_team_id = tm.manager_team_id AND ts.slack_user_id = tm.manager_user_id
   AND ts.role = 'team-manager' AND ts.team_name IS NOT NULL
  WHERE tm.is_lead
)"""
_PREPARED = "oversight_prepared"


def _ctes(session: Session) -> str:
    """The common table expressions every oversight statement starts with: the cases in scope (from the indexed
    temporary table that `prepared` made, or the workspace's or everyone's), and each case's teams."""
    assert session.info.get(_PREPARED), "oversight statements run inside prepared()"
    scope = {"all": ALL_CASES, "workspace": WORKSPACE}.get(session.info[_KIND], "SELECT case_id FROM ox_scope")
    return f"scope(case_id) AS ({scope}),{_CASE_TEAM}"


@contextmanager
def prepared(session: Session, scope: tuple[str, dict]) -> Iterator[None]:
    """For the statements run inside it: the cases in scope as an indexed temporary table (dropped afterwards),
    worked out once per report."""
    ensure_calendar(session)
    q = _Sql(session.get_bind().dialect.name)
    if session.info.get(_PREPARED):
        yield
        return
    schema = "pg_temp" if q.pg else "temp"
    if q.pg:
        # For this transaction only: compiling these statements (JIT) costs more than running them, and the
        # grouping sorts fit in memory instead of spilling to disk.
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    kind = _kind(scope[0])
    drop = f"DROP TABLE IF EXISTS {schema}.ox_scope"
    if kind == "cases":
        session.execute(text(drop))
        session.execute(text("CREATE TEMP TABLE ox_scope(case_id INTEGER PRIMARY KEY)"))
        session.execute(text(f"INSERT INTO ox_scope SELECT DISTINCT * FROM ({scope[0]}) s"), scope[1])
        if q.pg:  # a temporary table has no statistics until it is analysed
            session.execute(text("ANALYZE ox_scope"))
    session.info[_KIND] = kind
    session.info[_PREPARED] = True
    try:
        yield
    finally:
        session.info.pop(_PREPARED, None)
        session.info.pop(_KIND, None)
        if kind == "cases":
            session.execute(text(drop))


def _in_scope(kind: str, alias: str, *, team: bool = True, key: str = "case_id") -> str:
    """The condition that a row of `alias` is in scope (`team`: the row carries its workspace's team_id)."""
    if kind == "all":
        return "1 = 1"
    if kind == "workspace" and team:
        return f"{alias}.team_id = :st"
    return f"{alias}.{key} IN (SELECT case_id FROM scope)"


_FIRST_SUMS = """
COUNT(*) AS cases,
SUM(CASE WHEN b.held_n IS NOT NULL AND b.held_n <= b.due_n THEN 1 ELSE 0 END) AS on_time,
SUM(CASE WHEN b.held_n > b.due_n THEN 1 ELSE 0 END) AS late,
SUM(CASE WHEN b.held_n > b.due_n THEN b.held_n - b.due_n ELSE 0 END) AS days_late,
SUM(CASE WHEN b.held_n IS NULL AND b.due_n < :today_n THEN 1 ELSE 0 END) AS overdue,
SUM(CASE WHEN b.held_n IS NULL AND b.due_n >= :today_n THEN 1 ELSE 0 END) AS not_yet_due"""


def _fact_bases(q: _Sql, *, kind: str) -> dict[str, tuple[str, str]]:
    """Each measure from the facts of each case, meeting and action: (the SELECT of its rows: case_id, month, org,
    facts), (the sums over them). For a team manager's or a chair's cases, and for grouping by team."""
    lead_org = f"COALESCE(lf.lead_org, '{NO_ORGANISATION}')"

    def lead_join(alias: str) -> str:
        return f"LEFT JOIN case_facts lf ON lf.case_id = {alias}.case_id"

    in_scope = _in_scope(kind, "h")
    f_in_scope = _in_scope(kind, "f")
    return {
        "first_meeting": (f"""
SELECT f.case_id, f.initial_month AS month, f.lead_org AS org, f.first_due_n AS due_n, f.first_held_n AS held_n
FROM case_facts f
WHERE {f_in_scope} AND f.first_due_n IS NOT NULL AND f.initial_day BETWEEN :start AND :end""", _FIRST_SUMS),
        "later_meetings": (f"""
SELECT h.case_id, h.month, h.lead_org AS org, h.n AS held_n, h.due_n
FROM meeting_facts h
WHERE {in_scope} AND h.seq > 1 AND h.due_n IS NOT NULL AND h.day BETWEEN :start AND :end""", """
COUNT(*) AS meetings,
SUM(CASE WHEN b.held_n <= b.due_n THEN 1 ELSE 0 END) AS on_time,
SUM(CASE WHEN b.held_n > b.due_n THEN 1 ELSE 0 END) AS late,
SUM(CASE WHEN b.held_n > b.due_n THEN b.held_n - b.due_n ELSE 0 END) AS days_late,
MAX(CASE WHEN b.held_n > b.due_n THEN b.held_n - b.due_n ELSE 0 END) AS most_late"""),
        "before_review": (f"""
SELECT f.case_id, f.review_month AS month, f.lead_org AS org, f.review_n, f.last_before_review_n AS last_n
FROM case_facts f
WHERE {f_in_scope} AND f.review_n IS NOT NULL AND f.review_day BETWEEN :start AND :end
  AND f.review_day <= :today""", f"""
COUNT(*) AS reviews,
SUM(CASE WHEN b.last_n <= b.review_n - {BEFORE_REVIEW} THEN 1 ELSE 0 END) AS in_time,
SUM(CASE WHEN b.last_n > b.review_n - {BEFORE_REVIEW} THEN 1 ELSE 0 END) AS too_close,
SUM(CASE WHEN b.last_n IS NULL THEN 1 ELSE 0 END) AS "none\""""),
        "records": (f"""
SELECT h.case_id, h.month, h.lead_org AS org, h.n AS held_n, h.posted_n, h.given_n
FROM meeting_facts h
WHERE {in_scope} AND h.day BETWEEN :start AND :end""", f"""
COUNT(*) AS meetings,
SUM(CASE WHEN b.posted_n - b.held_n <= {RECORD_WITHIN} THEN 1 ELSE 0 END) AS record_on_time,
SUM(CASE WHEN b.posted_n - b.held_n > {RECORD_WITHIN} THEN 1 ELSE 0 END) AS record_late,
SUM(CASE WHEN b.given_n - b.held_n <= {FAMILY_WITHIN} THEN 1 ELSE 0 END) AS family_on_time,
SUM(CASE WHEN b.given_n - b.held_n > {FAMILY_WITHIN} THEN 1 ELSE 0 END) AS family_late,
SUM(CASE WHEN b.given_n IS NULL AND :today_n - b.held_n > {FAMILY_WITHIN} THEN 1 ELSE 0 END) AS family_overdue,
SUM(CASE WHEN b.given_n IS NULL AND :today_n - b.held_n <= {FAMILY_WITHIN} THEN 1 ELSE 0 END)
  AS family_not_yet_due"""),
        "child_views": (f"""
SELECT h.case_id, h.month, h.lead_org AS org, h.child_said AS said, h.child_why_not AS why_not
FROM meeting_facts h
WHERE {in_scope} AND h.day BETWEEN :start AND :end""", """
COUNT(*) AS meetings,
SUM(b.said) AS obtained,
SUM(CASE WHEN b.said = 0 AND b.why_not = 1 THEN 1 ELSE 0 END) AS why_not,
SUM(CASE WHEN b.said = 0 AND b.why_not = 0 THEN 1 ELSE 0 END) AS missing"""),
        "parents_views": (f"""
SELECT h.case_id, h.month, h.lead_org AS org, h.parents_said AS said
FROM meeting_facts h
WHERE {in_scope} AND h.day BETWEEN :start AND :end""", """
COUNT(*) AS meetings,
SUM(b.said) AS recorded,
SUM(1 - b.said) AS missing"""),
        "attendance": (f"""
SELECT h.case_id, h.month, h.org, h.present, h.apologies_update, h.apologies_only, h.absent
FROM meeting_attendance_facts h
WHERE {in_scope} AND h.day BETWEEN :start AND :end""", _ATTENDANCE_SUMS),
        "actions": (f"""
SELECT f.case_id, f.month, f.org, f.open, f.due_date, f.carried, f.times_carried
FROM action_facts f
WHERE {f_in_scope} AND f.due_date BETWEEN :start AND :end""", """
COUNT(*) AS actions,
SUM(CASE WHEN b.open = 1 AND b.due_date < :today THEN 1 ELSE 0 END) AS overdue,
SUM(b.carried) AS carried,
SUM(b.times_carried) AS times_carried"""),
        "left_open": (f"""
SELECT m.case_id, {q.month(q.local_day('m.scheduled_start'))} AS month, {lead_org} AS org
FROM meetings m {lead_join('m')}
WHERE {_in_scope(kind, 'm', team=False)} AND m.status = 'ended_without_record'
  AND m.scheduled_start >= :start_at AND m.scheduled_start < :end_at""", """
COUNT(*) AS meetings"""),
        "lapses": (f"""
SELECT s.case_id, {q.month(q.local_day('s.sent_at'))} AS month, {lead_org} AS org
FROM scheduled_messages s {lead_join('s')}
WHERE {_in_scope(kind, 's', team=False)} AND s.kind = 'case.lapse.channel' AND s.status = 'sent'
  AND s.sent_at >= :start_at AND s.sent_at < :end_at""", """
COUNT(*) AS escalations"""),
        "chairing": (f"""
SELECT h.case_id, h.month, h.chair_org AS org
FROM meeting_facts h
WHERE {in_scope} AND h.day BETWEEN :start AND :end""", """
COUNT(*) AS meetings"""),
    }


_ATTENDANCE_SUMS = """
SUM(b.present) AS present,
SUM(b.apologies_update) AS apologies_update,
SUM(b.apologies_only) AS apologies_only,
SUM(b.absent) AS absent"""


def _daily_bases(*, kind: str) -> dict[str, tuple[str, str]]:
    """The measures for a whole workspace or everyone, from the facts summed by workspace and day
    (models/meeting_facts.py: a few thousand rows, whatever the number of cases): the same figures as
    `_fact_bases` gives (tests/test_meeting_facts.py checks they agree). Left open and lapses read their own
    few rows."""
    d = _in_scope(kind, "d")
    period = "d.day BETWEEN :start AND :end"
    held = "FROM held_by_day d"
    return {
        "first_meeting": (f"""
SELECT d.month, d.lead_org AS org, wd.n + {FIRST_WITHIN} AS due_n, d.first_cases, d.first_on_time, d.first_late,
       d.first_days_late, d.first_not_held
FROM cases_by_day d JOIN working_days wd ON wd.day = d.day
WHERE {d} AND d.first_cases > 0 AND {period}""", """
SUM(b.first_cases) AS cases,
SUM(b.first_on_time) AS on_time,
SUM(b.first_late) AS late,
SUM(b.first_days_late) AS days_late,
SUM(CASE WHEN b.due_n < :today_n THEN b.first_not_held ELSE 0 END) AS overdue,
SUM(CASE WHEN b.due_n >= :today_n THEN b.first_not_held ELSE 0 END) AS not_yet_due"""),
        "later_meetings": (f"""
SELECT d.month, d.lead_org AS org, d.later, d.late_by
{held} WHERE {d} AND d.later > 0 AND {period}""", """
SUM(b.later) AS meetings,
SUM(CASE WHEN b.late_by = 0 THEN b.later ELSE 0 END) AS on_time,
SUM(CASE WHEN b.late_by > 0 THEN b.later ELSE 0 END) AS late,
SUM(b.late_by * b.later) AS days_late,
MAX(b.late_by) AS most_late"""),
        "before_review": (f"""
SELECT d.month, d.lead_org AS org, d.reviews, d.review_in_time, d.review_too_close, d.review_none
FROM cases_by_day d
WHERE {d} AND d.reviews > 0 AND {period} AND d.day <= :today""", """
SUM(b.reviews) AS reviews,
SUM(b.review_in_time) AS in_time,
SUM(b.review_too_close) AS too_close,
SUM(b.review_none) AS "none\""""),
        "records": (f"""
SELECT d.month, d.lead_org AS org, wd.n AS held_n, d.meetings, d.record_on_time, d.record_late, d.family_on_time,
       d.family_late, d.family_not_given
{held} JOIN working_days wd ON wd.day = d.day
WHERE {d} AND {period}""", f"""
SUM(b.meetings) AS meetings,
SUM(b.record_on_time) AS record_on_time,
SUM(b.record_late) AS record_late,
SUM(b.family_on_time) AS family_on_time,
SUM(b.family_late) AS family_late,
SUM(CASE WHEN :today_n - b.held_n > {FAMILY_WITHIN} THEN b.family_not_given ELSE 0 END) AS family_overdue,
SUM(CASE WHEN :today_n - b.held_n <= {FAMILY_WITHIN} THEN b.family_not_given ELSE 0 END) AS family_not_yet_due"""),
        "child_views": (f"""
SELECT d.month, d.lead_org AS org, d.meetings, d.child_said, d.child_why_not, d.child_missing
{held} WHERE {d} AND {period}""", """
SUM(b.meetings) AS meetings,
SUM(b.child_said) AS obtained,
SUM(b.child_why_not) AS why_not,
SUM(b.child_missing) AS missing"""),
        "parents_views": (f"""
SELECT d.month, d.lead_org AS org, d.meetings, d.parents_said
{held} WHERE {d} AND {period}""", """
SUM(b.meetings) AS meetings,
SUM(b.parents_said) AS recorded,
SUM(b.meetings - b.parents_said) AS missing"""),
        "attendance": (f"""
SELECT d.month, d.org, d.present, d.apologies_update, d.apologies_only, d.absent
FROM attendance_by_day d
WHERE {d} AND {period}""", _ATTENDANCE_SUMS),
        "actions": (f"""
SELECT d.month, d.org, d.day, d.actions, d.open, d.carried, d.times_carried
FROM actions_by_day d
WHERE {d} AND {period}""", """
SUM(b.actions) AS actions,
SUM(CASE WHEN b.day < :today THEN b.open ELSE 0 END) AS overdue,
SUM(b.carried) AS carried,
SUM(b.times_carried) AS times_carried"""),
        "chairing": (f"""
SELECT d.month, d.chair_org AS org, d.meetings
{held} WHERE {d} AND {period}""", """
SUM(b.meetings) AS meetings"""),
    }


def _day_number(session: Session, day: date) -> int:
    return session.execute(select(WorkingDay.n).where(WorkingDay.day == day)).scalar_one()


def measure(session: Session, key: str, *, scope: tuple[str, dict], start: date, end: date, today: date,
            by: str = "month") -> Table:
    """One measure's table, grouped by month, organisation or team (one statement)."""
    with prepared(session, scope):
        return _measure(session, key, scope=scope, start=start, end=end, today=today, by=by)


def _measure(session: Session, key: str, *, scope: tuple[str, dict], start: date, end: date, today: date,
             by: str = "month") -> Table:
    if by not in BY:
        raise ValueError(by)
    q = _Sql(session.get_bind().dialect.name)
    definition = MEASURE_BY_KEY[key]
    kind = session.info[_KIND]
    daily = _daily_bases(kind=kind) if kind != "cases" and by != "team" else {}
    base, sums = daily[key] if key in daily else _fact_bases(q, kind=kind)[key]
    group = {"month": "b.month", "organisation": "b.org", "team": f"COALESCE(ct.team_name, '{NO_TEAM}')"}[by]
    team_join = "LEFT JOIN case_team ct ON ct.case_id = b.case_id" if by == "team" else ""
    keys = [f"{group} AS grp"]
    groups = [group]
    if definition.per_organisation and by != "organisation":
        keys.append("b.org AS org")
        groups.append("b.org")
    sql = (f"WITH {_ctes(session)},\nbase AS ({base})\n"
           f"SELECT {', '.join(keys)}, {sums}\nFROM base b {team_join}\n"
           f"GROUP BY {', '.join(groups)} ORDER BY {', '.join(groups)}")
    zone = ZoneInfo(_timezone())
    # moments (meetings booked, escalations sent) in the period: from the start of its first day to the end of its
    # last, in the app's timezone, so an index on the moment finds them
    params = dict(scope[1], start=start, end=end, today=today, today_n=_day_number(session, today), tz=zone.key,
                  start_at=datetime.combine(start, time(), zone), end_at=datetime.combine(end + ONE_DAY, time(), zone))
    statement = text(sql)
    if ":start_at" in sql:
        statement = statement.bindparams(bindparam("start_at", type_=UTCDateTime()),
                                         bindparam("end_at", type_=UTCDateTime()))
    table = Table(measure=definition, group_label=by.capitalize(), by_organisation=len(keys) > 1)
    for row in session.execute(statement, params).mappings():
        item = {"group": row["grp"]}
        if "org" in row:
            item["organisation"] = row["org"]
        item.update({c.key: int(row[c.key] or 0) for c in definition.columns})
        table.rows.append(item)
    return table


def _timezone() -> str:
    from models import reminders

    return reminders.policy().calendar.timezone


def report(session: Session, *, scope: tuple[str, dict], start: date, end: date, today: date,
           by: str = "month", keys: tuple[str, ...] | None = None) -> Report:
    with prepared(session, scope):
        tables = [_measure(session, key, scope=scope, start=start, end=end, today=today, by=by)
                  for key in (keys or tuple(m.key for m in MEASURES))]
    return Report(start=start, end=end, by=by, tables=tables)


# --- cases needing attention (team managers and conference chairs only) ------------------------------------


@dataclass
class Attention:
    case_id: int
    reference: str
    channel_id: str | None
    reasons: list[str]
    rank: int


def needing_attention(session: Session, *, cases_sql: tuple[str, dict], today: date, limit: int = 15
                      ) -> tuple[list[Attention], int]:
    """Open cases among `cases_sql` that need attention, the most pressing first, and how many there are in all:
    a group that has lapsed (or whose first meeting is overdue), a first meeting still to hold, a record or a
    family version late, actions overdue."""
    with prepared(session, cases_sql):
        return _needing_attention(session, cases_sql=cases_sql, today=today, limit=limit)


def _needing_attention(session: Session, *, cases_sql: tuple[str, dict], today: date, limit: int
                       ) -> tuple[list[Attention], int]:
    q = _Sql(session.get_bind().dialect.name)
    sql = f"""
WITH {_ctes(session)},
last AS (SELECT case_id, MAX(day) AS day, COUNT(*) AS held FROM meeting_facts
         WHERE case_id IN (SELECT case_id FROM scope) GROUP BY case_id),
facts AS (
  SELECT c.id, c.reference, c.channel_id, ic.n + {FIRST_WITHIN} AS first_due_n, last.held,
         nd.n AS next_due_n,
         (SELECT COUNT(*) FROM meetings m WHERE m.case_id = c.id AND m.status IN ('ended', 'ended_without_record')
            AND NOT EXISTS (SELECT 1 FROM recaps r WHERE r.meeting_id = m.id AND r.status = 'posted')
            AND :today_n - (SELECT wd.n FROM working_days wd WHERE wd.day = {q.local_day('m.scheduled_start')})
                > {RECORD_WITHIN}) AS records_late,
         (SELECT COUNT(*) FROM meeting_facts h WHERE h.case_id = c.id AND :today_n - h.n > {FAMILY_WITHIN}
            AND h.given_n IS NULL) AS family_late,
         (SELECT COUNT(*) FROM actions a WHERE a.case_id = c.id AND a.status = 'open' AND a.due_date < :today)
           AS overdue
  FROM cases c JOIN working_days ic ON ic.day = c.initial_conference_date
  LEFT JOIN last ON last.case_id = c.id
  LEFT JOIN working_days nd ON nd.day = {q.plus_days('last.day', '7 * c.frequency_weeks')}
  WHERE c.id IN (SELECT case_id FROM scope) AND c.status = 'open'
)
SELECT * FROM facts"""
    params = dict(cases_sql[1], today=today, today_n=_day_number(session, today), tz=_timezone())
    found: list[Attention] = []
    for row in session.execute(text(sql), params).mappings():
        reasons, rank = [], 9
        if not row["held"]:
            if row["first_due_n"] < params["today_n"]:
                reasons.append("first core group overdue")
                rank = 0
            else:
                reasons.append(f"first core group due within {row['first_due_n'] - params['today_n']} working days")
                rank = 2
        elif row["next_due_n"] is not None and row["next_due_n"] < params["today_n"]:
            reasons.append(f"lapsed: no core group for {params['today_n'] - row['next_due_n']} working days past"
                           " the agreed interval")
            rank = 0
        if row["records_late"]:
            reasons.append(f"{row['records_late']} record{'s' if row['records_late'] > 1 else ''} late")
            rank = min(rank, 1)
        if row["family_late"]:
            reasons.append(f"family version late for {row['family_late']} meeting"
                           f"{'s' if row['family_late'] > 1 else ''}")
            rank = min(rank, 1)
        if row["overdue"]:
            reasons.append(f"{row['overdue']} action{'s' if row['overdue'] > 1 else ''} overdue")
            rank = min(rank, 3)
        if reasons:
            found.append(Attention(case_id=row["id"], reference=row["reference"], channel_id=row["channel_id"],
                                   reasons=reasons, rank=rank))
    found.sort(key=lambda a: (a.rank, a.reference))
    return found[:limit], len(found)


# --- the App Home's figures -----------------------------------------------------------------------------------


@dataclass
class Figures:
    months: list[str]
    on_time: list[int]
    late: list[int]
    attendance: list[dict]  # organisation, present, apologies_update, apologies_only, absent


def month_start(day: date, back: int = 0) -> date:
    year, month = day.year, day.month - back
    while month <= 0:
        month += 12
        year -= 1
    return date(year, month, 1)


def figures(session: Session, *, scope: tuple[str, dict], today: date, months: int = 12) -> Figures:
    """Timeliness by month (first and later core groups together) and attendance by organisation, for the last
    `months` months up to today: three statements."""
    start = month_start(today, months - 1)
    with prepared(session, scope):
        first = _measure(session, "first_meeting", scope=scope, start=start, end=today, today=today)
        later = _measure(session, "later_meetings", scope=scope, start=start, end=today, today=today)
        attendance = _measure(session, "attendance", scope=scope, start=start, end=today, today=today,
                              by="organisation")
    labels = [f"{month_start(today, back):%Y-%m}" for back in range(months - 1, -1, -1)]
    on_time = dict.fromkeys(labels, 0)
    late = dict.fromkeys(labels, 0)
    for table in (first, later):
        for row in table.rows:
            if row["group"] in on_time:
                on_time[row["group"]] += row["on_time"]
                late[row["group"]] += row["late"] + row.get("overdue", 0)
    return Figures(months=labels, on_time=list(on_time.values()), late=list(late.values()),
                   attendance=[{k: v for k, v in row.items() if k != "group"} | {"organisation": row["group"]}
                               for row in attendance.rows])
