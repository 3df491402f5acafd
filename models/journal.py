"""The submission journal: a checked form taken down as it came, committed before the person is answered.

A form many people send at once (the update form, in the minutes before a meeting) is answered as soon as it is
checked, and its saving (the reminders it re-plans, the post, the redraws) happens after the answer. To answer
only what is durable, the form's values and the ids checked before the answer are written here first: one
INSERT, committed (`write`; entries arriving together share one commit, `_GroupCommit`). The entry is then
processed from here (handlers/journal.py): at once on the pool for work after an answer, or, if the process died
first, at the next start and by the scheduler's run. Processing takes the entry with one conditional update in
the same transaction as the save (`take`), so an entry is processed exactly once, whoever gets to it.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import Session, col, select

from models.db import execute_raw, is_sqlite
from models.tables import SubmissionJournal


def _insert(dialect: str):
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(SubmissionJournal).values(key=bindparam("key"), kind=bindparam("kind"),
                                            payload=bindparam("payload")).on_conflict_do_nothing(index_elements=["key"])


class _GroupCommit:
    """Writer threads per engine that commit the entries waiting at that moment in one transaction: twenty forms
    sent at once cost two or three commits (each a flush to disk) instead of twenty made one after the other, while
    each request still waits for its own entry to be committed before it is answered.

    On PostgreSQL a batch is one statement, `INSERT ... VALUES (...), (...) ON CONFLICT (key) DO NOTHING`, on a
    connection of the unpinged pool in autocommit (models.db._unpinged, OneRead's): the statement is its own
    transaction, committed (flushed to disk) when the server answers, so a batch costs one round trip where a
    pinged connection with executemany and COMMIT cost four (the ping, the insert, the commit, and the rollback
    when the connection went back to its pool). A connection the server closed since is replaced and the statement
    sent once more, which is safe: the same key twice is one entry. Two writers there, so that an entry arriving
    while a commit is in flight is not queued behind it. SQLite has one writer at a time anyway: one thread."""

    WAIT = 10.0  # seconds a request waits for its entry to be committed before it is answered with an error
    BATCH = 500  # entries at most in one statement (three parameters each; PostgreSQL allows 65535)

    def __init__(self, engine):
        self.engine = engine
        self.sqlite = is_sqlite(engine)
        self.statement = _insert(engine.dialect.name).compile(dialect=engine.dialect)
        self.queue: list[tuple[dict, threading.Event, list]] = []
        self.lock = threading.Condition()
        for number in range(1 if self.sqlite else 2):
            threading.Thread(target=self._run, name=f"journal-writer-{number}", daemon=True).start()

    def write(self, params: dict) -> None:
        done, failure = threading.Event(), []
        with self.lock:
            self.queue.append((params, done, failure))
            self.lock.notify()
        if not done.wait(self.WAIT):
            raise OperationalError("journal insert", {}, TimeoutError("the journal did not commit in time"))
        if failure:
            raise failure[0]

    def _run(self) -> None:
        while True:
            with self.lock:
                while not self.queue:
                    self.lock.wait()
                batch, self.queue = self.queue[:self.BATCH], self.queue[self.BATCH:]
            rows = [params for params, _, _ in batch]
            try:
                if self.sqlite:
                    self._commit_sqlite(rows)
                else:
                    self._commit_postgresql(rows)
            except Exception as error:  # every request in the batch is told; none is answered as saved
                for _, _, failure in batch:
                    failure.append(error)
            for _, done, _ in batch:
                done.set()

    def _commit_sqlite(self, rows: list[dict]) -> None:
        compiled = self.statement
        args = [tuple(row[name] for name in compiled.positiontup) if compiled.positional else row for row in rows]
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        connection = self.engine.raw_connection()  # autocommit (see models.db): BEGIN and COMMIT are ours
        try:
            cursor = connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                cursor.executemany(compiled.string, args)
                cursor.execute("COMMIT")
            finally:
                cursor.close()
        except dbapi_error as error:
            connection.invalidate()
            raise DBAPIError.instance(compiled.string, None, error, dbapi_error, hide_parameters=True) from error
        finally:
            connection.close()

    def _commit_postgresql(self, rows: list[dict]) -> None:
        sql = _MULTI_ROW.format(", ".join(["(%s, %s, %s)"] * len(rows)))
        args = [value for row in rows for value in (row["key"], row["kind"], row["payload"])]
        execute_raw(self.engine, sql, args)  # autocommit: committed when this returns


# Only placeholders are joined into it ("(%s, %s, %s)" per entry); the values travel as parameters.
_MULTI_ROW = "INSERT INTO submission_journal (key, kind, payload) VALUES {} ON CONFLICT (key) DO NOTHING"


_writers: dict[int, _GroupCommit] = {}
_writers_lock = threading.Lock()


def _writer(engine) -> _GroupCommit:
    writer = _writers.get(id(engine))
    if writer is None or writer.engine is not engine:
        with _writers_lock:
            writer = _writers.get(id(engine))
            if writer is None or writer.engine is not engine:
                writer = _writers[id(engine)] = _GroupCommit(engine)
    return writer


def write(engine, *, key: str, kind: str, payload: dict) -> None:
    """Take the submission down, committed (the same key twice, as when Slack sends a form again, is one entry).
    Raises SQLAlchemy's error if the database cannot take it: then the person is not told it was saved."""
    _writer(engine).write({"key": key, "kind": kind, "payload": json.dumps(payload, separators=(",", ":"))})


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
    """What became of a processed entry; what the form held is not kept (it is in the records it was saved as)."""
    session.execute(update(SubmissionJournal).where(col(SubmissionJournal.id) == entry_id)
                    .values(outcome=outcome, payload="{}"))


def unprocessed(session: Session, *, limit: int = 200) -> list[str]:
    """Keys of entries not processed yet, oldest first."""
    return list(session.exec(select(SubmissionJournal.key).where(col(SubmissionJournal.processed_at).is_(None))
                             .order_by(col(SubmissionJournal.id)).limit(limit)))


def kinds_of(session: Session, keys: list[str]) -> list[tuple[str, str]]:
    if not keys:
        return []
    return list(session.exec(select(SubmissionJournal.key, SubmissionJournal.kind)
                             .where(col(SubmissionJournal.key).in_(keys))))
