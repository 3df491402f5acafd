"""Socket Mode: the app's own WebSocket to Slack, kept open through closes, refreshes and silent network drops.

Bolt's handler contract is kept (`slack_bolt.adapter.socket_mode.base_handler.BaseSocketModeHandler` over a
`slack_sdk.socket_mode.client.BaseSocketModeClient`, Bolt's own `run_bolt_app`), but the connection is managed
here, over the `websockets` library's threading client, because none of the clients slack_sdk ships meets the
targets (README, "Staying connected in Socket Mode"): the built-in client is back 10 s after a clean close and
50 s after a silent drop; the websocket-client adapter reconnects on the thread that hands out envelopes and runs
one connection at a time, so a refresh leaves a gap in which acknowledgements are lost, and it never times out a
missing pong; the aiohttp and websockets adapters run a synchronous Bolt app on their event loop, one envelope
at a time.

How it behaves:

- **Connecting**: `apps.connections.open` with the app-level token, then the WebSocket; a connection counts once
  Slack's `hello` arrives. A refused token (`invalid_auth`, …) raises `AppTokenRefused` at start; any other
  failure is retried, 0.5 s, 1 s, 2 s … up to 10 s apart.
- **A clean close, or a close of any kind**: a new connection is opened at once.
- **`disconnect`** (`refresh_requested`, `link_disabled`, `warning`): a new connection is opened while the old one
  keeps delivering and taking acknowledgements; the old one is closed once the new one has said hello.
- **A silent drop**: the client pings every `PING_INTERVAL` seconds and gives up on a connection whose pong has not
  come within `PING_TIMEOUT`; then as a close. Nothing spins meanwhile: every wait is on a socket or an event.
- **Envelopes** are handled on a pool as large as the app's listener pool; each one is counted as waiting for its
  answer from arrival until acknowledged (`handlers.deps.Answering`, as HTTP mode counts requests), and its
  acknowledgement goes back on the connection it came on (or the newest, if that one has gone).
- **Only a 2xx answer is acknowledged.** Anything else (a listener that failed before answering, an event whose
  work could not be done) is left unacknowledged, so Slack delivers it again.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

from handlers.deps import Answering

log = logging.getLogger(__name__)

PING_INTERVAL = 3.0  # seconds between the client's pings
PING_TIMEOUT = 4.0  # a pong later than this and the connection is taken for dropped (found within 8 s at most)
HELLO_TIMEOUT = 10.0  # seconds to wait for Slack's hello on a new connection
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)  # between failed attempts to connect
# apps.connections.open's answers that mean the token itself is wrong: retrying cannot help.
TOKEN_REFUSED = frozenset({"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked",
                           "token_expired", "account_inactive", "missing_scope", "no_permission",
                           "team_access_not_granted"})


class AppTokenRefused(Exception):
    """Slack refused the app-level token (the error code, never the token, is the message)."""


class _Link:
    """One WebSocket connection and the thread reading it."""

    def __init__(self, client: SocketClient, ws: ClientConnection, number: int):
        self.client, self.ws, self.number = client, ws, number
        self.hello = threading.Event()
        self.closed = threading.Event()
        self.settled = threading.Event()  # hello, or closed before it
        self.replaced = False  # a newer connection took over: its close is expected
        self.pending = 0  # envelopes it delivered that are not acknowledged yet
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._read, daemon=True, name=f"socket-mode-{number}")
        self.thread.start()

    def _read(self) -> None:
        try:
            with self.ws:  # the library's way to own a connection: closed on the way out, whatever happens
                for raw in self.ws:
                    self.client._received(self, raw)
        except (ConnectionClosed, OSError):
            pass
        except Exception as error:  # never let one bad frame end the connection silently
            log.error("Socket Mode connection %s failed: %s", self.number, type(error).__name__)
        finally:
            self.closed.set()
            self.settled.set()
            self.client._link_ended(self)

    def send(self, text: str) -> None:
        self.ws.send(text)

    def close(self) -> None:
        self.replaced = True
        with contextlib.suppress(Exception):
            self.ws.close()

    def retire(self) -> None:
        """A newer connection has taken over: close this one once what it delivered is acknowledged on it."""
        with self.lock:
            self.replaced = True
            done = not self.pending
        if done:
            self.close()

    def taken(self) -> None:
        with self.lock:
            self.pending += 1

    def answered(self) -> None:
        with self.lock:
            self.pending -= 1
            done = self.replaced and not self.pending
        if done:
            self.close()


class SocketClient(BaseSocketModeClient):
    """A Socket Mode client for Bolt's handler; see the module docstring."""

    def __init__(self, app_token: str, web_client: WebClient, *, concurrency: int,
                 answering: Answering | None = None, ping_interval: float = PING_INTERVAL,
                 ping_timeout: float = PING_TIMEOUT):
        self.app_token = app_token
        self.web_client = web_client
        self.logger = log
        self.answering = answering or Answering()
        self.ping_interval, self.ping_timeout = ping_interval, ping_timeout
        self.message_listeners = []
        self.socket_mode_request_listeners = []
        self.message_workers = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="envelope")
        self.closed = False
        self.connect_operation_lock = threading.Lock()
        self.wss_uri = ""  # never logged: the URL carries a ticket
        self._lock = threading.Lock()
        self._current: _Link | None = None
        self._numbers = 0
        self._wanted = threading.Event()  # a new connection is wanted (closed, refresh asked for)
        self._reason = ""
        self._lost_at: float | None = None
        self._came_on: dict[str, _Link] = {}  # envelope id -> the connection it arrived on, until acknowledged
        self._keeper: threading.Thread | None = None
        self._closing = threading.Event()
        self._connecting = False
        # The library's own account of a lost connection is a traceback at ERROR; this module says it in one line.
        self._ws_log = logging.getLogger(f"{__name__}.websocket")
        self._ws_log.setLevel(logging.CRITICAL)

    # ---- the connection ------------------------------------------------------------------

    def is_connected(self) -> bool:
        link = self._current
        return link is not None and link.hello.is_set() and not link.closed.is_set()

    def connect(self) -> None:
        """Connect once (retrying what may pass), then keep a connection open until `close()`. Raises
        AppTokenRefused if Slack refuses the app-level token."""
        self._open_with_retries()
        if self.closed:  # stopped while still trying
            return
        log.info("connected to Slack")
        self._keeper = threading.Thread(target=self._keep, daemon=True, name="socket-mode-keeper")
        self._keeper.start()

    def _open_with_retries(self) -> None:
        attempt = 0
        while not self.closed:
            try:
                self._open()
                return
            except AppTokenRefused:
                raise
            except Exception as error:
                delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
                log.warning("could not connect to Slack (%s); trying again in %.1f s", _describe(error), delay)
                attempt += 1
                if self._wait_closed(delay):
                    return

    def _open(self) -> None:
        try:
            url = self.web_client.apps_connections_open(app_token=self.app_token)["url"]
        except SlackApiError as error:
            code = error.response.get("error") if error.response is not None else None
            if code in TOKEN_REFUSED:
                raise AppTokenRefused(code) from None
            raise
        self.wss_uri = url
        ws = ws_connect(url, ping_interval=self.ping_interval, ping_timeout=self.ping_timeout, open_timeout=10,
                        close_timeout=1, compression=None, max_size=None, logger=self._ws_log)
        with self._lock:
            self._numbers += 1
            link = _Link(self, ws, self._numbers)
        if not link.settled.wait(HELLO_TIMEOUT) or link.closed.is_set():
            link.close()
            raise ConnectionError("Slack did not say hello on the new connection")
        with self._lock:
            old, self._current = self._current, link
        if old is not None and old is not link:
            old.retire()  # new envelopes come on the new connection; the old one's are acknowledged on it first

    def _keep(self) -> None:
        while not self.closed:
            self._wanted.wait()
            if self.closed:
                return
            self._wanted.clear()
            started = self._lost_at or time.monotonic()
            log.info("reconnecting to Slack (%s)", self._reason)
            self._connecting = True
            try:
                self._open_with_retries()
            except AppTokenRefused as refused:
                log.error("Slack refused SLACK_APP_TOKEN (%s); Socket Mode stays disconnected until the token is"
                          " fixed and CoreGroup restarted", refused)
                return
            finally:
                self._connecting = False
            if self.closed:
                return
            self._lost_at = None
            log.info("reconnected after %.1f s", time.monotonic() - started)
            if not self.is_connected():  # lost again before this loop was listening for it
                self._want_new("connection lost", lost=True)

    def _want_new(self, reason: str, *, lost: bool) -> None:
        if self.closed:
            return
        self._reason = reason
        if lost and self._lost_at is None:
            self._lost_at = time.monotonic()
        self._wanted.set()

    def _link_ended(self, link: _Link) -> None:
        if link is not self._current or link.replaced or self.closed:
            return
        if self._connecting:  # a refresh under way: its new connection is on its way already
            if self._lost_at is None:
                self._lost_at = time.monotonic()
            return
        if link.ws.close_code not in (None, 1006):  # Slack closed it (1006: no close frame came, RFC 6455)
            self._want_new(f"connection closed, code {link.ws.close_code}", lost=True)
            return
        # No close frame: the network went quiet (no pong within PING_TIMEOUT of a ping) or the socket broke.
        # The connection has been gone since that ping at least, so the outage is counted from then.
        self._lost_at = time.monotonic() - self.ping_timeout
        self._want_new(f"connection lost: no answer from Slack for {self.ping_timeout:.0f} s", lost=True)

    def _wait_closed(self, seconds: float) -> bool:
        self._closing.wait(seconds)
        return self.closed

    # ---- messages --------------------------------------------------------------------------

    def _received(self, link: _Link, raw: str | bytes) -> None:
        message = json.loads(raw)
        kind = message.get("type")
        if kind == "hello":
            link.hello.set()
            link.settled.set()
            return
        if kind == "disconnect":
            reason = message.get("reason") or "disconnect"
            if reason == "link_disabled":
                log.warning("Slack says Socket Mode was turned off for this app (link_disabled); reconnecting")
            if link is self._current:
                self._want_new(f"Slack asked: {reason}", lost=False)
            return
        envelope_id = message.get("envelope_id")
        if not envelope_id:
            return
        self._came_on[envelope_id] = link
        link.taken()
        self.answering.__enter__()  # waiting for its answer from now, as an HTTP request is from arrival
        try:
            self.message_workers.submit(self._run_listeners, message, link)
        except RuntimeError:  # shutting down: not acknowledged, so Slack delivers it again
            self._came_on.pop(envelope_id, None)
            self.answering.__exit__()
            link.answered()

    def _run_listeners(self, message: dict, link: _Link) -> None:
        try:
            request = SocketModeRequest.from_dict(message)
            if request is not None:
                for listener in self.socket_mode_request_listeners:
                    listener(self, request)
        except Exception as error:
            log.error("Socket Mode envelope failed: %s on %s", type(error).__name__, message.get("type"))
        finally:
            self._came_on.pop(message.get("envelope_id"), None)
            self.answering.__exit__()
            link.answered()

    def send_socket_mode_response(self, response: dict[str, Any] | SocketModeResponse) -> None:
        body = response.to_dict() if isinstance(response, SocketModeResponse) else response
        came_on = self._came_on.get(body.get("envelope_id"))
        text = json.dumps(body)
        for link in (came_on, self._current):
            if link is None or link.closed.is_set():
                continue
            try:
                link.send(text)
                return
            except (ConnectionClosed, WebSocketException, OSError):
                continue
        log.warning("an acknowledgement could not be sent: no connection open (Slack will deliver it again)")

    def send_message(self, message: str) -> None:
        link = self._current
        if link is None:
            raise ConnectionError("not connected to Slack")
        link.send(message)

    # ---- stopping ------------------------------------------------------------------------------

    def interrupt(self) -> None:
        """Stop connecting and reconnecting (safe in a signal handler); `close()` does the rest."""
        self.closed = True
        self._closing.set()
        self._wanted.set()

    def disconnect(self) -> None:
        link = self._current
        if link is not None:
            link.close()

    def close(self) -> None:
        """Stop reconnecting, let the envelopes in hand be answered and acknowledged, then close."""
        self.closed = True
        self._closing.set()
        self._wanted.set()
        self.message_workers.shutdown(wait=True)
        self.disconnect()
        if self._keeper is not None:
            self._keeper.join(5)


def _describe(error: Exception) -> str:
    if isinstance(error, SlackApiError) and error.response is not None:
        return f"apps.connections.open: {error.response.get('error') or error.response.status_code}"
    return type(error).__name__


class SocketHandler(BaseSocketModeHandler):
    """Bolt's Socket Mode handler over SocketClient: Bolt's own dispatch, and an acknowledgement only for a 2xx."""

    def __init__(self, app: App, app_token: str, *, concurrency: int, answering: Answering | None = None,
                 web_client: WebClient | None = None, **client_options: Any):
        self.app = app
        self.client = SocketClient(app_token, web_client or app.client, concurrency=concurrency,
                                   answering=answering, **client_options)
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        response = run_bolt_app(self.app, req)
        if not 200 <= response.status < 300:
            # Unanswered, Slack delivers it again (events) or tells the person it failed (commands, clicks).
            log.warning("not acknowledged: Bolt answered %s to a %s envelope", response.status, req.type)
            return
        ack = SocketModeResponse(envelope_id=req.envelope_id)
        if response.body:
            content_type = (response.headers.get("content-type") or [""])[0]
            payload = json.loads(response.body) if content_type.startswith("application/json") \
                else {"text": response.body}
            ack = SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
        client.send_socket_mode_response(ack)
