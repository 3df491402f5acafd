"""Command-line tools that work on the database directly (no Slack needed)."""

from __future__ import annotations

import argparse
import sys

from bot.settings import Settings
from models import audit, cases
from models.db import make_engine, session_scope, upgrade
from models.tables import Case


def _case(session, reference: str) -> Case | None:
    from sqlmodel import select

    return session.exec(select(Case).where(Case.reference == cases.normalise_reference(reference))).first()


def print_audit(args: argparse.Namespace, settings: Settings) -> int:
    """Print a case's audit trail: when, who (team/user ids), what, which record."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with session_scope(engine) as session:
        case = _case(session, args.reference)
        if case is None:
            print(f"No case with reference {args.reference}.", file=sys.stderr)
            return 1
        print(f"Audit trail for {case.reference} (case {case.id})")
        for event in audit.trail(session, case.id):
            who = f"{event.actor_team_id or '-'}/{event.actor_user_id or '-'}"
            record = f"{event.record_type} {event.record_id}" if event.record_id is not None else event.record_type
            line = f"{event.at:%Y-%m-%d %H:%M:%S}Z  {who:<24} {event.action:<28} {record}"
            if event.detail:
                line += f"  {event.detail}"
            print(line)
    return 0


TOOLS = {"audit": print_audit}


def run(args: argparse.Namespace, settings: Settings) -> int:
    return TOOLS[args.command](args, settings)
