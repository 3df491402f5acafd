"""`coregroup run` as a real process for end-to-end tests: started, waited for, killed or stopped.

A test waits for what it is about to use: `wait_serving()` returns once `/healthz` answers 200 (HTTP mode: the
server listening and the database answering; Socket Mode: the database answering and the socket to Slack
connected), not once a log line that comes earlier has been written.

`AppProcess(..., socket=SocketStandIn)` runs the default mode, `coregroup run` without `--http`, with
`--health-port`; `SocketUser` is a person whose commands and clicks reach it as Socket Mode envelopes.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from bot.harness import Response, SlackUser, event_callback
from bot.socket_standin import SocketStandIn
from tests.harness import SIGNING_SECRET
from tests.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parent.parent
COREGROUP = Path(sys.executable).parent / "coregroup"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppProcess:
    """One `coregroup run --http` process (or, given `socket`, `coregroup run` in Socket Mode) logging to a file
    the test can read.

    `at=None` runs the installed `coregroup` command on the machine's clock; `at="…"` runs it through
    `tests.apprun` with its clock moved to that moment (ticking on from there).
    """

    def __init__(self, tmp_path: Path, name: str, *, database_url: str, slack: SlackStandIn,
                 at: str | None = None, instance: str | None = None, scheduler: bool = True,
                 env: dict[str, str] | None = None, socket: SocketStandIn | None = None, engine=None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.instance = instance
        self.socket = socket
        self.engine = engine  # for helpers that read what the app saved (tests.helpers.new_case)
        self.log = tmp_path / f"{name}.log"
        environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COREGROUP_", "DATABASE_"))}
        environment.update(SLACK_BOT_TOKEN=SlackStandIn.BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
                           SLACK_API_URL=slack.url, DATABASE_URL=database_url, COREGROUP_SCHEDULER_INTERVAL="1",
                           PYTHONPATH=str(ROOT))
        if instance:
            environment["COREGROUP_INSTANCE"] = instance
        environment.update(env or {})
        command = [str(COREGROUP)] if at is None else [sys.executable, "-m", "tests.apprun", at]
        if socket is None:
            command += ["run", "--http", "--host", "127.0.0.1", "--port", str(self.port)]
        else:
            environment["SLACK_APP_TOKEN"] = SocketStandIn.APP_TOKEN
            command += ["run", "--host", "127.0.0.1", "--health-port", str(self.port)]
        command += [] if scheduler else ["--no-scheduler"]
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(command, env=environment, cwd=tmp_path, stdout=self._log_file,
                                        stderr=subprocess.STDOUT)

    def wait_for_log(self, line: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if line in self.log.read_text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"{line!r} not logged; the log says:\n{self.log.read_text()}")

    def wait_serving(self, timeout: float = 60) -> None:
        """Wait until the server is listening and `/healthz` answers 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if self.healthy():
                    return
            except (OSError, urllib.error.URLError):
                pass  # not listening yet, or the database not answering yet
            time.sleep(0.1)
        raise AssertionError(f"the app is not serving; the log says:\n{self.log.read_text()}")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/healthz", timeout=5) as reply:
                return reply.status == 200
        except urllib.error.HTTPError:
            return False

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Requests to another process are not tracked: the test waits on what reaches Slack instead."""

    def cpu_seconds(self) -> float:
        """The CPU time the process has used so far (user and system), from /proc."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        self.process.kill()
        self.process.wait(10)
        if not self._log_file.closed:
            self._log_file.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if not self._log_file.closed:
            self._log_file.close()


class SocketUser(SlackUser):
    """A person whose commands, clicks and form submissions reach a Socket Mode app as envelopes. Each call waits
    for the acknowledgement and answers like an HTTP reply: 200 with the acknowledgement's payload as its body
    ("" when there is none), or 504 if none came within Slack's three seconds (and a little more)."""

    def __init__(self, app: AppProcess, standin: SlackStandIn, socket: SocketStandIn, user_id: str, team_id: str):
        super().__init__(app, standin, user_id, team_id)
        self.socket = socket

    def _answer(self, envelope_id: str, wait: bool) -> Response:
        if not wait:
            return Response(200, "")
        try:
            ack = self.socket.wait_ack(envelope_id, timeout=SocketStandIn.ACK_LIMIT + 2)
        except AssertionError:
            return Response(504, "")
        self._settled()
        return Response(200, json.dumps(ack.payload) if ack.payload else "")

    def _settled(self, quiet: float = 0.5, limit: float = 30) -> None:
        """The work after the answer happens in another process: wait until it has stopped calling Slack."""
        deadline = time.monotonic() + limit
        seen, since = len(self.standin.calls), time.monotonic()
        while time.monotonic() < deadline:
            time.sleep(0.05)
            if len(self.standin.calls) != seen:
                seen, since = len(self.standin.calls), time.monotonic()
            elif time.monotonic() - since >= quiet:
                return

    def _send_command(self, fields: dict, wait: bool = True, **kwargs) -> Response:
        return self._answer(self.socket.command(fields), wait)

    def _send_form(self, payload: dict, wait: bool = True, **kwargs) -> Response:
        return self._answer(self.socket.interactive(payload), wait)

    def event(self, event: dict, *, event_id: str | None = None) -> str:
        """An Events API envelope about this person; returns its envelope id."""
        return self.socket.event(event_callback(event, team_id=self.team_id, event_id=event_id))
