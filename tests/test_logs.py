"""Logs carry ids and event names only: never case text, never a token.

Distinctive text is typed into every free-text field of a whole case (tests/case_walk.py), with the app's own
logging configuration (`bot.cli.configure_logging`) at DEBUG, and everything logged or written to stderr is
searched for it, also on the error paths: a listener that fails, a Slack error and the database failing.

Scheduled work too: the dispatcher sends reminders, nudges, notices and reports about a case whose every piece of
text is planted, through Slack's failures (a 429, 500s until the next run, a time-out, a refused direct message)
and an internal error whose message carries case text. With the app's logging, nothing is logged but ids; with
every logger forced to DEBUG (slack_sdk's and SQLAlchemy's included) the token and the app's own lines stay
clean, and what the libraries themselves print is pinned below.
"""

from __future__ import annotations

import io
import logging
from datetime import date, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from bot import cli
from bot.harness import SIGNING_SECRET
from handlers.blocks import reminders as reminder_texts
from handlers.ids import Block, View
from models import decisions, reminders
from models.db import make_engine
from models.ledger import Kind
from models.planning import Policy
from models.tables import Decision, MessageStatus
from tests.case_walk import CaseWalk
from tests.helpers import new_case, opened_view
from tests.recap_world import running_meeting
from tests.reminder_world import at, dispatcher, make_world
from tests.slack_standin import SlackStandIn

PLANTED = "ZEBRA-CASE-TEXT"
SECRETS = (SlackStandIn.BOT_TOKEN, SIGNING_SECRET)


def planted(field: str, default: str) -> str:
    if field == "children":
        return f"Child A {PLANTED} (7)"
    return f"{PLANTED} {field} {default}"


@pytest.fixture
def logged(capfd):
    """Everything the app logs at DEBUG, with its own configuration, plus whatever reaches stderr."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    saved_levels = {name: logging.getLogger(name).level for name in logging.root.manager.loggerDict}
    root.handlers = []
    cli.configure_logging("DEBUG")
    buffer = io.StringIO()
    for handler in root.handlers:  # the app's own handler and format, written where the test can read it
        handler.setStream(buffer)
    assert root.handlers and root.level == logging.DEBUG

    def read() -> str:
        out, err = capfd.readouterr()
        return buffer.getvalue() + out + err

    yield read
    root.handlers = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


def assert_clean(text: str) -> None:
    assert text, "nothing was logged at all: the capture is not working"
    for secret in (PLANTED, *SECRETS):
        where = text.find(secret)
        assert where < 0, f"{secret!r} was logged: …{text[max(0, where - 300):where + 100]}…"


def test_a_whole_case_logs_no_case_text_and_no_token(people, slack, app, logged):
    CaseWalk(people, slack, app, text=planted).run()
    text = logged()
    assert "case 1 created" in text  # the app's own lines are there, with ids
    assert_clean(text)


def test_the_error_paths_log_no_case_text(people, slack, app, logged, monkeypatch):
    info = new_case(people, slack, members=("hv", "teacher", "gp", "police"))
    world = running_meeting(app.engine, info, people, )
    hv = people["hv"]

    # A listener that fails, with case text in its exception's message.
    def failing(*args, text: str, **kwargs):
        raise RuntimeError(f"could not record {text}")

    monkeypatch.setattr(decisions, "record", failing)
    hv.command("decision", channel=info.channel_id)
    reply = hv.submit(opened_view(slack, View.DECISION), {Block.DECISION_TEXT: f"{PLANTED} decision one"})
    assert reply.status == 200
    monkeypatch.undo()

    # Slack refuses, errs and rate-limits while the decision is posted.
    for status, error in ((200, "channel_not_found"), (500, "internal_error"), (429, "ratelimited")):
        slack.fail_next("chat.postMessage", status=status, error=error, retry_after=0, times=5)
        hv.command("decision", channel=info.channel_id)
        reply = hv.submit(opened_view(slack, View.DECISION), {Block.DECISION_TEXT: f"{PLANTED} decision {error}"})
        assert reply.status == 200
    slack.reset()

    # The database stops answering mid-way.
    hv.command("decision", channel=info.channel_id)
    view = opened_view(slack, View.DECISION)
    working = app.deps.engine
    app.deps.engine = make_engine("postgresql://coregroup:coregroup@127.0.0.1:9/nowhere")
    try:
        reply = hv.submit(view, {Block.DECISION_TEXT: f"{PLANTED} decision lost"})
        hv.command(f"action {PLANTED} action typed after the command", channel=info.channel_id)
    finally:
        app.deps.engine.dispose()
        app.deps.engine = working
    assert reply.status == 200

    text = logged()
    assert "listener failed: RuntimeError" in text and "listener failed: OperationalError" in text
    assert_clean(text)
    with Session(app.engine) as session:
        saved = session.exec(select(Decision).where(Decision.meeting_id == world.meeting_id)).all()
    assert len(saved) == 1 + 3  # the planted decisions saved while Slack failed, and the world's own


# --- scheduled work -------------------------------------------------------------------------------------------

LIBRARIES = ("slack_sdk", "slack_bolt", "sqlalchemy", "urllib3", "apscheduler")


def every_logger_at_debug() -> None:
    """Whatever the app's configuration holds back, every logger there is (and the libraries') at DEBUG."""
    for name in [*logging.root.manager.loggerDict, *LIBRARIES]:
        logging.getLogger(name).setLevel(logging.DEBUG)


def app_lines(text: str) -> str:
    """The lines logged by the app's own modules (bot, handlers, models), and anything else that is not a
    library's logger (stderr, warnings)."""
    return "\n".join(line for line in text.splitlines()
                     if not any(f" {lib}" in line.split(": ", 1)[0] for lib in LIBRARIES))


