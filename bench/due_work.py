"""Benchmark: finding and claiming due scheduled work, from 5,000 to 50,000 cases (10 actions each).

    .venv/bin/python bench/due_work.py                      # SQLite and PostgreSQL, 5k to 50k cases
    .venv/bin/python bench/due_work.py --databases sqlite --cases 5000,50000

For each size a fresh database is migrated and bulk-loaded (SQLite executemany, PostgreSQL COPY) with
what a real deployment accumulates: per case a lead social worker and a health visitor, ten open
actions, each with a pending overdue nudge and two nudges already sent, and the case's own lapse,
review and drift rows. 1% of the pending nudges are due now. Then
`models.ledger.claim_due` — the very function the dispatcher uses — is timed (median of 5):

- one batch of 50 (what one dispatcher step claims), in a transaction rolled back afterwards;
- all due work, batch after batch until nothing is due, each batch recorded as done before the next is
  claimed, as the dispatcher does (this grows with the due work);
- all due work when exactly 500 rows are due, whatever the size (should not grow with the size).

The plan of the claim query, as it ran, is printed from EXPLAIN, to show it is an index range scan
on (status, due_at). PostgreSQL is reached at COREGROUP_BENCH_POSTGRES_URL (default: the local
`coregroup` role), in a throwaway database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import create_engine, event, text, update
from sqlalchemy.engine import make_url
from sqlmodel import Session, col

from bench import bulk
from models import ledger
from models.db import make_engine, normalise_url, upgrade
from models.tables import MessageStatus, ScheduledMessage

POSTGRES_URL = os.environ.get("COREGROUP_BENCH_POSTGRES_URL",
                              "postgresql://coregroup:coregroup@127.0.0.1:5432/postgres")
NOW = datetime(2026, 12, 2, 9, 30)  # naive UTC, as stored: a Wednesday morning
ACTIONS_PER_CASE = 10
DUE_FRACTION = 0.01
FIXED_DUE = 500
REPEAT = 5


def rows_for(cases: int):
    """The tables' rows, as tuples in the column order of COLUMNS."""
    created = NOW - timedelta(days=100)
    case_rows, member_rows, action_rows, ledger_rows = [], [], [], []
    message_id = 0
    pending_nudges = cases * ACTIONS_PER_CASE
    due_every = round(1 / DUE_FRACTION)
    for c in range(1, cases + 1):
        case_rows.append((c, f"CP-BENCH-{c:06d}", "T0COUNCIL", "open", date(2026, 8, 3), date(2027, 3, 1), 6,
                          created, "T0COUNCIL", "U0SW"))
        lead, hv = 2 * c - 1, 2 * c
        member_rows.append((lead, c, f"Social Worker {c}", "Social worker", "active", True, created, "T0COUNCIL",
                            f"U{lead:09d}"))
        member_rows.append((hv, c, f"Health Visitor {c}", "Health visitor", "active", False, created, "T0COUNCIL",
                            f"U{hv:09d}"))
        for n in range(ACTIONS_PER_CASE):
            a = (c - 1) * ACTIONS_PER_CASE + n + 1
            action_rows.append((a, c, f"Action {a}", hv if n % 2 else lead, date(2026, 11, 2), "", "open", n % 3,
                                created))
            for k in (1, 2):  # nudges already sent
                message_id += 1
                ledger_rows.append((message_id, f"action:{a}:overdue:2026-11-02:{k}", "action.overdue", c, a,
                                    NOW - timedelta(days=30 - k), "sent", 0, created, json.dumps({"stage": k})))
            message_id += 1
            if a % due_every == 0:  # due now: spread over the last hour
                due = NOW - timedelta(seconds=3600 * (a % (due_every * 97)) / (due_every * 97))
            else:  # due later: spread over the next 60 days
                due = NOW + timedelta(seconds=1 + (a * 7919) % (60 * 86400))
            ledger_rows.append((message_id, f"action:{a}:overdue:2026-11-02:3", "action.overdue", c, a, due,
                                "pending", 0, created, json.dumps({"stage": 3})))
        for kind, days in (("case.lapse", 20), ("case.review", 75), ("case.drift", 5)):
            message_id += 1
            ledger_rows.append((message_id, f"case:{c}:{kind}", kind, c, None, NOW + timedelta(days=days), "pending",
                                0, created, None))
    assert pending_nudges == len(action_rows)
    return {"cases": case_rows, "members": member_rows, "actions": action_rows, "scheduled_messages": ledger_rows}


COLUMNS = {
    "cases": ("id", "reference", "team_id", "status", "initial_conference_date", "review_conference_date",
              "frequency_weeks", "created_at", "created_by_team_id", "created_by_user_id"),
    "members": ("id", "case_id", "name", "role", "status", "is_lead", "added_at", "slack_team_id", "slack_user_id"),
    "actions": ("id", "case_id", "what", "owner_member_id", "due_date", "measure", "status", "carried_forward",
                "created_at"),
    "scheduled_messages": ("id", "key", "kind", "case_id", "action_id", "due_at", "status", "attempts",
                           "created_at", "detail"),
}


