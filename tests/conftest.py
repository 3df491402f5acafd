"""Shared fixtures: a real database (SQLite, or PostgreSQL when asked), the Slack stand-in, the app.

Which database: `COREGROUP_TEST_DATABASE=sqlite` (default) or `postgresql`; the PostgreSQL server
is reached at `COREGROUP_TEST_POSTGRES_URL` (default: the `coregroup` role on 127.0.0.1), and each
test run makes its own database there, so runs side by side do not meet.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from bot.settings import Settings
from models.db import make_engine, normalise_url, upgrade
from models.oversight import ensure_calendar
from tests.harness import SIGNING_SECRET, RunningApp, SlackUser
from tests.slack_standin import SlackStandIn

DATABASE = os.environ.get("COREGROUP_TEST_DATABASE", "sqlite")
POSTGRES_URL = os.environ.get("COREGROUP_TEST_POSTGRES_URL",
                              "postgresql://coregroup:coregroup@127.0.0.1:5432/postgres")


# The day the suite runs on: a Monday a week after the fixtures' initial conference (16 November 2026), so a
# case's statutory calendar reads the same whatever today's date is. The clock ticks from there; a test that
# needs another moment travels there itself.
TEST_DAY = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def pytest_report_header(config):
    return f"database: {DATABASE}; the clock starts at {TEST_DAY.isoformat()}"


# Tests that take ten seconds or more (scripts/check, `--durations`), besides those marked slow: they run first, so
# that the two workers end together instead of one of them finishing a long test alone at the end.
LONG = ("tests/test_security.py::test_every_entry_point", "tests/test_security.py::test_mentions_and_links",
        "tests/test_demo.py::", "tests/test_fuzz.py::test_forms", "tests/test_audit.py::test_every_write_of_a_whole",
        "tests/test_idempotency.py::test_the_walk", "tests/test_idempotency.py::test_every_form",
        "tests/test_logs.py::test_a_whole_case")


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: not (item.get_closest_marker("slow") or item.nodeid.startswith(LONG)))


@pytest.fixture(autouse=True)
def test_day(request) -> Iterator[None]:
    if request.node.get_closest_marker("real_clock"):
        yield
        return
    with time_machine.travel(TEST_DAY, tick=True):
        yield


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> Iterator[str]:
    """A migrated database for this test session (a template file for SQLite); upgrade fills the working days."""
    if DATABASE == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        engine.dispose()
        yield f"sqlite:///{path}"
        return
    admin_url = make_url(normalise_url(POSTGRES_URL))
    name = f"coregroup_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
        # A commit does not wait for its WAL record to reach the disk: only a crash of the PostgreSQL server itself
        # could lose the last moment's commits, and no test crashes it (the crash tests kill the app's process).
        conn.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def engine(database_url, tmp_path):
    """A clean, migrated database for one test."""
    if DATABASE == "sqlite":
        template = make_url(database_url).database
        path = tmp_path / "coregroup.db"
        shutil.copy(template, path)
        engine = make_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
        return
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(_emptying(conn))
    with Session(engine) as session:
        ensure_calendar(session)  # as upgrade leaves it (one look-up, unless a test changed the working days)
    yield engine
    engine.dispose()


_EMPTYING: list[str] = []


def _emptying(conn) -> str:
    """One round trip that leaves the session's PostgreSQL database as the upgrade left it: every table but the
    working days empty, and every sequence at its start, as `TRUNCATE … RESTART IDENTITY` does. Rows are deleted
    (children before parents) rather than truncated (which makes new files for every table and index: 0.12 s a test
    rather than 0.02); a table with triggers of its own (the append-only audit trail refuses DELETE) has them off
    for its DELETE, in the same transaction."""
    if not _EMPTYING:
        guarded = {row[0] for row in conn.exec_driver_sql(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid"
            " WHERE NOT t.tgisinternal")}
        days = conn.exec_driver_sql("SELECT count(*) FROM working_days").scalar_one()

        def emptied(name: str) -> str:
            if name == "working_days":  # the same for every test; emptied if a test changed it, then filled again
                return f"IF (SELECT count(*) FROM working_days) <> {days} THEN DELETE FROM working_days; END IF;"
            if name in guarded:
                return (f'IF EXISTS (SELECT 1 FROM "{name}") THEN ALTER TABLE "{name}" DISABLE TRIGGER USER;'
                        f' DELETE FROM "{name}"; ALTER TABLE "{name}" ENABLE TRIGGER USER; END IF;')
            return f'DELETE FROM "{name}";'

        steps = [emptied(t.name) for t in reversed(SQLModel.metadata.sorted_tables)]
        _EMPTYING.append(
            "DO $$ DECLARE s record; BEGIN " + " ".join(steps)
            + " FOR s IN SELECT schemaname, sequencename, start_value FROM pg_sequences"
              " WHERE schemaname = current_schema() AND last_value IS NOT NULL LOOP"
              " PERFORM setval(quote_ident(s.schemaname) || '.' || quote_ident(s.sequencename), s.start_value, false);"
              " END LOOP; END $$")
    return _EMPTYING[0]


@pytest.fixture
def session(engine) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


@pytest.fixture(scope="session")
def standin_server() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()


@pytest.fixture
def slack(standin_server) -> SlackStandIn:
    standin_server.reset(world=True)
    return standin_server


def settings_for(slack: SlackStandIn, database_url: str, **overrides) -> Settings:
    values = dict(bot_token=SlackStandIn.BOT_TOKEN, signing_secret=SIGNING_SECRET, slack_api_url=slack.url,
                  database_url=database_url)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def app(slack, engine) -> Iterator[RunningApp]:
    running = RunningApp(settings_for(slack, engine.url.render_as_string(hide_password=False)), engine)
    yield running
    running.stop()


@pytest.fixture
def people(slack, app):
    """A small cast in the council's workspace, each able to send signed requests."""
    cast = {
        "sw": ("U0SW", "Social Worker A"),
        "hv": ("U0HV", "Health Visitor A"),
        "teacher": ("U0TEACH", "Teacher A"),
        "gp": ("U0GP", "Doctor A"),
        "police": ("U0POL", "Police Officer A"),
        "manager": ("U0MGR", "Team Manager A"),
        "outsider": ("U0OUT", "Someone Else"),
    }
    users = {}
    for key, (user_id, name) in cast.items():
        slack.add_user(user_id, team_id=SlackStandIn.TEAM, name=name, email=f"{key}@council.example")
        users[key] = SlackUser(app, slack, user_id, SlackStandIn.TEAM)
    return users
