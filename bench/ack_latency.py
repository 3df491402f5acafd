"""Acknowledgement latency under load, as a ratio to a bare Bolt app, in one run under one server.

Both apps are served by the same waitress configuration on 127.0.0.1 and receive the same number of
concurrent, correctly signed requests. CoreGroup answers `/coregroup scale`, `/coregroup update`
and a view submission (an update form) from members of a real case on a real database; the bare app
answers one trivial command. Latency is the time from sending a request to receiving Slack's
acknowledgement (the HTTP response), which is what Slack's 3-second limit applies to.

    .venv/bin/python -m bench.ack_latency [--requests 400] [--concurrency 20] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_bolt import App

from bot.server import WebApp, make_server
from bot.settings import Settings
from models.db import make_engine, upgrade
from tests.harness import SIGNING_SECRET, RunningApp, SlackUser, post_signed
from tests.helpers import new_case, opened_view
from tests.slack_standin import SlackStandIn


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def bare_app(standin: SlackStandIn, engine):
    app = App(signing_secret=SIGNING_SECRET, token=SlackStandIn.BOT_TOKEN, token_verification_enabled=False)

    @app.command("/bare")
    def bare(ack):
        ack("ok")

    server = make_server(WebApp(app, engine), host="127.0.0.1", port=0, threads=16)
    threading.Thread(target=server.run, daemon=True).start()
    return server, f"http://127.0.0.1:{server.effective_port}"


def command_body(standin: SlackStandIn, command: str, text: str, user: str, channel: str) -> str:
    return urllib.parse.urlencode({
        "team_id": SlackStandIn.TEAM, "user_id": user, "channel_id": channel, "command": command, "text": text,
        "response_url": standin.response_url(), "trigger_id": standin.trigger_id(),
    })


def measure(url: str, bodies: list[tuple[str, str]], concurrency: int) -> list[float]:
    def one(item: tuple[str, str]) -> float:
        body, content_type = item
        start = time.perf_counter()
        reply = post_signed(url + "/slack/events", body, content_type)
        elapsed = time.perf_counter() - start
        if reply.status != 200:
            raise RuntimeError(f"HTTP {reply.status}: {reply.body[:200]}")
        return elapsed * 1000

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, bodies))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database", default="sqlite", choices=["sqlite", "postgresql"])
    parser.add_argument("--postgres-url", default="postgresql://coregroup:coregroup@127.0.0.1:5432/coregroup_bench")
    args = parser.parse_args()

    standin = SlackStandIn().start()
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{Path(tmp) / 'bench.db'}" if args.database == "sqlite" else args.postgres_url
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(bot_token=SlackStandIn.BOT_TOKEN, signing_secret=SIGNING_SECRET,
                        slack_api_url=standin.url, database_url=url)
    running = RunningApp(settings, engine)
    cast = {}
    for key, user_id in {"sw": "U0SW", "hv": "U0HV", "teacher": "U0TEACH"}.items():
        standin.add_user(user_id, team_id=SlackStandIn.TEAM, name=key)
        cast[key] = SlackUser(running, standin, user_id, SlackStandIn.TEAM)
    reference = f"CP-BENCH-{int(time.time()) % 100000:05d}"
    case = new_case(cast, standin, reference=reference)
    cast["sw"].command("update", channel=case.channel_id)
    update_view = opened_view(standin, "update_send")

    bare_server, bare_url = bare_app(standin, engine)
    kinds = {
        "bare Bolt, trivial command": (bare_url, lambda: (command_body(standin, "/bare", "", "U0SW", "C0X"),
                                                          "application/x-www-form-urlencoded")),
        "/coregroup scale": (running.url, lambda: (command_body(standin, "/coregroup", "scale", "U0HV",
                                                                case.channel_id), "application/x-www-form-urlencoded")),
        "/coregroup update": (running.url, lambda: (
            command_body(standin, "/coregroup", "update", "U0TEACH", case.channel_id),
            "application/x-www-form-urlencoded")),
        "view submission (update form)": (running.url, lambda: (urllib.parse.urlencode({"payload": json.dumps({
            "type": "view_submission", "team": {"id": SlackStandIn.TEAM},
            "user": {"id": "U0HV", "team_id": SlackStandIn.TEAM}, "trigger_id": standin.trigger_id(),
            "view": {**update_view, "id": f"VB{time.perf_counter_ns()}", "state": {"values": {}}}})}),
            "application/x-www-form-urlencoded")),
    }
    results = {}
    for _round in range(2):  # interleave rounds so drift affects every kind alike; first round warms up
        for name, (url_, make) in kinds.items():
            bodies = [make() for _ in range(args.requests)]
            results[name] = measure(url_, bodies, args.concurrency)
        running.wait_idle(60)
    bare_median = statistics.median(results["bare Bolt, trivial command"])
    print(f"database: {args.database}; {args.requests} requests each, {args.concurrency} at a time")
    print("| request | median ms | 99th percentile ms | median ÷ bare Bolt |")
    print("| --- | --- | --- | --- |")
    for name, values in results.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {percentile(values, 0.99):.1f} | {median / bare_median:.2f}× |")
    bare_server.close()
    running.stop()
    standin.stop()


if __name__ == "__main__":
    main()
