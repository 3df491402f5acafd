"""The app factory: one Bolt App per call, nothing created at import time."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from datetime import datetime

from slack_bolt import Ack, App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from sqlalchemy import Engine

from bot.settings import Settings
from bot.slack import make_client
from handlers import register_all
from handlers.deps import Deps
from handlers.people import LookUpOnAction
from models.db import make_engine

log = logging.getLogger(__name__)

LISTENERS = 16  # requests handled at once (Bolt's own default is the number of CPUs + 4: 6 on two)
SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on our side and nothing was saved. Please try again in a minute;"
    " if it keeps happening, tell your CoreGroup administrator."
)


def create_app(
    settings: Settings,
    *,
    engine: Engine | None = None,
    client: WebClient | None = None,
    clock: Callable[[], datetime] | None = None,
    listener_executor: Executor | None = None,
    after_ack_executor: Executor | None = None,
    verify_token: bool = False,
) -> tuple[App, Deps]:
    """Build the Bolt app and the dependencies its listeners share."""
    engine = engine or make_engine(settings.database_url)
    client = client or make_client(settings)
    app = App(
        name="coregroup",
        client=client,
        signing_secret=settings.signing_secret or "socket-mode-has-no-signing-secret",
        token_verification_enabled=verify_token,
        listener_executor=listener_executor or ThreadPoolExecutor(max_workers=LISTENERS, thread_name_prefix="listener"),
        request_verification_enabled=bool(settings.signing_secret),
    )
    # Work after an answer (saving a checked form, posting, redrawing) runs on a small pool of its own, so it
    # cannot hold up the answers to other requests, whose listeners run on Bolt's pool. Tests pass pools they track.
    deps = Deps(settings=settings, engine=engine,
                after_ack=after_ack_executor or ThreadPoolExecutor(max_workers=2, thread_name_prefix="after-answer"))
    if clock is not None:
        deps.clock = clock
    app.middleware(KeepAcknowledgement())
    app.middleware(LookUpOnAction(deps, client))  # names Slack would not give before are asked for again
    register_all(app, deps)

    @app.error
    def on_error(error, body, logger, response):
        kind = body.get("type") or ("slash_command" if body.get("command") else "unknown")
        # The stack without the exception's message: messages can quote SQL values or Slack replies.
        stack = "".join(traceback.format_tb(error.__traceback__))
        log.error("listener failed: %s on %s\n%s", type(error).__name__, kind, stack)
        from handlers.access import tell  # local import: only needed on the error path

        if kind in ("slash_command", "block_actions", "message_action", "shortcut"):
            tell(client, body, SOMETHING_WENT_WRONG)
        if kind == "view_submission" and response is not None:  # not answered yet: say so in the form
            return BoltResponse(status=200, body=failed_submission(body))
        return None

    return app, deps


class StickyAck(Ack):
    """An acknowledgement that stays given. When a listener fails just after acknowledging, Bolt's thread runner
    sets the acknowledgement back to None; if that happens before the request thread has looked (it looks every
    10 ms), Slack gets no answer for three seconds and then a 404, and shows the person an error."""

    def __setattr__(self, name, value):
        if name == "response" and value is None and getattr(self, "response", None) is not None:
            return
        super().__setattr__(name, value)


class KeepAcknowledgement(Middleware):
    """Gives every request a StickyAck (a Middleware object, called as it is: a function would have its
    arguments looked up by name on every request)."""

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
                ) -> BoltResponse | None:
        req.context["ack"] = StickyAck()
        return next()  # as Bolt's own middleware do (what it returns is what the listener runner starts from)


def failed_submission(body: dict) -> dict:
    """The answer to a form whose handler failed before answering: the reason on its first field, so what
    was typed stays; a notice in place of the form if it has no fields."""
    blocks = (body.get("view") or {}).get("blocks") or []
    first = next((b.get("block_id") for b in blocks if b.get("type") == "input" and b.get("block_id")), None)
    if first:
        return {"response_action": "errors", "errors": {first: SOMETHING_WENT_WRONG}}
    from handlers.access import notice_view

    return {"response_action": "update", "view": notice_view("CoreGroup", SOMETHING_WENT_WRONG)}
