"""The yardstick for bench/ack_latency.py: a bare Bolt app with one trivial command, served exactly as
`coregroup run --http` serves CoreGroup (bot.server.serve: waitress, the same threads and body limit; Bolt's
own listener pool). It also acknowledges CoreGroup's update form and does nothing else with it, to show what
Bolt and the server alone cost for a form of that size.

    SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=... SLACK_API_URL=... python -m bench.bare_app --port 3001

In Socket Mode (bench/socket_latency.py), `--socket ours` connects it as `coregroup run` connects CoreGroup
(bot.socket_mode.SocketHandler, as many envelopes at once as CoreGroup's listener pool), and `--socket bolt` with
Bolt's stock adapter (slack_sdk's built-in client, its default ten at once), for comparison:

    SLACK_APP_TOKEN=... SLACK_BOT_TOKEN=... SLACK_API_URL=... python -m bench.bare_app --socket ours
"""

from __future__ import annotations

import argparse
import os
import signal
import threading

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.server import WebApp, serve
from handlers.ids import View
from models.db import make_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=None)
    parser.add_argument("--socket", choices=["ours", "bolt"], default=None, help="Socket Mode instead of HTTP")
    args = parser.parse_args()
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ.get("SLACK_SIGNING_SECRET") or "unused", client=client,
              token_verification_enabled=False, request_verification_enabled=args.socket is None)

    @app.command("/bare")
    def bare(ack):
        ack("ok")

    @app.view(View.UPDATE)  # a second yardstick: the same form as CoreGroup's, acknowledged and nothing else
    def bare_form(ack):
        ack()

    if args.socket is not None:
        socket_mode(app, args.socket)
        return
    # Bolt's own WSGI adapter, which reads the body with urllib, where CoreGroup's reads it faster (bot/body.py).
    web = WebApp(app, make_engine(os.environ["DATABASE_URL"]), handler=SlackRequestHandler)
    serve(web, host="127.0.0.1", port=args.port)


def socket_mode(app: App, adapter: str) -> None:
    token = os.environ["SLACK_APP_TOKEN"]
    if adapter == "ours":
        from bot.app import LISTENERS
        from bot.socket_mode import SocketHandler

        handler = SocketHandler(app, token, concurrency=LISTENERS)
    else:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        handler = SocketModeHandler(app, app_token=token)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    handler.connect()
    stop.wait()
    handler.close()


if __name__ == "__main__":
    main()
