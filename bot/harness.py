"""The app behind a real local HTTP server, and a Slack that sends it signed requests: the test bench, and
what `coregroup demo` drives.

`RunningApp` builds the app with `create_app` (the same factory `coregroup run` uses), serves it with
waitress on a free port, and tracks the listener threads so a test can wait until the app has
finished what a request started. `SlackUser` plays Slack's side: it signs each request with the
signing secret exactly as Slack does and posts it to `/slack/events`.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from bot.app import create_app
from bot.server import Served, WebApp, make_server
from bot.settings import Settings
from bot.slack import make_client

SIGNING_SECRET = "test-signing-secret"  # noqa: S105  (the local bench's own secret, not a credential)
_ids = itertools.count(1)


class _Books:
    """What a set of tracked pools has still to finish, and what failed."""

    def __init__(self) -> None:
        self.pending = 0
        self.lock = threading.Condition()
        self.errors: list[BaseException] = []


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that can say when everything it ran (and everything its partner pools ran) has finished."""

    def __init__(self, max_workers: int = 8, *, name: str = "listener", together_with: TrackingExecutor | None = None):
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self._books = together_with._books if together_with is not None else _Books()

    @property
    def errors(self) -> list[BaseException]:
        return self._books.errors

    def submit(self, fn, /, *args, **kwargs) -> Future:
        with self._books.lock:
            self._books.pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._done)
        return future

    def _done(self, future: Future) -> None:
        if future.exception() is not None:
            self._books.errors.append(future.exception())
        with self._books.lock:
            self._books.pending -= 1
            self._books.lock.notify_all()

    def wait_idle(self, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        with self._books.lock:
            while self._books.pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the app was still busy after {timeout}s")
                self._books.lock.wait(left)


@dataclass
class Response:
    status: int
    body: str

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class RunningApp:
    """The app factory's app, served over HTTP on 127.0.0.1."""

    def __init__(self, settings: Settings, engine, *, clock=None):
        self.settings = settings
        self.engine = engine
        # Listeners and the work after their answers run on separate pools, as in production, tracked together.
        self.executor = TrackingExecutor()
        self.after_answer = TrackingExecutor(2, name="after-answer", together_with=self.executor)
        self.app, self.deps = create_app(settings, engine=engine, client=make_client(settings), clock=clock,
                                         listener_executor=self.executor, after_ack_executor=self.after_answer)
        self.server = make_server(WebApp(self.app, engine, answering=self.deps.answering), host="127.0.0.1", port=0,
                                  threads=8)
        self.port = self.server.effective_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.served = Served(self.server, "waitress")

    def stop(self) -> None:
        """Let the requests being answered finish, end the server (bot.server.Served.stop), then the app's
        executors. Stopping twice does nothing more."""
        self.served.stop()
        self.executor.shutdown(wait=True)
        self.after_answer.shutdown(wait=True)

    def wait_idle(self, timeout: float = 10.0) -> None:
        self.executor.wait_idle(timeout)

    def get(self, path: str) -> Response:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as reply:  # noqa: S310  (http://127.0.0.1 only)
                return Response(reply.status, reply.read().decode())
        except urllib.error.HTTPError as error:
            return Response(error.code, error.read().decode())


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def post_signed(url: str, body: str, content_type: str, *, timestamp: int | None = None,
                signature: str | None = None, headers: dict[str, str] | None = None,
                secret: str = SIGNING_SECRET) -> Response:
    timestamp = int(time.time()) if timestamp is None else timestamp
    request = urllib.request.Request(url, data=body.encode(), method="POST")  # noqa: S310  (a local app)
    request.add_header("Content-Type", content_type)
    request.add_header("X-Slack-Request-Timestamp", str(timestamp))
    request.add_header("X-Slack-Signature", signature if signature is not None else sign(body, timestamp, secret))
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=15) as reply:  # noqa: S310
            return Response(reply.status, reply.read().decode())
    except urllib.error.HTTPError as error:
        return Response(error.code, error.read().decode())


def _element_state(element: dict, value: Any) -> dict:
    """The state Slack reports for an input element holding `value`."""
    kind = element["type"]
    state: dict[str, Any] = {"type": kind}
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        state["value"] = None if value is None else str(value)
    elif kind == "datepicker":
        state["selected_date"] = None if value is None else str(value)
    elif kind == "timepicker":
        state["selected_time"] = value
    elif kind in ("static_select", "radio_buttons"):
        options = element.get("options") or [o for g in element.get("option_groups", []) for o in g["options"]]
        chosen = next((o for o in options if o["value"] == value), None)
        if value is not None and chosen is None:
            raise AssertionError(f"{value!r} is not an option of {element.get('action_id')}")
        state["selected_option"] = chosen
    elif kind in ("checkboxes", "multi_static_select"):
        options = element.get("options") or []
        state["selected_options"] = [o for o in options if o["value"] in (value or [])]
    elif kind == "users_select":
        state["selected_user"] = value
    elif kind == "multi_users_select":
        state["selected_users"] = list(value or [])
    elif kind == "conversations_select":
        state["selected_conversation"] = value
    else:
        state["value"] = value
    return state


def view_state(view: dict, values: dict[str, Any]) -> dict:
    """Fill a view's inputs the way a person would: initial values unless `values` says otherwise."""
    state: dict[str, dict] = {}
    for block in view.get("blocks", []):
        if block.get("type") != "input":
            continue
        element = block["element"]
        block_id = block["block_id"]
        if block_id in values:
            value = values[block_id]
        else:
            value = (element.get("initial_value") or element.get("initial_date") or element.get("initial_time")
                     or element.get("initial_user") or element.get("initial_users")
                     or (element.get("initial_option") or {}).get("value")
                     or [o["value"] for o in element.get("initial_options") or []] or None)
        state[block_id] = {element["action_id"]: _element_state(element, value)}
    unknown = set(values) - set(state)
    if unknown:
        raise AssertionError(f"the view has no input blocks {sorted(unknown)}")
    return {"values": state}


