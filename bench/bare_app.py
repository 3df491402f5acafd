"""The yardstick for bench/ack_latency.py: a bare Bolt app with one trivial command, served exactly as
`coregroup run --http` serves CoreGroup (bot.server.serve: waitress, the same threads and body limit; Bolt's
own listener pool). It also acknowledges CoreGroup's update form and does nothing else with it, to show what
Bolt and the server alone cost for a form of that size.

    SLACK_SIGNING_SECRET=... SLACK_BOT_TOKEN=... SLACK_API_URL=... python -m bench.bare_app --port 3001
"""

from __future__ import annotations

import argparse
import os

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.server import WebApp, serve
from handlers.ids import View
from models.db import make_engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    client = WebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"])
    app = App(signing_secret=os.environ["SLACK_SIGNING_SECRET"], client=client, token_verification_enabled=False)

    @app.command("/bare")
    def bare(ack):
        ack("ok")

    @app.view(View.UPDATE)  # a second yardstick: the same form as CoreGroup's, acknowledged and nothing else
    def bare_form(ack):
        ack()

    # Bolt's own WSGI adapter, which reads the body with urllib, where CoreGroup's reads it faster (bot/body.py).
    web = WebApp(app, make_engine(os.environ["DATABASE_URL"]), handler=SlackRequestHandler)
    serve(web, host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
