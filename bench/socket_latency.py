"""Acknowledgement latency in Socket Mode, as a ratio to a bare Bolt app in Socket Mode, in one run.

The Socket Mode twin of bench/ack_latency.py, with the same requests on the same cases. Each app runs in its own
process as in production: CoreGroup as `coregroup run --no-scheduler` (Socket Mode, bot.socket_mode, as many
envelopes at once as its listener pool), the bare app (bench/bare_app.py) connected the same way, and a second
bare app on Bolt's stock adapter (slack_sdk's built-in client, ten at once) for comparison. Slack's Socket Mode
side (bot/socket_standin.py, one per app) runs in a process of its own, which sends the envelopes and times their
acknowledgements, so the Web API stand-in answering CoreGroup's calls in this process does not hold up the clocks.

Each burst is 20 envelopes written to the app's connection at once (20 in flight), then a pause until the app has
finished what they started; 400 per kind and round; rounds interleaved, the first a warm-up. Latency is from
writing an envelope to receiving its acknowledgement.

    .venv/bin/python -m bench.socket_latency [--requests 400] [--concurrency 20] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bench.ack_latency import (
    ROOT,
    WRITERS,
    command_fields,
    database,
    free_port,
    print_table,
    quiet,
    setup,
    submission_payload,
)
from bot import standin as standin_module
from bot.socket_standin import SocketStandIn
from bot.standin import SlackError, SlackStandIn
from models.db import make_engine, upgrade

APPS = ("coregroup", "bare", "bare-bolt")


def slack_side(connection) -> None:
    """Slack's Socket Mode, one stand-in per app, in a process of its own. Jobs: ("wait", app) until the app is
    connected; ("send", app, [(kind, payload), ...]) writes them all at once and answers each one's time to its
    acknowledgement, in milliseconds."""
    sides = {}
    for name in APPS:
        web = SlackStandIn().start()
        sides[name] = SocketStandIn(web).start()
    connection.send({name: side.web.url for name, side in sides.items()})
    while (job := connection.recv()) is not None:
        try:
            if job[0] == "wait":
                sides[job[1]].wait_connected(timeout=60)
                connection.send(True)
                continue
            side = sides[job[1]]
            ids = [side.send(kind, payload, accepts_response_payload=kind != "events_api")
                   for kind, payload in job[2]]
            times = []
            for envelope_id in ids:
                ack = side.wait_ack(envelope_id, timeout=10)
                if ack.payload and "errors" in ack.payload:
                    raise RuntimeError(f"refused: {ack.payload}")
                times.append(side.latency(envelope_id) * 1000)
            connection.send(times)
        except Exception as error:  # reported to the main process, which stops
            connection.send(error)
    for side in sides.values():
        side.stop()
        side.web.stop()


class SlackSide:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=slack_side, args=(theirs,), daemon=True)
        self.process.start()
        self.urls: dict[str, str] = self.connection.recv()

    def ask(self, *job):
        self.connection.send(job)
        result = self.connection.recv()
        if isinstance(result, Exception):
            raise result
        return result

    def stop(self) -> None:
        self.connection.send(None)
        self.process.join(10)


class Forward:
    """`apps.connections.open` on this process's Web API stand-in, answered by the Slack side's stand-in."""

    def __init__(self, url: str):
        self.url = url

    def open_connection(self, token: str | None) -> dict:
        try:
            return {"url": WebClient(base_url=self.url).apps_connections_open(app_token=token)["url"]}
        except SlackApiError as error:
            raise SlackError(error.response["error"]) from None


class App:
    def __init__(self, command: list[str], env: dict[str, str], log: Path):
        self.log = log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", *command], env=env, cwd=ROOT, stdout=self.log,
                                        stderr=subprocess.STDOUT)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def wait_healthy(port: int, app: App) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        if app.process.poll() is not None:
            break
        time.sleep(0.1)
    raise RuntimeError("CoreGroup did not connect")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per kind; the first only warms up")
    args = parser.parse_args()
    load = os.getloadavg()[0]

    standin = SlackStandIn().start()
    url, drop = database(args.database)
    engine = make_engine(url)
    upgrade(engine)
    cast, planned, in_meeting, update_view = setup(standin, url, engine)
    writers = [user_id for key, user_id in cast.items() if key.startswith("w")]
    slack = SlackSide()
    standin.socket_mode = Forward(slack.urls["coregroup"])

    folder = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COREGROUP_", "DATABASE_"))}
    env.update(SLACK_BOT_TOKEN=SlackStandIn.BOT_TOKEN, SLACK_APP_TOKEN=SocketStandIn.APP_TOKEN,
               SLACK_API_URL=standin.url, DATABASE_URL=url, PYTHONPATH=str(ROOT))
    standin_module.block_errors = lambda *args, **kwargs: []  # Slack's own work, skipped while timing
    standin_module.view_errors = lambda *args, **kwargs: []
    health = free_port()
    apps = [App(["bot.cli", "run", "--no-scheduler", "--host", "127.0.0.1", "--health-port", str(health)], env,
                folder / "app.log")]
    wait_healthy(health, apps[0])
    for name, adapter in (("bare", "ours"), ("bare-bolt", "bolt")):
        apps.append(App(["bench.bare_app", "--socket", adapter], {**env, "SLACK_API_URL": slack.urls[name]},
                        folder / f"{name}.log"))
    for name in APPS:
        slack.ask("wait", name)
    counter = iter(range(10**9))
    kinds = {
        "bare Bolt app, trivial command": ("bare", lambda: ("slash_commands", command_fields(
            standin, "/bare", "", "U0SW", "C0X"))),
        "bare Bolt app, Bolt's stock adapter, trivial command": ("bare-bolt", lambda: ("slash_commands",
                                                                  command_fields(standin, "/bare", "", "U0SW",
                                                                                 "C0X"))),
        "bare Bolt app, the same update form (acknowledged only)": ("bare", lambda: ("interactive",
                                                                     submission_payload(standin, update_view,
                                                                                        writers[0], 0))),
        "/coregroup scale": ("coregroup", lambda: ("slash_commands", command_fields(
            standin, "/coregroup", "scale", "U0HV", in_meeting))),
        "/coregroup update": ("coregroup", lambda: ("slash_commands", command_fields(
            standin, "/coregroup", "update", "U0TEACH", planned))),
        "view submission (update form, saved)": ("coregroup", lambda: ("interactive", submission_payload(
            standin, update_view, writers[(n := next(counter)) % WRITERS], n))),
    }
    results: dict[str, list[float]] = {}
    try:
        for round_ in range(args.rounds):
            for name, (app, make) in kinds.items():
                measured: list[float] = []
                for _ in range(args.requests // args.concurrency):
                    measured += slack.ask("send", app, [make() for _ in range(args.concurrency)])
                    quiet(standin, seconds=0.3)
                quiet(standin)
                standin.reset()
                if round_:
                    results.setdefault(name, []).extend(measured)
    finally:
        for app in apps:
            app.stop()
        slack.stop()
    print(f"Socket Mode; database: {args.database}; {args.requests} envelopes per kind and round,"
          f" {args.concurrency} in flight, {args.rounds - 1} measured rounds; {os.cpu_count()} CPUs;"
          f" load average at the start {load:.1f}, at the end {os.getloadavg()[0]:.1f}")
    print_table(results)
    engine.dispose()
    standin.stop()
    drop()


if __name__ == "__main__":
    main()
