"""Command-line tools that work on the database directly (no Slack needed)."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from models import audit, cases, names
from models.audit import Actor
from models.db import make_engine, session_scope, upgrade
from models.tables import Case


def _case(session, reference: str) -> Case | None:
    from sqlmodel import select

    return session.exec(select(Case).where(Case.reference == cases.normalise_reference(reference))).first()


def print_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print a case's audit trail: when, who (team/user ids, with the name the group knows them by), what,
    which record (a member's with their name)."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        case = _case(session, args.reference)
        if case is None:
            print(f"No case with reference {args.reference}.", file=sys.stderr)
            return 1
        print(f"Audit trail for {case.reference} (case {case.id})")
        people = cases.members(session, case.id, include_removed=True)
        by_user = {(m.slack_team_id, m.slack_user_id): names.shown(m) for m in people if m.slack_user_id}
        by_user.update({(None, m.slack_user_id): names.shown(m) for m in people if m.slack_user_id})
        by_id = {m.id: names.shown(m) for m in people}
        for event in audit.trail(session, case.id):
            who = f"{event.actor_team_id or '-'}/{event.actor_user_id or '-'}"
            named = by_user.get((event.actor_team_id, event.actor_user_id)) or by_user.get((None, event.actor_user_id))
            if named:
                who += f" ({named})"
            elif event.actor_user_id == Actor.app().user_id and event.actor_team_id is None:
                who += " (CoreGroup itself)"
            record = f"{event.record_type} {event.record_id}" if event.record_id is not None else event.record_type
            if event.record_type == "member" and event.record_id in by_id:
                record += f" ({by_id[event.record_id]})"
            line = f"{event.at:%Y-%m-%d %H:%M:%S}Z  {who:<40} {event.action:<28} {record}"
            if event.detail:
                line += f"  {event.detail}"
            print(line)
    return 0


def _os_user() -> str:
    """Who ran the command, for the audit trail: the operating system's user name, or its number."""
    import getpass
    import os

    try:
        return getpass.getuser()[:32]
    except (KeyError, OSError):
        return str(os.getuid())


def export_case(args: argparse.Namespace, settings: Settings) -> int:
    """Write every record of a case, and its documents, to one zip file (subject access requests)."""
    import os
    from datetime import UTC, datetime
    from pathlib import Path

    from models import case_export
    from models.audit import Actor

    engine = make_engine(settings.database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    with session_scope(engine) as session:
        case = _case(session, args.reference)
        if case is None:
            print(f"No case with reference {args.reference}.", file=sys.stderr)
            return 1
        reference = case.reference
    path = Path(args.output or f"{reference}-export-{now:%Y%m%d-%H%M%S}.zip")
    try:
        # Only the person who ran the export may read the file: it holds personal data about children.
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        print(f"{path} already exists. Choose another file with --output.", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Could not create {path}: {error.strerror}.", file=sys.stderr)
        return 1
    actor = Actor(team_id="command line", user_id=_os_user())
    try:
        with os.fdopen(handle, "wb") as out, session_scope(engine) as session:
            summary = case_export.export_case(session, case=_case(session, reference), out=out, actor=actor,
                                              now=now)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    print(f"Wrote every record of {reference} to {path}: {summary.records} records in {len(summary.tables)}"
          f" tables, {len(summary.documents)} documents.")
    print("It holds personal data about children: keep it as securely as the case file.")
    return 0


def demo(args: argparse.Namespace, settings: Settings) -> int:
    """`coregroup demo` (bot/demo.py): needs no Slack settings and no database of its own."""
    from bot.demo import run as run_demo

    return run_demo(args)


def staff(args: argparse.Namespace, settings: Settings) -> int:
    from bot.oversight_tools import staff_command

    return staff_command(args, settings)


def report(args: argparse.Namespace, settings: Settings) -> int:
    from bot.oversight_tools import report_command

    return report_command(args, settings)


def oversight(args: argparse.Namespace, settings: Settings) -> int:
    from bot.oversight_tools import oversight_command

    return oversight_command(args, settings)


TOOLS = {"audit": print_audit, "export-case": export_case, "demo": demo, "staff": staff, "report": report,
         "oversight": oversight}


def run(args: argparse.Namespace, settings: Settings) -> int:
    return TOOLS[args.command](args, settings)
