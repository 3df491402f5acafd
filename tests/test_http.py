"""HTTP mode: signed requests only, and a health check that tells the truth about the database."""

from __future__ import annotations

import json
import time
import urllib.parse

import pytest
from sqlmodel import Session, select

from handlers.ids import Block, View
from models.db import make_engine
from models.tables import Case
from tests.conftest import settings_for
from tests.harness import RunningApp, post_signed, sign, view_state
from tests.helpers import every_row, opened_view


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


# --- requests Slack did not sign: refused before anything is read, stored or sent ------------------------


def new_case_form_body(people, slack) -> str:
    """The new-case form as Slack would send it when submitted, filled in: accepted, it makes a case, its
    channel and its members."""
    people["sw"].command("new")
    view = dict(opened_view(slack, View.NEW_CASE), hash="h")
    view["state"] = view_state(view, {
        Block.REFERENCE: "CP-TEST-0001", Block.CHILDREN: "Child A (7)", Block.INITIAL: "2026-11-16",
        Block.REVIEW: "2027-02-08", Block.FREQUENCY: 6, Block.PROFESSIONALS: [people["hv"].user_id],
        Block.LEAD: people["sw"].user_id})
    payload = {"type": "view_submission", "team": {"id": "T0COUNCIL", "domain": "council"},
               "user": {"id": "U0SW", "team_id": "T0COUNCIL", "name": "user"}, "api_app_id": "A0COREGROUP",
               "trigger_id": slack.trigger_id(), "view": view}
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


FORM = "application/x-www-form-urlencoded"
def tampered(body: str) -> str:
    """The same request, changed after Slack signed it: someone else's user id in it."""
    assert "U0SW" in body
    return body.replace("U0SW", "U0HV")


# What is sent instead of a request Slack signed: (the body sent, post_signed's arguments).
UNSIGNED = {
    "missing signature": lambda body, now: (body, dict(timestamp=now, signature="")),
    "forged signature": lambda body, now: (body, dict(timestamp=now, secret="not-the-signing-secret")),
    "tampered body": lambda body, now: (tampered(body), dict(timestamp=now, signature=sign(body, now))),
    "signed more than five minutes ago": lambda body, now: (body, dict(timestamp=now - 5 * 60 - 1)),
    "signed more than five minutes ahead": lambda body, now: (body, dict(timestamp=now + 5 * 60 + 1)),
    "an empty timestamp": lambda body, now: (body, dict(timestamp="", signature=sign(body, now))),
    "a timestamp that is not a number": lambda body, now: (body, dict(timestamp="soon", signature=sign(body, now))),
}


@pytest.mark.parametrize("request_kind", ["the new-case form submitted", "/coregroup new typed"])
@pytest.mark.parametrize("fault", list(UNSIGNED))
def test_a_request_slack_did_not_sign_is_401_and_stores_and_sends_nothing(app, slack, people, fault, request_kind):
    body = new_case_form_body(people, slack) if request_kind.startswith("the new-case form") \
        else _command_body(slack)
    app.wait_idle()
    before, mark = every_row(app.engine), len(slack.calls)  # processed_requests included: not even noted
    sent, how = UNSIGNED[fault](body, int(time.time()))
    reply = post_signed(app.url + "/slack/events", sent, FORM, **how)
    app.wait_idle()
    assert reply.status == 401
    assert slack.calls[mark:] == [], [c.method for c in slack.calls[mark:]]
    after = every_row(app.engine)
    assert [name for name in before if before[name] != after[name]] == []

    # The very same request, signed as Slack signs it, is acted on: it was one that would have written.
    reply = post_signed(app.url + "/slack/events", body, FORM)
    app.wait_idle()
    assert reply.status == 200
    if request_kind.startswith("the new-case form"):
        assert [c.reference for c in select_all(app.engine, Case)] == ["CP-TEST-0001"]
        assert slack.calls_to("conversations.create")
    else:
        assert slack.calls[mark:] and slack.calls[-1].method == "views.open"


def select_all(engine, table) -> list:
    with Session(engine) as session:
        return list(session.exec(select(table)))


def test_forged_view_submission_stores_nothing(app, slack, session):
    payload = {"type": "view_submission", "team": {"id": "T0COUNCIL"}, "user": {"id": "U0SW", "team_id": "T0COUNCIL"},
               "view": {"id": "V1", "callback_id": "case_new", "private_metadata": "{}", "state": {"values": {}}}}
    body = urllib.parse.urlencode({"payload": json.dumps(payload)})
    reply = post_signed(app.url + "/slack/events", body, "application/x-www-form-urlencoded", secret="wrong")
    app.wait_idle()
    assert reply.status == 401
    assert session.exec(select(Case)).all() == []