def send_scheduled_work_about_planted_text(engine, slack, monkeypatch) -> None:
    """A case whose every text is planted, and the dispatcher sending everything that falls due for it over
    four weeks, through Slack's failures and one internal error."""
    reminders.configure(Policy())
    planned = at("2026-11-23T12:00")
    slack.add_user("U0MGR", name=f"{PLANTED} manager name")
    world = make_world(engine, slack, now=planned, reference=f"CP-{PLANTED}-1", review=date(2027, 2, 8),
                       opened=True)
    for key in ("sw", "hv", "teacher"):
        world.change_member(key, now=planned, name=f"{PLANTED} {key} name", role=f"{PLANTED} {key} role",
                            agency=f"{PLANTED} {key} agency", manager_team_id=slack.TEAM, manager_user_id="U0MGR")
    world.add_member("parent", slack=False, name=f"{PLANTED} parent name", role=f"{PLANTED} parent role")
    world.meeting(at("2026-12-08T10:00"), now=planned, chair="hv", location=f"{PLANTED} meeting location")
    world.action("hv", date(2026, 12, 1), now=planned, what=f"{PLANTED} action of the health visitor")
    world.action("parent", date(2026, 12, 1), now=planned, what=f"{PLANTED} action of the parent")
    world.action("teacher", date(2026, 12, 20), now=planned, what=f"{PLANTED} action of the teacher")
    world.change_member("teacher", now=planned, away_until=date(2026, 12, 18))
    slack.refuse_dm(slack.TEAM, world.user("sw"))  # the lead's messages go to their thread in the channel

    def run(when, **kw):
        with time_machine.travel(when, tick=False):
            return dispatcher(engine, slack, **kw).run_once()

    slack.fail_next("chat.postMessage", status=429, retry_after=0)
    run(planned + timedelta(minutes=1))  # the notice that the teacher is away
    run(at("2026-11-24T09:01"))  # the lapse check: no meeting within 10 working days of the conference
    slack.fail_next("chat.postMessage", status=500, times=3)  # the first try and both of the client's retries
    run(at("2026-12-02T09:01"))  # nudges, the drift summary, the lapse: one of them fails
    slack.delay_next("chat.postMessage", 3.0)
    posts = len(slack.calls_to("chat.postMessage"))
    run(at("2026-12-02T09:05"), timeout=1)  # looked for in Slack, sent again: it times out
    slack.wait_for("chat.postMessage", count=posts + 1, timeout=10)  # Slack posted it after all
    run(at("2026-12-02T10:00"))  # found in Slack this time: recorded, not sent again

    real = reminder_texts.for_send

    def failing_once(decision, **kwargs):
        monkeypatch.setattr(reminder_texts, "for_send", real)
        raise RuntimeError(f"could not build a message about {decision.case.reference} {decision.case.channel_name}")

    monkeypatch.setattr(reminder_texts, "for_send", failing_once)
    run(at("2026-12-04T09:01"))  # two working days before the meeting: one message fails inside the app
    run(at("2026-12-04T09:30"))
    run(at("2026-12-08T09:01"))  # the morning of the meeting
    run(at("2026-12-17T09:00"))  # a nudge past its grace: missed, and reported in the channel

    sent = world.rows(status=MessageStatus.SENT)
    kinds = {r.kind for r in sent}
    assert {Kind.AWAY, Kind.OVERDUE, Kind.DRIFT, Kind.LAPSE_CHANNEL, Kind.LAPSE_MANAGER, Kind.REMIND_2D_MEMBER,
            Kind.REMIND_MORNING_MEMBER, Kind.MISSED_REPORT} <= kinds, kinds
    assert {r.delivered_via for r in sent} >= {"dm", "thread", "channel"}
    assert any(r.attempts for r in sent)  # the failures really happened, and were got over
    assert world.rows(kind=Kind.OVERDUE, status=MessageStatus.MISSED)
    assert PLANTED in str([m.get("blocks") for m in slack.messages(world.channel_id)])  # the text went to Slack


def test_scheduled_work_logs_no_case_text_and_no_token(engine, slack, logged, monkeypatch):
    send_scheduled_work_about_planted_text(engine, slack, monkeypatch)
    text = logged()
    assert "scheduled work: " in text and "not sent: http:500" in text and "not sent: net:TimeoutError" in text
    assert "failed: RuntimeError" in text and "already in Slack" in text  # the paths were all logged, with ids
    assert_clean(text)


class _Seen(logging.Handler):
    """Counts the libraries' records before any filter: proof that they really logged at DEBUG."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.names: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.WARNING:
            self.names.add(record.name.split(".", 1)[0])


def test_with_every_logger_at_debug_no_case_text_or_token_is_logged(engine, slack, logged, monkeypatch):
    """Someone lowers every logger to DEBUG to look into a problem: the Slack and database libraries then log
    payloads and rows, and the app's handler drops those records (bot/cli.py LibraryPayloads)."""
    every_logger_at_debug()
    seen = _Seen()
    logging.getLogger().addHandler(seen)
    try:
        send_scheduled_work_about_planted_text(engine, slack, monkeypatch)
    finally:
        logging.getLogger().removeHandler(seen)
    assert {"slack_sdk", "sqlalchemy"} <= seen.names  # the libraries really were logging at DEBUG
    text = logged()
    assert "scheduled work: " in text  # the app's own lines are still there
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} was logged"
    assert_clean(text)
