"""Acknowledgement latency under load, as a ratio to a bare Bolt app, in one run under one server.

Both apps run as they do in production, each in its own process and served the same way: CoreGroup by
`coregroup run --http` (waitress as bot.server.serve sets it up, Bolt's own listener pool; its scheduler is
off, so only requests are measured), the bare app (bench/bare_app.py) by the same `bot.server.serve`. This
process plays Slack's Web API (the local stand-in); a process of its own plays the people, sending 20 at a
time of correctly signed requests and timing them, as Slack's servers and its users are not one machine. CoreGroup
answers, from members of real cases on a real database:

- `/coregroup scale` from the chair of a meeting in progress (the scaling form opens after the answer);
- `/coregroup update` from a member before a scheduled meeting (the update form opens after the answer);
- a view submission: a member's filled-in update form, checked and answered (Slack hears about a bad field
  in the answer), then saved (a new version each time) and posted in the meeting's thread after the answer.
  20 members take turns, so concurrent submissions are different people's, as in a real core group.

The bare app answers one trivial command: the yardstick. It also acknowledges the same update form and does
nothing with it, which shows what Bolt and the server alone cost for a form of that size. Latency is the time
from sending a request to receiving its HTTP response (Slack's acknowledgement), which is what Slack's 3-second
limit applies to. Rounds are interleaved so drift affects every kind alike; the first round warms up and is
not reported.

    .venv/bin/python -m bench.ack_latency [--requests 400] [--concurrency 20] [--database sqlite|postgresql]

Socket Mode, the default, is measured the same way by its sibling, bench/socket_latency.py.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bot import standin as standin_module
from bot.harness import SIGNING_SECRET, RunningApp, SlackUser, post_signed
from bot.settings import Settings
from bot.standin import SlackStandIn
from handlers.ids import Block, View
from models.db import make_engine, normalise_url, upgrade
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.recap_world import running_meeting

ROOT = Path(__file__).resolve().parent.parent
WRITERS = 20
POSTGRES_URL = os.environ.get("COREGROUP_TEST_POSTGRES_URL",
                              "postgresql://coregroup:coregroup@127.0.0.1:5432/postgres")


def print_table(results: dict[str, list[float]]) -> None:
    """Each kind of request's median and 99th percentile, and its median against the bare Bolt app's."""
    bare_median = statistics.median(results["bare Bolt app, trivial command"])
    print("| request | median ms | 99th percentile ms | median ÷ bare Bolt |")
    print("| --- | --- | --- | --- |")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {percentile(values, 0.99):.1f} | {median / bare_median:.2f}× |")


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Process:
    """An app in its own process, answering on 127.0.0.1."""

    def __init__(self, module: list[str], env: dict[str, str], log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        self.process = subprocess.Popen([sys.executable, "-m", *module, "--port", str(self.port)], env=env,
                                        cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        # Ready when /healthz answers 200 (the server listening and the database answering), not merely when
        # the port takes a connection: what the benchmark then uses is the app's answer.
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{module} did not start; see {log}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def quiet(standin: SlackStandIn, seconds: float = 0.5, limit: float = 120) -> None:
    """Wait until the app has finished the work the requests started (no Slack calls for a moment)."""
    deadline = time.monotonic() + limit
    seen, since = len(standin.calls), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if len(standin.calls) != seen:
            seen, since = len(standin.calls), time.monotonic()
        elif time.monotonic() - since >= seconds:
            return


def command_fields(standin: SlackStandIn, command: str, text: str, user: str, channel: str) -> dict:
    return {"team_id": SlackStandIn.TEAM, "user_id": user, "channel_id": channel, "command": command, "text": text,
            "response_url": standin.response_url(), "trigger_id": standin.trigger_id()}


def command_body(standin: SlackStandIn, command: str, text: str, user: str, channel: str) -> str:
    return urllib.parse.urlencode(command_fields(standin, command, text, user, channel))


def submission_body(standin: SlackStandIn, view: dict, user: str, n: int) -> str:
    return urllib.parse.urlencode({"payload": json.dumps(submission_payload(standin, view, user, n))})


def submission_payload(standin: SlackStandIn, view: dict, user: str, n: int) -> dict:
    """The update form as Slack sends it when a member has filled it in."""
    def typed(block: str, words: str) -> dict:
        return {f"{block}_input": {"type": "plain_text_input", "value": words}}

    values = {
        Block.UPDATE_ATTENDING: {f"{Block.UPDATE_ATTENDING}_input": {
            "type": "radio_buttons", "selected_option": {"value": "apologies"}}},
        Block.UPDATE_CHILD_SEEN: {f"{Block.UPDATE_CHILD_SEEN}_input": {
            "type": "radio_buttons", "selected_option": {"value": "yes"}}},
        Block.UPDATE_CHILD_VIEWS: typed(Block.UPDATE_CHILD_VIEWS, "Child A says school is better now."),
        Block.UPDATE_CONTACTS: typed(Block.UPDATE_CONTACTS, f"Two home visits; visit {n} was on Tuesday."),
        Block.UPDATE_WORKING_WELL: typed(Block.UPDATE_WORKING_WELL, "Mum takes Child A to school every day."),
        Block.UPDATE_WORRIES: typed(Block.UPDATE_WORRIES, "The rent is still behind."),
        Block.UPDATE_NEEDS: typed(Block.UPDATE_NEEDS, "A referral for money advice by the end of the month."),
    }
    return {"type": "view_submission", "team": {"id": SlackStandIn.TEAM},
            "user": {"id": user, "team_id": SlackStandIn.TEAM}, "api_app_id": SlackStandIn.APP_ID,
            "trigger_id": standin.trigger_id(),
            "view": {**view, "id": f"VB{uuid.uuid4().hex[:12].upper()}", "state": {"values": values}}}


def timed_post(url: str, body: str) -> float:
    """Send one signed request; the time to its answer, in milliseconds. Anything but a plain answer stops the
    bench (a refused or failed request would be timed as if it had been answered)."""
    start = time.perf_counter()
    reply = post_signed(url + "/slack/events", body, "application/x-www-form-urlencoded")
    elapsed = time.perf_counter() - start
    if reply.status != 200 or (reply.body and "errors" in reply.body):
        raise RuntimeError(f"HTTP {reply.status}: {reply.body[:300]}")
    return elapsed * 1000


def send_together(url: str, bodies: list[str]) -> list[float]:
    """Send the bodies at the same moment, one thread each; each one's time to its answer, in milliseconds."""
    gate = threading.Barrier(len(bodies))

    def one(body: str) -> float:
        gate.wait()
        return timed_post(url, body)

    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        return list(pool.map(one, bodies))


