"""End to end: `coregroup run` with no flags (Socket Mode, the default), as a real process, against the Socket Mode
stand-in (bot/socket_standin.py) and the Web API stand-in.

- It connects, says so, answers `/coregroup help`, makes a case from `/coregroup new` and its form (channel and
  welcome), answers a button on the welcome and an event, runs its scheduler, and ends cleanly on SIGTERM.
- It comes back within 2 seconds after Slack closes the connection or asks it to reconnect (`disconnect`:
  `refresh_requested`, `link_disabled`), and every command sent meanwhile is acknowledged within a second; within
  15 seconds after the network goes silent, using next to no CPU meanwhile; and after `apps.connections.open` has
  failed a few times. `/healthz` is 503 while it is not connected.
- A refused app-level token ends it at once with one line naming SLACK_APP_TOKEN and exit code 2.

The time limits are the targets themselves (README, "Socket Mode or HTTP mode"); what is measured on an idle
machine is a tenth of them or less, which is the margin for a loaded one.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
import time
from datetime import UTC, datetime

import pytest

from bot.socket_standin import SocketStandIn
from handlers.ids import Action
from tests.appprocess import COREGROUP, ROOT, AppProcess, SocketUser
from tests.helpers import new_case
from tests.slack_standin import SlackStandIn

pytestmark = pytest.mark.slow

RECONNECT_AFTER_CLOSE = 2.0  # seconds
ACK_LIMIT = 1.0
RECONNECT_AFTER_DROP = 15.0


@pytest.fixture
def socket_slack(slack):
    socket = SocketStandIn(slack).start()
    yield socket
    socket.stop()


def running(tmp_path, engine, slack, socket, name="app", **kwargs) -> AppProcess:
    url = engine.url.render_as_string(hide_password=False)
    kwargs.setdefault("at", datetime.now(UTC).isoformat())  # the process's clock is the test's
    process = AppProcess(tmp_path, name, database_url=url, slack=slack, socket=socket, engine=engine, **kwargs)
    process.wait_serving()
    return process


def as_socket_users(people, process, slack, socket) -> dict[str, SocketUser]:
    return {key: SocketUser(process, slack, socket, user.user_id, user.team_id) for key, user in people.items()}


def help_fields(slack: SlackStandIn, user_id: str = "U0SW") -> dict:
    return {"token": "unused", "team_id": SlackStandIn.TEAM, "team_domain": "council", "channel_id": "C0GENERAL",
            "channel_name": "x", "user_id": user_id, "user_name": "user", "command": "/coregroup", "text": "help",
            "api_app_id": SlackStandIn.APP_ID, "response_url": slack.response_url(), "trigger_id": slack.trigger_id()}


def test_the_default_mode_connects_answers_commands_forms_buttons_and_events_and_stops_cleanly(
        people, slack, socket_slack, app, engine, tmp_path):
    app.stop()  # from here on, only the real process serves Slack
    process = running(tmp_path, engine, slack, socket_slack)
    try:
        assert "connected to Slack" in process.log.read_text()
        users = as_socket_users(people, process, slack, socket_slack)

        reply = users["sw"].command("help")
        assert reply.status == 200 and "What CoreGroup can do" in reply.body

        info = new_case(users, slack)  # /coregroup new, the form filled in and sent, the case saved
        slack.wait_for("pins.add", timeout=20)
        welcome = next(m for m in slack.messages(info.channel_id) if m.get("user") == SlackStandIn.BOT_USER
                       and Action.HERE_MEMBERS in str(m.get("blocks")))
        assert set(slack.channels[info.channel_id].members) >= {"U0SW", "U0HV", "U0TEACH"}

        button = next(e for b in welcome["blocks"] for e in b.get("elements", [])
                      if e.get("action_id") == Action.HERE_MEMBERS)
        opened = len(slack.calls_to("views.open"))
        reply = users["teacher"].click(Action.HERE_MEMBERS, button["value"], channel=info.channel_id,
                                       message=welcome)
        assert reply.status == 200
        members = slack.wait_for("views.open", count=opened + 1, timeout=20)[-1]
        assert members.args["view"]["title"]["text"] == "Core group members" and "U0HV" in str(members.args["view"])

        envelope = users["hv"].event({"type": "app_home_opened", "user": "U0HV", "tab": "home",
                                      "channel": "D0HV", "event_ts": str(time.time())})
        socket_slack.wait_ack(envelope)
        slack.wait_for("views.publish", timeout=20, where=lambda c: c.args.get("user_id") == "U0HV")

        process.wait_for_log("scheduled work: first run done")
    finally:
        process.stop()
    assert process.process.returncode == 0, process.log.read_text()
    log = process.log.read_text()
    assert "stopped" in log and "Traceback" not in log
    assert SocketStandIn.APP_TOKEN not in log and SlackStandIn.BOT_TOKEN not in log
    assert not socket_slack.live(), "the connection should be closed on the way out"


class Stream:
    """`/coregroup help` sent every 50 ms on whichever connection is open, as people go on typing: how many found
    no connection at all, and how long each of the others waited for its acknowledgement."""

    def __init__(self, slack: SlackStandIn, socket: SocketStandIn):
        self.slack, self.socket = slack, socket
        self.sent: list[str] = []
        self.no_connection: list[float] = []  # when a command found no connection open
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            try:
                self.sent.append(self.socket.command(help_fields(self.slack)))
            except (ConnectionError, OSError):
                self.no_connection.append(time.monotonic())

    def stop(self) -> list[float]:
        self._stop.set()
        self._thread.join(5)
        waits = []
        for envelope_id in self.sent:
            with contextlib.suppress(AssertionError):
                self.socket.wait_ack(envelope_id, timeout=SocketStandIn.ACK_LIMIT)
            latency = self.socket.latency(envelope_id)
            waits.append(float("inf") if latency is None else latency)
        return waits


def reconnect_time(socket: SocketStandIn, before: int, started: float, timeout: float) -> float:
    socket.wait_connected(before + 1, timeout=timeout)
    return socket.connections[before].opened_at - started


@pytest.mark.real_clock
def test_after_a_close_or_a_disconnect_it_is_back_within_two_seconds_and_acknowledges_within_one(
        engine, slack, socket_slack, tmp_path):
    process = running(tmp_path, engine, slack, socket_slack, at=None)
    try:
        for how in ("close", "refresh_requested", "link_disabled"):
            stream = Stream(slack, socket_slack)
            time.sleep(0.5)
            before, started = len(socket_slack.connections), time.monotonic()
            if how == "close":
                socket_slack.close()
            else:
                socket_slack.disconnect(how, close_after=1.0)
            took = reconnect_time(socket_slack, before, started, timeout=20)
            time.sleep(2.5)
            waits = stream.stop()
            assert took < RECONNECT_AFTER_CLOSE, (how, took)
            assert len(waits) >= 10 and max(waits) < ACK_LIMIT, (how, len(waits), sorted(waits)[-5:])
            if how != "close":  # a new connection opened before the old one closed: none found no connection
                assert stream.no_connection == [], how
            elif stream.no_connection:  # only while it was reconnecting
                assert stream.no_connection[-1] - started < RECONNECT_AFTER_CLOSE, how
            assert len(socket_slack.live()) == 1
        process.wait_for_log("reconnected after", timeout=5)
        log = process.log.read_text()
        assert log.count("reconnecting to Slack") == 3 and log.count("reconnected after") == 3
        assert "link_disabled" in log
    finally:
        process.stop()
    assert process.process.returncode == 0


@pytest.mark.real_clock
def test_after_the_network_goes_silent_it_is_back_within_fifteen_seconds_without_spinning(
        engine, slack, socket_slack, tmp_path):
    process = running(tmp_path, engine, slack, socket_slack, at=None, scheduler=False)
    try:
        time.sleep(1)
        before, started, cpu = len(socket_slack.connections), time.monotonic(), process.cpu_seconds()
        socket_slack.drop()
        took = reconnect_time(socket_slack, before, started, timeout=60)
        used = process.cpu_seconds() - cpu
        assert took < RECONNECT_AFTER_DROP, took
        assert used < 0.2 * took, f"{used:.2f} s of CPU in {took:.1f} s: a busy loop"
        envelope = socket_slack.command(help_fields(slack))
        socket_slack.wait_ack(envelope, timeout=5)
        assert socket_slack.latency(envelope) < ACK_LIMIT
        process.wait_serving(timeout=10)
    finally:
        process.stop()
    assert process.process.returncode == 0
    log = process.log.read_text()
    assert "reconnecting to Slack (connection lost: no answer from Slack for 4 s)" in log
    reconnected = float(log.split("reconnected after ")[1].split(" s")[0])
    assert 4 <= reconnected < RECONNECT_AFTER_DROP, reconnected  # counted from the unanswered ping at least
    assert "Traceback" not in log


@pytest.mark.real_clock
def test_when_apps_connections_open_fails_a_few_times_it_keeps_trying_and_health_says_so(
        engine, slack, socket_slack, tmp_path):
    process = running(tmp_path, engine, slack, socket_slack, at=None, scheduler=False)
    try:
        slack.fail_next("apps.connections.open", status=200, error="internal_error", times=4)
        before, started = len(socket_slack.connections), time.monotonic()
        socket_slack.close()
        deadline = time.monotonic() + 10
        while process.healthy() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not process.healthy(), "/healthz should be 503 while there is no connection"
        took = reconnect_time(socket_slack, before, started, timeout=60)
        assert took < 15, took  # four failures, 0.5 + 1 + 2 + 4 seconds apart
        assert len([c for c in slack.calls_to("apps.connections.open") if not c.response.get("ok")]) == 4
        process.wait_serving(timeout=10)
        envelope = socket_slack.command(help_fields(slack))
        assert socket_slack.wait_ack(envelope, timeout=5)
    finally:
        process.stop()
    log = process.log.read_text()
    assert log.count("could not connect to Slack (apps.connections.open: internal_error)") == 4


@pytest.mark.parametrize("token", ["xapp-1-not-the-apps-token", SlackStandIn.BOT_TOKEN])
def test_a_refused_app_level_token_ends_with_one_line_naming_the_setting_and_exit_code_2(
        engine, slack, socket_slack, tmp_path, token):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COREGROUP_"))}
    env.update(SLACK_BOT_TOKEN=SlackStandIn.BOT_TOKEN, SLACK_APP_TOKEN=token, SLACK_API_URL=slack.url,
               DATABASE_URL=engine.url.render_as_string(hide_password=False), PYTHONPATH=str(ROOT))
    done = subprocess.run([str(COREGROUP), "run"], env=env, cwd=tmp_path, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr + done.stdout
    lines = [line for line in done.stderr.splitlines() if "SLACK_APP_TOKEN" in line]
    assert len(lines) == 1 and not lines[0].startswith(" ")
    assert ("invalid_auth" if token.startswith("xapp-") else "does not look right") in lines[0]
    assert token not in done.stderr + done.stdout
    assert socket_slack.connections == []


@pytest.mark.real_clock
def test_while_it_cannot_reach_slack_at_start_it_keeps_trying_and_sigterm_still_ends_it_cleanly(
        engine, slack, socket_slack, tmp_path):
    slack.fail_next("apps.connections.open", status=503, error="service_unavailable", times=1000)
    url = engine.url.render_as_string(hide_password=False)
    process = AppProcess(tmp_path, "app", database_url=url, slack=slack, socket=socket_slack, scheduler=False)
    try:
        process.wait_for_log("could not connect to Slack", timeout=60)
        assert process.process.poll() is None, "a Slack that does not answer is waited for, not given up on"
        assert not process.healthy()
    finally:
        started = time.monotonic()
        process.stop()
    assert process.process.returncode == 0 and time.monotonic() - started < 10
    assert socket_slack.connections == []