def claim_one(engine, now: datetime) -> tuple[float, int]:
    """Seconds to claim one batch of 50; rolled back, so every repetition sees the same ledger."""
    with Session(engine) as session:
        started = time.perf_counter()
        rows = ledger.claim_due(session, now=now, me="bench", lease_until=now + timedelta(minutes=5), limit=50)
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed, len(rows)


def claim_all(engine, now: datetime) -> tuple[float, int]:
    """Seconds to claim everything due, batch after batch, each claim committed and each batch then
    recorded as done (committed) before the next is claimed, as the dispatcher does minus Slack.
    Afterwards the rows are put back to pending (and PostgreSQL vacuumed) for the next repetition."""
    started = time.perf_counter()
    claimed = 0
    while True:
        with Session(engine) as session:
            rows = ledger.claim_due(session, now=now, me="bench", lease_until=now + timedelta(minutes=5), limit=50)
            session.commit()
        if not rows:
            break
        claimed += len(rows)
        with Session(engine) as session:
            session.execute(update(ScheduledMessage).where(col(ScheduledMessage.id).in_([r.id for r in rows]))
                            .values(status=MessageStatus.SENT))
            session.commit()
    elapsed = time.perf_counter() - started
    with Session(engine) as session:
        session.execute(update(ScheduledMessage).where(ScheduledMessage.claimed_by == "bench")
                        .values(status=MessageStatus.PENDING, claimed_by=None, claimed_until=None))
        session.commit()
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE scheduled_messages"))
    return elapsed, claimed


def median(measure, engine, now: datetime) -> tuple[float, int]:
    runs = [measure(engine, now) for _ in range(REPEAT)]
    return statistics.median(r[0] for r in runs), runs[0][1]


def nth_due(engine, n: int) -> datetime:
    """The moment at which exactly n pending rows are due."""
    with engine.connect() as conn:
        value = conn.execute(text("SELECT due_at FROM scheduled_messages WHERE status = 'pending' "
                                  "ORDER BY due_at LIMIT 1 OFFSET :n"), {"n": n - 1}).scalar_one()
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    return moment.replace(tzinfo=UTC)


def claim_plan(engine, now: datetime) -> str:
    """EXPLAIN of the claim's SELECT of pending rows, exactly as claim_due sent it."""
    seen: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if "status = " in statement and "due_at <=" in statement and not seen:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        claim_one(engine, now)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, parameters = seen[0]
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute(prefix + statement, parameters)
        lines = [" ".join(str(c) for c in row[-1:]) for row in cursor.fetchall()]
        raw.rollback()
    finally:
        raw.close()
    return "\n".join(lines)


def fresh_database(kind: str):
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="coregroup-bench-")
        url = f"sqlite:///{folder}/bench.db"
        return url, lambda: None
    admin_url = make_url(normalise_url(POSTGRES_URL))
    name = f"coregroup_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        # Plain DROP: PostgreSQL stops an autovacuum worker on the database itself (WITH (FORCE) would try
        # to terminate it too, which only a superuser may).
        for attempt in range(10):
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
                break
            except Exception:
                if attempt == 9:
                    raise
                time.sleep(1)
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def bench(kind: str, cases: int, *, show_plan: bool) -> dict:
    url, drop = fresh_database(kind)
    try:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        data = rows_for(cases)
        bulk.load(engine, COLUMNS, data)
        load_seconds = time.perf_counter() - started
        now = NOW.replace(tzinfo=UTC)
        one, _ = median(claim_one, engine, now)
        every, due = median(claim_all, engine, now)
        fixed_now = nth_due(engine, FIXED_DUE)
        fixed, fixed_count = median(claim_all, engine, fixed_now)
        plan = claim_plan(engine, now) if show_plan else ""
        engine.dispose()
    finally:
        drop()
    return {"database": kind, "cases": cases, "actions": len(data["actions"]),
            "ledger": len(data["scheduled_messages"]), "due": due, "load": load_seconds, "one": one,
            "all": every, "fixed": fixed, "fixed_count": fixed_count, "plan": plan}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--cases", default="5000,10000,20000,50000")
    args = parser.parse_args()
    results = []
    for kind in args.databases.split(","):
        sizes = [int(n) for n in args.cases.split(",")]
        for cases in sizes:
            result = bench(kind, cases, show_plan=cases == sizes[-1])
            results.append(result)
            print(f"{kind} {cases} cases done (loaded in {result['load']:.1f}s)", file=sys.stderr)
    print("| database | cases | actions | ledger rows | due now | claim one batch of 50 | claim all due |"
          f" claim all, {FIXED_DUE} due |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['database']} | {r['cases']:,} | {r['actions']:,} | {r['ledger']:,} | {r['due']:,} |"
              f" {r['one'] * 1000:.1f} ms | {r['all'] * 1000:.0f} ms | {r['fixed'] * 1000:.0f} ms |")
    for r in results:
        if r["plan"]:
            print(f"\nPlan of the claim query on {r['database']} ({r['cases']:,} cases):\n{r['plan']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
