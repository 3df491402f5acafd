"""The submission journal: a checked form taken down as it came, committed before the person is answered.

A form many people send at once (the update form, in the minutes before a meeting) is answered as soon as it is
checked, and its saving (the reminders it re-plans, the post, the redraws) happens after the answer. To answer
only what is durable, the form's values and the ids checked before the answer are written here first: one
INSERT, committed on its own (`write`, models.db.OneWrite), a fraction of a millisecond. The entry is then
processed from here (handlers/journal.py): at once on the pool for work after an answer, or, if the process died
first, at the next start and by the scheduler's run. Processing takes the entry with one conditional update in
the same transaction as the save (`take`), so an entry is processed exactly once, whoever gets to it.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.db import OneWrite
from models.tables import SubmissionJournal


def _insert(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(SubmissionJournal).values(key=bindparam("key"), kind=bindparam("kind"),
                                            payload=bindparam("payload")).on_conflict_do_nothing(index_elements=["key"])


_WRITE = OneWrite(_insert)


def write(engine, *, key: str, kind: str, payload: dict) -> None:
    """Take the submission down, committed (the same key twice, as when Slack sends a form again, is one entry).
    Raises SQLAlchemy's error if the database cannot take it: then the person is not told it was saved."""
    _WRITE.run(engine, key=key, kind=kind, payload=json.dumps(payload, separators=(",", ":")))


def take(session: Session, *, key: str, now: datetime) -> tuple[int, str, dict] | None:
    """Mark the entry processed, in the caller's transaction (which does the processing): (id, kind, payload), or
    None if it was processed already (or is being processed: on PostgreSQL this waits for that to finish)."""
    row = session.execute(
        update(SubmissionJournal)
        .where(col(SubmissionJournal.key) == key, col(SubmissionJournal.processed_at).is_(None))
        .values(processed_at=now).returning(col(SubmissionJournal.id), col(SubmissionJournal.kind),
                                            col(SubmissionJournal.payload))).first()
    return None if row is None else (row[0], row[1], json.loads(row[2]))


def set_outcome(session: Session, entry_id: int, outcome: str) -> None:
    session.execute(update(SubmissionJournal).where(col(SubmissionJournal.id) == entry_id).values(outcome=outcome))


def unprocessed(session: Session, *, limit: int = 200) -> list[str]:
    """Keys of entries not processed yet, oldest first."""
    return list(session.exec(select(SubmissionJournal.key).where(col(SubmissionJournal.processed_at).is_(None))
                             .order_by(col(SubmissionJournal.id)).limit(limit)))


def kinds_of(session: Session, keys: list[str]) -> list[tuple[str, str]]:
    if not keys:
        return []
    return list(session.exec(select(SubmissionJournal.key, SubmissionJournal.kind)
                             .where(col(SubmissionJournal.key).in_(keys))))
