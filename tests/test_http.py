"""HTTP mode: signed requests only, and a health check that tells the truth about the database."""

from __future__ import annotations

import json
import time
import urllib.parse

from sqlmodel import select

from models.db import make_engine
from models.tables import Case
from tests.conftest import settings_for
from tests.harness import RunningApp, post_signed, sign


def _command_body(slack, text="new", user="U0SW"):
    return urllib.parse.urlencode({
        "team_id": "T0COUNCIL", "user_id": user, "channel_id": "C0GENERAL", "command": "/coregroup",
        "text": text, "response_url": slack.response_url(), "trigger_id": slack.trigger_id(),
    })


def test_healthz_answers_once_the_database_answers(app):
    reply = app.get("/healthz")
    assert (reply.status, reply.body) == (200, "ok\n")


def test_healthz_is_503_when_the_database_does_not_answer(slack, tmp_path):
    broken = make_engine(f"sqlite:///{tmp_path}/missing-folder/x.db")
    running = RunningApp(settings_for(slack, "sqlite://"), broken)
    try:
        reply = running.get("/healthz")
        assert reply.status == 503 and "database" in reply.body
    finally:
        running.stop()


def test_unknown_paths_are_404(app):
    assert app.get("/slack/other").status == 404


def test_correctly_signed_command_is_accepted(app, slack, people):
    reply = post_signed(app.url + "/slack/events", _command_body(slack), "application/x-www-form-urlencoded")
    app.wait_idle()
    assert reply.status == 200
    assert slack.calls_to("views.open"), "the new-case modal should open"


def test_forged_signature_is_401_and_does_nothing(app, slack):
    body = _command_body(slack)
    reply = post_signed(app.url + "/slack/events", body, "application/x-www-form-urlencoded",
                        secret="not-the-signing-secret")
    app.wait_idle()
    assert reply.status == 401
    assert slack.calls == []


def test_tampered_body_is_401(app, slack):
    body = _command_body(slack)
    now = int(time.time())
    signature = sign(body, now)
    reply = post_signed(app.url + "/slack/events", body.replace("new", "help"), "application/x-www-form-urlencoded",
                        timestamp=now, signature=signature)
    assert reply.status == 401


def test_missing_signature_is_401(app, slack):
    reply = post_signed(app.url + "/slack/events", _command_body(slack), "application/x-www-form-urlencoded",
                        signature="")
    assert reply.status == 401


def test_five_minute_old_signature_is_401(app, slack):
    old = int(time.time()) - 5 * 60 - 1
    reply = post_signed(app.url + "/slack/events", _command_body(slack), "application/x-www-form-urlencoded",
                        timestamp=old)
    app.wait_idle()
    assert reply.status == 401
    assert slack.calls == []


def test_forged_view_submission_stores_nothing(app, slack, session):
    payload = {"type": "view_submission", "team": {"id": "T0COUNCIL"}, "user": {"id": "U0SW", "team_id": "T0COUNCIL"},
               "view": {"id": "V1", "callback_id": "case_new", "private_metadata": "{}", "state": {"values": {}}}}
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    reply = post_signed(app.url + "/slack/events", body, "application/x-www-form-urlencoded", secret="wrong")
    app.wait_idle()
    assert reply.status == 401
    assert session.exec(select(Case)).all() == []
