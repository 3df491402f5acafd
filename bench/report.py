"""Benchmark: the oversight report and the App Home's Oversight section, at up to 50,000 cases.

    .venv/bin/python -m bench.report                                 # SQLite and PostgreSQL, 5k and 50k cases
    .venv/bin/python -m bench.report --databases postgresql --cases 50000

For each size a fresh database is migrated and bulk-loaded (SQLite executemany, PostgreSQL COPY; indexes and
constraints built once afterwards, as bench/due_work.py does) with two years of core groups (1 January 2025 to
31 December 2026): each case's plan starts on a day spread over the two years and runs nine months, with a core
group every six weeks (the first on working day 7 to 12 after the initial conference), six members (social
worker, health visitor, teacher, police officer, GP, parent), attendance for every member at every meeting
(present, apologies with and without a written update, absent), a posted record, a family version for most
meetings, three actions per meeting (some overdue, some carried forward) and the lapse escalations.
The load goes behind the app's back, so the oversight facts (models/meeting_facts.py) are then rebuilt, timed.

Timed (median of 3, after one warm-up run), with today 1 December 2026:

- the full report: all eleven measures over the two years, by month, for every case (`coregroup report`);
- the App Home section for an analyst: the figures for the last 12 months over the whole workspace;
- the App Home section for a team manager: their cases needing attention and the figures over their cases
  (one manager per 50 cases);
- keeping the facts: what a commit that changed one case's meetings (or its actions) adds, working that part of
  its facts out again and adding the difference to the sums (median of 21 cases).
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta

from sqlmodel import Session

from bench import bulk
from bench.due_work import fresh_database
from models import meeting_facts, oversight, staff
from models.calendar import WorkingCalendar
from models.db import make_engine, upgrade

TODAY = date(2026, 12, 1)
FIRST_DAY = date(2025, 1, 1)
PLAN_DAYS = 270
CASES_PER_MANAGER = 50
MEMBERS = (("Social worker", "Children's services"), ("Health visitor", "Health"), ("Teacher", "Education"),
           ("Police officer", "Police"), ("GP", "Health"), ("Parent", None))
REPEAT = 3
CAL = WorkingCalendar()

COLUMNS = {
    "cases": ("id", "reference", "team_id", "channel_id", "status", "initial_conference_date",
              "review_conference_date", "frequency_weeks", "created_at", "created_by_team_id", "created_by_user_id"),
    "members": ("id", "case_id", "name", "role", "agency", "status", "is_lead", "added_at", "slack_team_id",
                "slack_user_id", "manager_team_id", "manager_user_id"),
    "meetings": ("id", "case_id", "number", "scheduled_start", "duration_minutes", "location", "chair_member_id",
                 "status", "created_at"),
    "recaps": ("id", "meeting_id", "version", "content", "status", "created_at", "posted_at", "parts_posted"),
    "attendance": ("id", "meeting_id", "member_id", "status", "responded_at"),
    "updates": ("id", "meeting_id", "member_id", "version", "attending", "contacts", "child_seen", "seen_alone",
                "working_well", "worries", "needs_to_happen", "child_views", "submitted_at"),
    "actions": ("id", "case_id", "what", "owner_member_id", "due_date", "measure", "status", "carried_forward",
                "created_at"),
    "family_versions": ("id", "case_id", "meeting_id", "version", "status", "content", "includes_child_words",
                        "created_at"),
    "family_handovers": ("id", "family_version_id", "case_id", "meeting_id", "given_on", "how", "interpreter",
                         "given_to", "recorded_at"),
    "scheduled_messages": ("id", "key", "kind", "case_id", "due_at", "status", "attempts", "created_at", "sent_at"),
    "staff_roles": ("id", "slack_team_id", "slack_user_id", "role", "scope", "granted_at", "granted_by"),
}
CONTENTS = [json.dumps({"child_views": {"text": "Child A said something.", "not_obtained": ""},
                        "parents_views": "Mother of Child A spoke."}),
            json.dumps({"child_views": {"text": "", "not_obtained": "Child A is a baby."}, "parents_views": ""})]


def generate(cases: int):
    """Rows for every table, as dicts of lists of tuples (in COLUMNS' order)."""
    data = {table: [] for table in COLUMNS}
    span = (TODAY - FIRST_DAY).days - 30
    ids = dict.fromkeys(("meeting", "attendance", "update", "action", "family", "message"), 0)
    at = datetime(2025, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    for c in range(1, cases + 1):
        initial = CAL.next_working_day(FIRST_DAY + timedelta(days=(c * 7919) % span))
        review = CAL.next_working_day(initial + timedelta(days=90))
        data["cases"].append((c, f"CP-BENCH-{c:06d}", "T0COUNCIL", f"C{c:08d}", "open", initial, review, 6, at,
                              "T0COUNCIL", "U0SW"))
        manager = f"U0MGR{(c - 1) // CASES_PER_MANAGER:05d}"
        members = []
        for k, (role, agency) in enumerate(MEMBERS):
            member = (c - 1) * len(MEMBERS) + k + 1
            members.append(member)
            data["members"].append((member, c, f"{role} {c}", role, agency, "active", k == 0, at, "T0COUNCIL",
                                    f"U{member:09d}", "T0COUNCIL" if k == 0 else None, manager if k == 0 else None))
        day = CAL.add_working_days(initial, 7 + c % 6)
        end = min(initial + timedelta(days=PLAN_DAYS), TODAY - timedelta(days=1))
        number = 0
        while day <= end:
            number += 1
            ids["meeting"] += 1
            m = ids["meeting"]
            start = datetime(day.year, day.month, day.day, 10)
            data["meetings"].append((m, c, number, start, 90, "Family centre", members[0], "ended", at))
            posted = CAL.add_working_days(day, (m % 5 == 0) + (m % 17 == 0))
            data["recaps"].append((m, m, 1, CONTENTS[m % 4 == 0], "posted", start,
                                   datetime(posted.year, posted.month, posted.day, 15), 1))
            for k, member in enumerate(members):
                ids["attendance"] += 1
                choice = (m + k * 3) % 10
                status = "present" if choice < 6 else "apologies" if choice < 9 else "absent"
                data["attendance"].append((ids["attendance"], m, member, status, start))
                if status == "apologies" and choice != 8:
                    ids["update"] += 1
                    data["updates"].append((ids["update"], m, member, 1, False, "", "", "", "Update.", "", "", "",
                                            start))
            if m % 7:
                ids["family"] += 1
                given = CAL.add_working_days(day, 3 + (m % 11 == 0) * 4)
                data["family_versions"].append((ids["family"], c, m, 1, "approved", "Family version.", False, start))
                data["family_handovers"].append((ids["family"], ids["family"], c, m, given, "in person", False,
                                                 "Mother", start))
            for k in range(3):
                ids["action"] += 1
                due = day + timedelta(days=14 + 7 * k)
                status = "open" if (ids["action"] % 9 == 0 or due >= TODAY) else "done"
                data["actions"].append((ids["action"], c, "Action.", members[k + 1], due, "", status,
                                        int(ids["action"] % 4 == 0) * 2, at))
            late = 7 if m % 13 == 0 else 0
            day = CAL.previous_working_day(day + timedelta(weeks=6)) + timedelta(days=late)
            if late:
                ids["message"] += 1
                sent = datetime(day.year, day.month, day.day, 9)
                data["scheduled_messages"].append((ids["message"], f"case:{c}:lapse:{m}:channel",
                                                   "case.lapse.channel", c, sent, "sent", 1, at, sent))
    for manager in range((cases - 1) // CASES_PER_MANAGER + 1):
        data["staff_roles"].append((manager + 1, "T0COUNCIL", f"U0MGR{manager:05d}", "team-manager", "", at,
                                    "bench"))
    data["staff_roles"].append((len(data["staff_roles"]) + 1, "T0COUNCIL", "U0ANALYST", "analyst", "", at, "bench"))
    return data


def timed(fn, repeat: int = REPEAT) -> float:
    fn()  # warm-up (and the working-day table's first fill)
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    return statistics.median(runs)


def bench(kind: str, cases: int) -> dict:
    url, drop = fresh_database(kind)
    try:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        data = generate(cases)
        counts = {table: len(rows) for table, rows in data.items()}
        bulk.load(engine, COLUMNS, data)
        del data
        load = time.perf_counter() - started
        started = time.perf_counter()
        with Session(engine) as session:  # bulk-loaded behind the session hooks' back: work the facts out
            meeting_facts.rebuild(session)
            session.commit()
        rebuild = time.perf_counter() - started
        everything = ("SELECT id FROM cases", {})

        def full_report():
            with Session(engine) as session:
                oversight.report(session, scope=everything, start=FIRST_DAY, end=TODAY, today=TODAY)

        def analyst_home():
            with Session(engine) as session:
                who = staff.standing(session, team_id="T0COUNCIL", user_id="U0ANALYST")
                oversight.figures(session, scope=staff.scope_sql(who), today=TODAY)

        def manager_home():
            with Session(engine) as session:
                who = staff.standing(session, team_id="T0COUNCIL", user_id="U0MGR00007")
                oversight.needing_attention(session, cases_sql=staff.visible_cases_sql(who), today=TODAY)
                oversight.figures(session, scope=staff.scope_sql(who), today=TODAY)

        next_case = itertools.cycle(range(1, cases + 1)).__next__  # a different case for each change

        def keep(parts):
            def one_change():  # what a commit that changed one case's meetings (or actions) adds
                with Session(engine) as session:
                    meeting_facts.refresh(session, [next_case()], parts)
                    session.commit()
            return one_change

        result = {"database": kind, "cases": cases, "meetings": counts["meetings"],
                  "attendance": counts["attendance"], "actions": counts["actions"], "load": load,
                  "rebuild": rebuild,
                  "report": timed(full_report), "analyst": timed(analyst_home), "manager": timed(manager_home),
                  "keep_meetings": timed(keep((meeting_facts.MEETINGS,)), repeat=21),
                  "keep_actions": timed(keep((meeting_facts.ACTIONS,)), repeat=21)}
        engine.dispose()
    finally:
        drop()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--cases", default="5000,50000")
    args = parser.parse_args()
    results = []
    for kind in args.databases.split(","):
        for cases in (int(n) for n in args.cases.split(",")):
            results.append(bench(kind, cases))
            print(f"{kind} {cases} cases done (loaded in {results[-1]['load']:.0f}s, facts rebuilt in"
                  f" {results[-1]['rebuild']:.1f}s)", file=sys.stderr)
    print("| database | cases | meetings | attendance rows | actions | full report (11 measures, 2 years) |"
          " App Home, analyst (12 months, everything) | App Home, team manager (50 cases) | rebuild of the facts |"
          " keeping one case's facts: meetings / actions |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['database']} | {r['cases']:,} | {r['meetings']:,} | {r['attendance']:,} | {r['actions']:,} |"
              f" {r['report'] * 1000:,.0f} ms | {r['analyst'] * 1000:,.0f} ms | {r['manager'] * 1000:,.0f} ms |"
              f" {r['rebuild']:,.1f} s | {r['keep_meetings'] * 1000:.1f} ms / {r['keep_actions'] * 1000:.1f} ms |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