def sender(connection) -> None:
    """The people sending requests, in a process of their own (multiprocessing): Slack's own servers answer the
    app's calls in this bench's main process, and that work must not hold up the clocks of the requests being
    timed, which it would if both shared one interpreter."""
    while (job := connection.recv()) is not None:
        try:
            connection.send(send_together(*job))
        except Exception as error:  # reported to the main process, which stops
            connection.send(error)


class Senders:
    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, theirs = context.Pipe()
        self.process = context.Process(target=sender, args=(theirs,), daemon=True)
        self.process.start()

    def send_together(self, url: str, bodies: list[str]) -> list[float]:
        self.connection.send((url, bodies))
        result = self.connection.recv()
        if isinstance(result, Exception):
            raise result
        return result

    def stop(self) -> None:
        self.connection.send(None)
        self.process.join(10)


def burst(senders: Senders, url: str, make, count: int, concurrency: int, standin: SlackStandIn) -> list[float]:
    """`concurrency` requests sent at the same moment, then a pause until the app has finished what they
    started; again until `count` requests were sent. The bodies are made just before each burst (a trigger id
    is valid for three seconds)."""
    results: list[float] = []
    for _ in range(count // concurrency):
        results += senders.send_together(url, [make() for _ in range(concurrency)])
        quiet(standin, seconds=0.3)
    return results


def measure(url: str, make, count: int, concurrency: int) -> list[float]:
    """Send `count` requests, `concurrency` at a time; each body is made just before it is sent (a trigger id
    is valid for three seconds), so here the senders share this process with the stand-in."""
    def one(_: int) -> float:
        return timed_post(url, make())

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def database(kind: str) -> tuple[str, callable]:
    """A fresh, migrated database and a function that removes it."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp()
        return f"sqlite:///{Path(folder) / 'bench.db'}", lambda: None
    admin_url = make_url(normalise_url(POSTGRES_URL))
    name = f"coregroup_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return admin_url.set(database=name).render_as_string(hide_password=False), drop


def setup(standin: SlackStandIn, url: str, engine) -> tuple[dict[str, str], str, str, dict]:
    """Two cases made through the app itself: one with a meeting scheduled (and 20 members writing updates),
    one with a meeting in progress chaired by the health visitor. Returns the cast, both channels and the
    update form as Slack holds it."""
    settings = Settings(bot_token=SlackStandIn.BOT_TOKEN, signing_secret=SIGNING_SECRET,
                        slack_api_url=standin.url, database_url=url)
    running = RunningApp(settings, engine)
    cast = {"sw": "U0SW", "hv": "U0HV", "teacher": "U0TEACH", "gp": "U0GP", "police": "U0POL"}
    cast.update({f"w{i:02d}": f"U0W{i:02d}" for i in range(WRITERS)})
    people = {}
    for key, user_id in cast.items():
        standin.add_user(user_id, team_id=SlackStandIn.TEAM, name=f"Practitioner {key}")
        people[key] = SlackUser(running, standin, user_id, SlackStandIn.TEAM)
    writers = [key for key in cast if key.startswith("w")]
    # The app runs on the machine's own clock: a conference today, so the first meeting is still ahead.
    today = date.today()
    dates = {"initial": today.isoformat(), "review": (today + timedelta(weeks=12)).isoformat()}
    planned = new_case(people, standin, reference="CP-BENCH-0001", members=("hv", "teacher", *writers), **dates)
    schedule_meeting(people, standin, planned, chair="hv")
    people["w00"].command("update", channel=planned.channel_id)
    update_view = opened_view(standin, View.UPDATE)
    meeting = new_case(people, standin, reference="CP-BENCH-0002", members=("hv", "teacher", "gp", "police"),
                       **dates)
    running_meeting(engine, meeting, people)  # the health visitor chairs it
    running.stop()
    return cast, planned.channel_id, meeting.channel_id, update_view


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--rounds", type=int, default=3, help="rounds per kind; the first only warms up")
    parser.add_argument("--mode", default="burst", choices=["burst", "sustained"],
                        help="burst: 20 requests at the same moment, then the app finishes their work, again and"
                             " again; sustained: 20 clients each sending again as soon as answered (throughput)")
    args = parser.parse_args()

    standin = SlackStandIn().start()
    url, drop = database(args.database)
    engine = make_engine(url)
    upgrade(engine)
    cast, planned, in_meeting, update_view = setup(standin, url, engine)
    writers = [user_id for key, user_id in cast.items() if key.startswith("w")]

    folder = Path(tempfile.mkdtemp())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "COREGROUP_", "DATABASE_"))}
    env.update(SLACK_BOT_TOKEN=SlackStandIn.BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET,
               SLACK_API_URL=standin.url, DATABASE_URL=url, PYTHONPATH=str(ROOT))
    # Checking Block Kit is Slack's work, on Slack's servers: the stand-in skips it while latency is measured,
    # so that it does not compete with the requests being timed in this process.
    standin_module.block_errors = lambda *args, **kwargs: []
    standin_module.view_errors = lambda *args, **kwargs: []
    app = Process(["bot.cli", "run", "--http", "--no-scheduler", "--host", "127.0.0.1"], env, folder / "app.log")
    bare = Process(["bench.bare_app"], env, folder / "bare.log")
    counter = iter(range(10**9))
    kinds = {
        "bare Bolt app, trivial command": (bare.url, lambda: command_body(standin, "/bare", "", "U0SW", "C0X")),
        "bare Bolt app, the same update form (acknowledged only)": (bare.url, lambda: submission_body(
            standin, update_view, writers[0], 0)),
        "/coregroup scale": (app.url, lambda: command_body(standin, "/coregroup", "scale", "U0HV", in_meeting)),
        "/coregroup update": (app.url, lambda: command_body(standin, "/coregroup", "update", "U0TEACH", planned)),
        "view submission (update form, saved)": (app.url, lambda: submission_body(
            standin, update_view, writers[(n := next(counter)) % WRITERS], n)),
    }
    results: dict[str, list[float]] = {}
    senders = Senders()
    try:
        for round_ in range(args.rounds):
            for name, (url_, make) in kinds.items():
                if args.mode == "burst":
                    measured = burst(senders, url_, make, args.requests, args.concurrency, standin)
                else:
                    measured = measure(url_, make, args.requests, args.concurrency)
                quiet(standin)
                standin.reset()  # keep the stand-in's record of calls small
                if round_:
                    results.setdefault(name, []).extend(measured)
    finally:
        senders.stop()
        app.stop()
        bare.stop()
    print(f"database: {args.database}; mode: {args.mode}; {args.requests} requests per kind and round,"
          f" {args.concurrency} at a time,"
          f" {args.rounds - 1} measured rounds; {os.cpu_count()} CPUs")
    print_table(results)
    engine.dispose()
    standin.stop()
    drop()


if __name__ == "__main__":
    main()
