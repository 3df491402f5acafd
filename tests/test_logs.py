"""Logs carry ids and event names only: never case text, never a token.

Distinctive text is typed into every free-text field of a whole case (tests/case_walk.py), with the app's own
logging configuration (`bot.cli.configure_logging`) at DEBUG, and everything logged or written to stderr is
searched for it, also on the error paths: a listener that fails, a Slack error and the database failing.
"""

from __future__ import annotations

import io
import logging

import pytest
from sqlmodel import Session, select

from bot import cli
from bot.harness import SIGNING_SECRET
from handlers.ids import Block, View
from models import decisions
from models.db import make_engine
from models.tables import Decision
from tests.case_walk import CaseWalk
from tests.helpers import new_case, opened_view
from tests.recap_world import running_meeting
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
