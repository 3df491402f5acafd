"""Engine, sessions and migrations.

SQLite (a file, by default) serves one instance; PostgreSQL (psycopg 3) serves several.
The schema is owned by Alembic: `upgrade()` runs at start and from `coregroup db upgrade`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, Select, event, text
from sqlalchemy.engine import Compiled, make_url
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs written the usual way."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_day(moment: str | None, zone: str) -> str | None:
    """The day (YYYY-MM-DD) a naive UTC moment as SQLite stores it falls on in the timezone `zone`."""
    if moment is None:
        return None
    return datetime.fromisoformat(moment).replace(tzinfo=UTC).astimezone(_zone(zone)).date().isoformat()


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        in_memory = make_url(url).database in (None, "", ":memory:")
        pool = {} if in_memory else {"pool_size": pool_size, "max_overflow": pool_size}
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True,
                               **pool)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            # Let SQLAlchemy's "begin" event issue BEGIN itself (the SQLAlchemy SQLite recipe).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # SQLite has no timezones: the day a UTC moment falls on in a named zone, for the oversight facts
            # (PostgreSQL does the same with AT TIME ZONE; models/oversight.py, _Sql.local_day).
            dbapi_connection.create_function("cg_local_day", 2, local_day, deterministic=True)

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Take the write lock at BEGIN so that two writers queue instead of failing mid-way; a read-only
            # session (read_scope) reads a snapshot without it, so reads never wait for writers (WAL).
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # hide_parameters: an error message must never carry case text into a log.
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
                         hide_parameters=True)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema up to date (idempotent), and fill the table of working days if it is empty."""
    command.upgrade(alembic_config(engine), revision)
    if revision == "head":
        from models.oversight import ensure_calendar

        with Session(engine) as session:
            ensure_calendar(session)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def ping(engine: Engine) -> bool:
    """True when the database answers a trivial query."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


READ_ONLY = "coregroup_read_only"


class ReadOnlySession(Session):
    """A session that refuses to flush anything (see read_scope)."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _flush_context, _instances) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read-only session was asked to write; use session_scope")


def _read_only(engine: Engine) -> Engine:
    """The engine's read-only twin (the same pool), made once: every check before an answer reads through it."""
    twin = getattr(engine, "_coregroup_read_only", None)
    if twin is None:
        twin = engine.execution_options(**{READ_ONLY: True})
        engine._coregroup_read_only = twin  # type: ignore[attr-defined]
    return twin


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session for reading only: on SQLite it does not take the write lock, so checks and look-ups (who is
    asking, which case) never queue behind another request's writes. Writing in it raises."""
    with ReadOnlySession(_read_only(engine), expire_on_commit=False) as session:
        yield session  # closing the session ends its transaction; what was read stays readable


def _unpinged(engine: Engine) -> Engine:
    """For OneRead on PostgreSQL: a pool of its own, in autocommit, that does not ping the server before each use
    (a round trip; a connection found closed is replaced and the statement run once more instead). Made once
    per engine and disposed with it. SQLite has nothing to ping: its own pool."""
    if is_sqlite(engine):
        return engine
    twin = getattr(engine, "_coregroup_unpinged", None)
    if twin is None:
        # As many kept open as the main pool: a connection opened for a burst and closed after it costs a
        # PostgreSQL connection start-up (milliseconds) in the middle of someone's answer.
        twin = create_engine(engine.url, pool_size=engine.pool.size(), max_overflow=engine.pool.size(),
                             pool_pre_ping=False, pool_reset_on_return=None, isolation_level="AUTOCOMMIT",
                             hide_parameters=True)
        engine._coregroup_unpinged = twin  # type: ignore[attr-defined]
        event.listen(engine, "engine_disposed", lambda _engine: twin.dispose())
    return twin


class OneRead:
    """A Core SELECT of plain columns, run on the driver's own connection from a pool, for the checks made before
    a busy request is answered (twenty updates in the minute before a meeting).

    Through a Connection the same look-up costs some 300 microseconds of Python on SQLite (events, BEGIN and
    ROLLBACK, result processing) against 10 for the query itself, and on PostgreSQL three more round trips;
    the answering thread pays that while others wait for the interpreter. Here the statement is compiled once
    for the database and runs outside a transaction (one statement reads one snapshot; on PostgreSQL on a pool
    of its own, see _unpinged), and the first row comes back as a tuple. Only for one statement whose columns
    need no conversion (ids and text); anything else uses read_scope. A failure is raised as SQLAlchemy's
    error, and the connection is not reused."""

    def __init__(self, statement: Select):
        self.statement = statement
        self._compiled: dict[str, Compiled] = {}

    def first(self, engine: Engine, **params: object) -> tuple | None:
        compiled = self._compiled.get(engine.dialect.name)
        if compiled is None:
            compiled = self._compiled[engine.dialect.name] = self.statement.compile(dialect=engine.dialect)
        values = {name: str(value) if isinstance(value, str) else value  # a StrEnum as its text
                  for name, value in compiled.construct_params(params).items()}
        args = tuple(values[name] for name in compiled.positiontup) if compiled.positional else values
        return execute_raw(engine, compiled.string, args, fetch=True)


def execute_raw(engine: Engine, sql: str, args, *, fetch: bool = False) -> tuple | None:
    """One statement on a raw connection from the engine's unpinged pool (`_unpinged`), and its first row if
    `fetch`. A connection the server has closed since it was pooled (a restart) is found by the statement
    failing, not by a ping before every statement: it is thrown away and the statement run once more on a new
    one. Errors come back as SQLAlchemy's DBAPIError, never with the parameters (they may hold case text)."""
    pool_of = _unpinged(engine)
    dbapi_error = engine.dialect.loaded_dbapi.Error
    for attempt in (1, 2):
        try:
            connection = pool_of.raw_connection()
        except dbapi_error as error:  # no connection at all: the database is not there
            raise DBAPIError.instance(None, None, error, dbapi_error, hide_parameters=True) from error
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, args)
                row = cursor.fetchone() if fetch else None
            finally:
                cursor.close()
            return None if row is None else tuple(row)
        except dbapi_error as error:
            closed = pool_of.dialect.is_disconnect(error, connection.driver_connection, None)
            connection.invalidate()
            if attempt == 1 and closed:
                continue  # a connection the server has closed since (a restart): once more, on a new one
            raise DBAPIError.instance(sql, None, error, dbapi_error, hide_parameters=True) from error
        finally:
            connection.close()  # back to the pool (or closed, if invalidated above)
    return None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def change_once(session: Session, model: type, row_id: int, *conditions, **values) -> bool:
    """A one-way change of one row as a single conditional statement
    (`UPDATE … SET values WHERE id = row_id AND conditions RETURNING id`), in the caller's transaction.

    True for the one caller whose statement changed the row; False when the row is not (or no longer) as the
    conditions say. On PostgreSQL a second, simultaneous caller waits for the first's row lock and then finds
    the conditions false, so a read in Python followed by a write can never let both through. The row, when
    already in the session, is refreshed to what was written."""
    from sqlalchemy import update

    changed = session.exec(
        update(model).where(model.id == row_id, *conditions).values(**values).returning(model.id)
        .execution_options(synchronize_session=False)
    ).first()
    if changed is None:
        return False
    row = session.get(model, row_id)
    if row is not None:
        session.refresh(row)
        from models import meeting_facts

        meeting_facts.note(session, row)  # oversight's facts of the row's case are worked out again at commit
    return True
