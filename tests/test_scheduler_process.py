"""End to end: `coregroup run --http` as real processes, with the Slack stand-in as their Web API.

- Stopped before a message falls due and started after: it is sent once; restarted again: nothing more.
- Two processes on one PostgreSQL database, both running before 200 nudges fall due: they compete for the
  work, each sends some of it, and together exactly 200 messages reach Slack, none twice.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from models import reminders
from models.db import make_engine, normalise_url, upgrade
from models.ledger import Kind
from models.planning import Policy
from models.tables import Action, Case, Member, MessageStatus, ScheduledMessage
from tests.appprocess import AppProcess
from tests.conftest import DATABASE, POSTGRES_URL
from tests.reminder_world import make_world
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow


def dms_to(slack: SlackStandIn, user_id: str) -> list[dict]:
    return [m for m in slack.messages(user_id) if m.get("user") == SlackStandIn.BOT_USER]


@pytest.mark.real_clock  # the installed `coregroup` command, on the machine's clock
def test_stopped_before_the_due_time_and_started_after_sends_once_and_restarts_send_nothing_more(
        engine, slack, tmp_path):
    reminders.configure(Policy())
    now = datetime.now(UTC)
    due = now + timedelta(seconds=10)
    world = make_world(engine, slack, now=now)
    # A meeting running now, planned to end 10 minutes after `due`: the chair's prompt is due at `due`.
    world.meeting(due + timedelta(minutes=10) - timedelta(minutes=90), now=now, chair="hv", status="in_progress")
    [row] = world.rows(kind=Kind.TIMEKEEPING)
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()

    first = AppProcess(tmp_path, "first", database_url=url, slack=slack, instance="app-1")
    try:
        first.wait_for_log("scheduled work: first run done")
        first.wait_serving()  # the scheduler's first run can finish before the HTTP server listens
        assert first.healthy()
    finally:
        first.stop()
    assert datetime.now(UTC) < due, "the first process took too long to start and stop on this machine"
    assert dms_to(slack, world.user("hv")) == []
    assert world.rows(kind=Kind.TIMEKEEPING)[0].status == MessageStatus.PENDING

    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 1)
    second = AppProcess(tmp_path, "second", database_url=url, slack=slack, instance="app-1")
    try:
        second.wait_for_log("scheduled work: first run done")
        slack.wait_for("chat.postMessage", timeout=10,
                       where=lambda c: c.response.get("ok") and c.response["channel"].startswith("D"))
    finally:
        second.stop()
    [message] = dms_to(slack, world.user("hv"))
    assert "Time to recap the main points and the decisions taken" in str(message["blocks"])
    assert world.rows(kind=Kind.TIMEKEEPING)[0].status == MessageStatus.SENT

    third = AppProcess(tmp_path, "third", database_url=url, slack=slack, instance="app-1")
    try:
        third.wait_for_log("scheduled work: first run done")
        time.sleep(2.5)  # a few more runs at one-second intervals
    finally:
        third.stop()
    assert len(dms_to(slack, world.user("hv"))) == 1
    assert row.key == world.rows(kind=Kind.TIMEKEEPING)[0].key


@pytest.fixture
def postgres_url():
    """A fresh PostgreSQL database, whichever database the rest of the suite runs on. A run on PostgreSQL (as
    in CI, where scripts/check starts the server) fails if the server cannot be reached; a SQLite run skips."""
    admin_url = make_url(normalise_url(POSTGRES_URL))
    name = f"coregroup_race_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no PostgreSQL here: say so rather than pass
        admin.dispose()
        reason = f"PostgreSQL is not available at {admin_url.host}:{admin_url.port} ({type(error).__name__})"
        if DATABASE == "postgresql":
            pytest.fail(f"{reason}, and this run is on PostgreSQL; run scripts/postgres-up")
        pytest.skip(f"{reason}; run scripts/postgres-up")
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


NUDGES = 200
CASES = 20
DUE = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)  # Wednesday 09:00: the first nudges for actions due on Tuesday
START_AT = DUE - timedelta(seconds=20)  # both processes start 20 seconds before, so both are running when
INSTANCES = ("app-1", "app-2")  # the work falls due


def seed_nudges(engine, slack: SlackStandIn) -> None:
    """20 cases, 10 members each on Slack, each owning one action due Tuesday 1 December 2026."""
    planned = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    with Session(engine, expire_on_commit=False) as session:
        for c in range(CASES):
            users = [f"U0P{c:02d}{m:02d}" for m in range(NUDGES // CASES)]
            for user_id in users:
                slack.add_user(user_id, name=f"Practitioner {user_id[3:]}")
            channel = slack.add_channel(f"cg-cp-race-{c:04d}", is_private=True, members=users)
            case = Case(reference=f"CP-RACE-{c:04d}", team_id=slack.TEAM, channel_id=channel.id,
                        channel_name=channel.name, initial_conference_date=date(2026, 11, 2),
                        created_by_team_id=slack.TEAM, created_by_user_id=users[0])
            session.add(case)
            session.flush()
            for index, user_id in enumerate(users):
                member = Member(case_id=case.id, name=f"Practitioner {user_id[3:]}", role="Health visitor",
                                slack_team_id=slack.TEAM, slack_user_id=user_id, is_lead=index == 0)
                session.add(member)
                session.flush()
                action = Action(case_id=case.id, what=f"Action {user_id[3:]}", owner_member_id=member.id,
                                due_date=date(2026, 12, 1), created_at=planned)
                session.add(action)
                session.flush()
                reminders.action_changed(session, action=action, now=planned)
        session.commit()


def overdue_rows(engine) -> list[ScheduledMessage]:
    with Session(engine) as session:
        return list(session.exec(select(ScheduledMessage).where(ScheduledMessage.kind == Kind.OVERDUE)))


def sent_in_log(app: AppProcess) -> int:
    """How many messages the process says it sent, from its own "scheduled work: …, sent N" lines."""
    return sum(int(n) for n in re.findall(r"scheduled work: (?!first run done)[^\n]*?\bsent (\d+)",
                                          app.log.read_text()))


def test_two_processes_on_one_postgresql_database_share_200_due_nudges_and_send_each_exactly_once(
        postgres_url, slack, tmp_path):
    reminders.configure(Policy())
    engine = make_engine(postgres_url)
    upgrade(engine)
    seed_nudges(engine, slack)
    assert {r.due_at for r in overdue_rows(engine)} == {DUE}
    # Slack takes a few milliseconds over each message, as it does: no one process is done before the other looks.
    slack.delay_next("chat.postMessage", 0.01, times=2 * NUDGES)
    apps = [AppProcess(tmp_path, name, database_url=postgres_url, slack=slack, at=START_AT.isoformat(),
                       instance=name) for name in INSTANCES]
    try:
        for app in apps:
            app.wait_for_log("scheduled work: first run done (nothing due)", timeout=60)
        assert all(r.status == MessageStatus.PENDING for r in overdue_rows(engine)), \
            "a process took too long to start on this machine: the work fell due before both were running"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if sum(r.status == MessageStatus.SENT for r in overdue_rows(engine)) >= NUDGES:
                break
            time.sleep(0.2)
        time.sleep(2.5)  # both keep running a few more one-second runs
    finally:
        for app in apps:
            app.stop()
    posted = [c for c in slack.calls_to("chat.postMessage") if c.response.get("ok")]
    keys = Counter(c.args["metadata"]["event_payload"]["key"] for c in posted)
    assert len(posted) == NUDGES and len(keys) == NUDGES and max(keys.values()) == 1
    per_person = Counter(c.response["channel"] for c in posted)
    assert len(per_person) == NUDGES  # each owner got their own nudge, once
    rows = overdue_rows(engine)
    by_status = Counter(r.status for r in rows)
    assert by_status[MessageStatus.SENT] == NUDGES and by_status[MessageStatus.PENDING] == NUDGES  # next nudges
    sent = [r for r in rows if r.status == MessageStatus.SENT]
    assert {r.key for r in sent} == set(keys)
    by_instance = Counter(r.claimed_by for r in sent)
    assert set(by_instance) == set(INSTANCES) and min(by_instance.values()) >= 1, by_instance
    assert sum(by_instance.values()) == NUDGES
    # Each process's own account of what it sent agrees with the ledger's.
    assert {app.instance: sent_in_log(app) for app in apps} == dict(by_instance)
    engine.dispose()
