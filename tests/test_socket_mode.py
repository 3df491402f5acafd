"""Socket Mode in-process: the real app behind `bot.socket_mode.SocketHandler`, over a real WebSocket to the
Socket Mode stand-in.

- An envelope Bolt does not answer with a 2xx (an event whose work failed) is not acknowledged, so Slack delivers
  it again; the redelivery, once the work can be done, is acknowledged and done.
- Envelopes count as waiting for their answers from arrival to acknowledgement, as HTTP requests do, so work after
  an answer lets them go first.
- An envelope that arrived on a connection being refreshed is acknowledged on that connection.
- `/healthz` in Socket Mode is 200 only when the database answers and the socket is connected.
"""

from __future__ import annotations

import threading
import time

import pytest
from slack_bolt import BoltResponse

from bot.app import LISTENERS, create_app
from bot.harness import event_callback
from bot.server import HealthApp
from bot.socket_mode import SocketHandler
from bot.socket_standin import SocketStandIn
from models.db import make_engine
from tests.conftest import settings_for


@pytest.fixture
def socket_slack(slack):
    socket = SocketStandIn(slack).start()
    yield socket
    socket.stop()


@pytest.fixture
def socket_app(slack, socket_slack, engine):
    """CoreGroup in Socket Mode, connected; `hold` and `fail` let a test stand in for slow or failing work."""
    settings = settings_for(slack, engine.url.render_as_string(hide_password=False), signing_secret="",
                            app_token=SocketStandIn.APP_TOKEN)
    app, deps = create_app(settings, engine=engine)
    control = {"hold": None, "fail": False, "inside": 0, "most": 0}
    counting = threading.Lock()

    @app.middleware
    def stand_in_for_the_work(next):
        with counting:
            control["inside"] += 1
            control["most"] = max(control["most"], control["inside"])
        if control["hold"] is not None:
            control["hold"].wait(10)
        with counting:
            control["inside"] -= 1
        if control["fail"]:  # what Bolt answers when the work failed before the answer (the database down)
            return BoltResponse(status=500, body="")
        return next()

    handler = SocketHandler(app, settings.app_token, concurrency=LISTENERS, answering=deps.answering)
    handler.connect()
    yield handler, deps, control
    handler.close()


def home_opened(user: str = "U0HV") -> dict:
    return event_callback({"type": "app_home_opened", "user": user, "tab": "home", "channel": "D0X",
                           "event_ts": str(time.time())}, team_id="T0COUNCIL")


def test_an_envelope_answered_with_an_error_is_not_acknowledged_and_its_redelivery_is(
        socket_app, socket_slack, slack):
    _handler, _deps, control = socket_app
    slack.add_user("U0HV", name="Health Visitor A")
    control["fail"] = True
    envelope = socket_slack.event(home_opened())
    time.sleep(SocketStandIn.ACK_LIMIT)
    assert socket_slack.ack_of(envelope) is None, "a failed envelope must be left for Slack to deliver again"
    assert slack.calls_to("views.publish") == []

    control["fail"] = False  # the database is back by the time Slack tries again
    socket_slack.redeliver(envelope)
    socket_slack.wait_ack(envelope, timeout=10)
    slack.wait_for("views.publish", timeout=10, where=lambda c: c.args.get("user_id") == "U0HV")


def test_envelopes_count_as_waiting_for_their_answers_until_acknowledged(socket_app, socket_slack, slack):
    _handler, deps, control = socket_app
    control["hold"] = threading.Event()
    envelope = socket_slack.event(home_opened())
    time.sleep(0.2)
    started = time.monotonic()
    deps.answering.wait_until_answered(0.5)  # work after an answer waits for the envelope in hand
    assert time.monotonic() - started >= 0.45
    control["hold"].set()
    socket_slack.wait_ack(envelope, timeout=10)
    started = time.monotonic()
    deps.answering.wait_until_answered(2.0)
    assert time.monotonic() - started < 1.0


def test_as_many_envelopes_are_handled_at_once_as_the_apps_listener_pool_has_threads(socket_app, socket_slack):
    _handler, _deps, control = socket_app
    control["hold"] = threading.Event()
    envelopes = [socket_slack.event(home_opened(f"U0P{n:02d}")) for n in range(LISTENERS + 4)]
    deadline = time.monotonic() + 10
    while control["inside"] < LISTENERS and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    assert control["most"] == LISTENERS == 16
    control["hold"].set()
    for envelope in envelopes:
        socket_slack.wait_ack(envelope, timeout=10)


def test_an_envelope_from_a_connection_being_refreshed_is_acknowledged_on_it(socket_app, socket_slack, slack):
    _handler, _deps, control = socket_app
    control["hold"] = threading.Event()
    first = socket_slack.live()[-1]
    envelope = socket_slack.event(home_opened())
    socket_slack.disconnect("refresh_requested", close_after=3.0)
    socket_slack.wait_connected(2, timeout=10)
    control["hold"].set()
    ack = socket_slack.wait_ack(envelope, timeout=10)
    assert ack.connection == first.number
    assert socket_slack.latency(envelope) < SocketStandIn.ACK_LIMIT


def call(wsgi, path="/healthz") -> tuple[str, bytes]:
    seen = {}

    def start_response(status, headers):
        seen["status"] = status

    body = b"".join(wsgi({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, start_response))
    return seen["status"], body


def test_health_is_200_only_with_the_database_answering_and_the_socket_connected(engine, tmp_path):
    connected = {"now": True}
    assert call(HealthApp(engine, lambda: connected["now"])) == ("200 OK", b"ok\n")
    connected["now"] = False
    assert call(HealthApp(engine, lambda: connected["now"])) == ("503 Service Unavailable",
                                                                 b"not connected to Slack\n")
    broken = make_engine(f"sqlite:///{tmp_path}/missing-folder/x.db")
    status, body = call(HealthApp(broken, lambda: True))
    assert status.startswith("503") and b"database not answering" in body
    assert call(HealthApp(engine, lambda: True), "/other")[0].startswith("404")


def test_an_envelope_in_hand_when_slack_closes_the_connection_is_acknowledged_on_the_next_one(
        socket_app, socket_slack, slack):
    _handler, _deps, control = socket_app
    slack.add_user("U0HV", name="Health Visitor A")
    control["hold"] = threading.Event()
    envelope = socket_slack.event(home_opened())
    time.sleep(0.2)
    socket_slack.close()
    second = socket_slack.wait_connected(2, timeout=10)
    control["hold"].set()
    ack = socket_slack.wait_ack(envelope, timeout=10)
    assert ack.connection == second.number
    slack.wait_for("views.publish", timeout=10, where=lambda c: c.args.get("user_id") == "U0HV")