class SlackUser:
    """One person in Slack, whose clicks and typing reach the app as signed requests."""

    def __init__(self, app: RunningApp, standin, user_id: str, team_id: str):
        self.app = app
        self.standin = standin
        self.user_id = user_id
        self.team_id = team_id

    @property
    def events_url(self) -> str:
        return self.app.url + "/slack/events"

    def _send_form(self, payload: dict, wait: bool = True, **kwargs) -> Response:
        body = urllib.parse.urlencode({"payload": json.dumps(payload)})
        reply = post_signed(self.events_url, body, "application/x-www-form-urlencoded", **kwargs)
        if wait:
            self.app.wait_idle()
        return reply

    def command(self, text: str = "", *, channel: str = "C0GENERAL", wait: bool = True, **kwargs) -> Response:
        fields = {
            "token": "unused", "team_id": self.team_id, "team_domain": "council", "channel_id": channel,
            "channel_name": "x", "user_id": self.user_id, "user_name": "user", "command": "/coregroup",
            "text": text, "api_app_id": "A0COREGROUP", "response_url": self.standin.response_url(),
            "trigger_id": self.standin.trigger_id(),
        }
        return self._send_command(fields, wait, **kwargs)

    def _send_command(self, fields: dict, wait: bool = True, **kwargs) -> Response:
        body = urllib.parse.urlencode(fields)
        reply = post_signed(self.events_url, body, "application/x-www-form-urlencoded", **kwargs)
        if wait:
            self.app.wait_idle()
        return reply

    def submit(self, view: dict, values: dict[str, Any] | None = None, *, wait: bool = True,
               private_metadata: str | None = None, **kwargs) -> Response:
        """Submit a modal that the app opened, with some fields filled in."""
        submitted = dict(view)
        submitted["state"] = view_state(view, values or {})
        if private_metadata is not None:
            submitted["private_metadata"] = private_metadata
        submitted.setdefault("id", f"V{next(_ids):08d}")
        submitted.setdefault("hash", "h")
        payload = {
            "type": "view_submission", "team": {"id": self.team_id, "domain": "council"},
            "user": {"id": self.user_id, "team_id": self.team_id, "name": "user"},
            "api_app_id": "A0COREGROUP", "trigger_id": self.standin.trigger_id(), "view": submitted,
        }
        return self._send_form(payload, wait, **kwargs)

    def click(self, action_id: str, value: Any = None, *, channel: str | None = None, message: dict | None = None,
              view: dict | None = None, selected: str | None = None, wait: bool = True, **kwargs) -> Response:
        """Click a button (or choose a menu option) on a message or in a modal."""
        if isinstance(value, dict):
            value = json.dumps(value, separators=(",", ":"))
        action: dict[str, Any] = {"action_id": action_id, "block_id": "b", "action_ts": str(time.time())}
        if selected is not None:
            action.update(type="static_select", selected_option={"value": selected, "text": {
                "type": "plain_text", "text": "x"}})
        else:
            action.update(type="button", value=value)
        payload: dict[str, Any] = {
            "type": "block_actions", "team": {"id": self.team_id, "domain": "council"},
            "user": {"id": self.user_id, "team_id": self.team_id, "name": "user"},
            "api_app_id": "A0COREGROUP", "trigger_id": self.standin.trigger_id(), "actions": [action],
        }
        if view is not None:
            payload["view"] = view
            payload["container"] = {"type": "view", "view_id": view.get("id")}
        else:
            payload["channel"] = {"id": channel, "name": "x"}
            payload["container"] = {"type": "message", "channel_id": channel,
                                    "message_ts": (message or {}).get("ts", "1.0")}
            payload["message"] = message or {"ts": "1.0", "text": ""}
            payload["response_url"] = self.standin.response_url()
        return self._send_form(payload, wait, **kwargs)

    def shortcut(self, callback_id: str, *, channel: str, message: dict, wait: bool = True, **kwargs) -> Response:
        """A message shortcut on a message in a channel."""
        payload = {
            "type": "message_action", "callback_id": callback_id, "trigger_id": self.standin.trigger_id(),
            "team": {"id": self.team_id, "domain": "council"},
            "user": {"id": self.user_id, "team_id": self.team_id, "name": "user"},
            "channel": {"id": channel, "name": "x"}, "message": message, "message_ts": message.get("ts"),
            "response_url": self.standin.response_url(),
        }
        return self._send_form(payload, wait, **kwargs)


def event_callback(event: dict, *, team_id: str, event_id: str | None = None) -> dict:
    """The body of an Events API delivery (an HTTP request's, or a Socket Mode envelope's payload)."""
    return {
        "token": "unused", "team_id": team_id, "api_app_id": "A0COREGROUP", "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}", "event_time": int(time.time()), "event": event,
        "authorizations": [{"team_id": team_id, "user_id": "U0BOT", "is_bot": True}],
    }


def send_event(app: RunningApp, event: dict, *, team_id: str, event_id: str | None = None,
               retry_num: int | None = None, wait: bool = True) -> Response:
    """An Events API delivery, signed, optionally marked as Slack's retry."""
    body = json.dumps(event_callback(event, team_id=team_id, event_id=event_id))
    headers = {}
    if retry_num is not None:
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"}
    reply = post_signed(app.url + "/slack/events", body, "application/json", headers=headers)
    if wait:
        app.wait_idle()
    return reply
