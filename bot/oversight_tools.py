"""`coregroup staff` and `coregroup report`: oversight roles and the performance report, on the command line.

Run by an administrator with the database's settings; every grant, revocation and report is audited with the
operating system's user name (as `coregroup export-case` does).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, date, datetime
from pathlib import Path

from bot.settings import Settings
from models import oversight, oversight_files, staff
from models.audit import Actor
from models.db import make_engine, session_scope, upgrade

SLACK_PERSON = re.compile(r"^(?P<team>[TE][A-Z0-9]{2,31})[/:](?P<user>[UW][A-Z0-9]{2,31})$")

STAFF_ARGS = [
    ("task", {"choices": ["grant", "revoke", "list"], "help": "grant a role, revoke one (or all), or list them"}),
    ("user", {"nargs": "?", "metavar": "TEAM/USER",
              "help": "the Slack person, as their workspace (team) id and user id, e.g. T0123ABCD/U0456EFGH"}),
    ("--role", {"choices": list(staff.ROLES), "help": "the role to grant or revoke"}),
    ("--team", {"metavar": "NAME", "help": "for a team manager: the team whose cases they see"}),
    ("--case", {"metavar": "CP-…", "help": "for a conference chair: a case they chair (one per grant)"}),
]
REPORT_ARGS = [
    ("--from", {"dest": "start", "metavar": "DATE", "required": True, "help": "first day, YYYY-MM-DD"}),
    ("--to", {"dest": "end", "metavar": "DATE", "required": True, "help": "last day, YYYY-MM-DD"}),
    ("--by", {"choices": list(oversight.BY), "default": "month", "help": "group the figures (default: month)"}),
    ("--format", {"choices": ["csv", "xlsx"], "required": True, "help": "csv, or an Excel workbook"}),
    ("--output", {"metavar": "FILE", "help": "the file to write (default: coregroup-report-FROM-TO.FORMAT)"}),
]
OVERSIGHT_ARGS = [
    ("task", {"choices": ["rebuild"], "help": "rebuild: work out every held core group's facts again"}),
]


def _os_actor() -> Actor:
    from bot.tools import _os_user

    return Actor(team_id="command line", user_id=_os_user())


def _person(text: str | None) -> tuple[str, str] | None:
    match = SLACK_PERSON.match((text or "").strip())
    return (match["team"], match["user"]) if match else None


def staff_command(args: argparse.Namespace, settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    if args.task == "list":
        with session_scope(engine) as session:
            rows = staff.all_roles(session)
            if not rows:
                print("No one has an oversight role.")
            for role, reference in rows:
                extra = f" team {role.team_name}" if role.team_name else (f" case {reference}" if reference else "")
                print(f"{role.slack_team_id}/{role.slack_user_id}  {role.role}{extra}"
                      f"  (granted {role.granted_at:%Y-%m-%d} by {role.granted_by})")
        return 0
    person = _person(args.user)
    if person is None:
        print("Name the Slack person as TEAM/USER, their workspace id and user id (for example"
              " T0123ABCD/U0456EFGH). Both are in their Slack profile: ⋮ → Copy member ID; the workspace id"
              " is in the workspace's settings.", file=sys.stderr)
        return 2
    team_id, user_id = person
    with session_scope(engine) as session:
        if args.task == "revoke":
            taken = staff.revoke(session, team_id=team_id, user_id=user_id, role=args.role, by=_os_actor())
            print(f"Revoked {taken} role{'s' if taken != 1 else ''} from {team_id}/{user_id}." if taken
                  else f"{team_id}/{user_id} had no such role.")
            return 0
        if args.role is None:
            print("Say which role to grant with --role.", file=sys.stderr)
            return 2
        case = None
        if args.case:
            from bot.tools import _case

            case = _case(session, args.case)
            if case is None:
                print(f"No case with reference {args.case}.", file=sys.stderr)
                return 1
        try:
            staff.grant(session, team_id=team_id, user_id=user_id, role=args.role, team=args.team, case=case,
                        by=_os_actor())
        except staff.GrantError as error:
            print(str(error), file=sys.stderr)
            return 2
    what = f" for team {args.team}" if args.team else (f" for {case.reference}" if case else "")
    print(f"{team_id}/{user_id} is now a {staff.ROLE_NAMES[args.role]}{what}.")
    return 0


def _date(text: str, name: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        print(f"{name} must be a date written YYYY-MM-DD, for example 2026-04-01.", file=sys.stderr)
        return None


def report_command(args: argparse.Namespace, settings: Settings) -> int:
    start, end = _date(args.start, "--from"), _date(args.end, "--to")
    if start is None or end is None:
        return 2
    if end < start:
        print("--to must be on or after --from.", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    upgrade(engine)
    path = Path(args.output or f"coregroup-report-{start:%Y%m%d}-{end:%Y%m%d}.{args.format}")
    today = datetime.now(UTC).date()
    with session_scope(engine) as session:
        report = oversight.report(session, scope=("SELECT id FROM cases", {}), start=start, end=end, today=today,
                                  by=args.by)
        data = oversight_files.to_csv(report) if args.format == "csv" else oversight_files.to_xlsx(report)
        actor = _os_actor()
        from models import audit

        audit.record(session, actor=actor, action="oversight.report", record_type="oversight", record_id=None,
                     case_id=None, start=start.isoformat(), end=end.isoformat(), by=args.by, format=args.format)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{path} already exists. Choose another file with --output.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Could not create {path}: {error.strerror}.", file=sys.stderr)
        return 1
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    print(f"Wrote the oversight report for {start:%-d %B %Y} to {end:%-d %B %Y}, by {args.by}, to {path}.")
    return 0


def oversight_command(args: argparse.Namespace, settings: Settings) -> int:
    """`coregroup oversight rebuild`: every case's meeting facts worked out again from the records, in one
    transaction (the figures before and after are the same unless the facts had been left behind)."""
    from models import audit, meeting_facts

    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        count = meeting_facts.rebuild(session)
        audit.record(session, actor=_os_actor(), action="oversight.facts_rebuilt", record_type="oversight",
                     record_id=None, case_id=None, meetings=count)
    print(f"Worked out the facts of {count:,} held core groups again.")
    return 0
