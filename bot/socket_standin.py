"""A local stand-in for Slack's Socket Mode, beside the Web API stand-in (`bot/standin.py`).

Slack's side of Socket Mode, as documented (api.slack.com/apis/socket-mode and "Socket Mode implementation"):

- `apps.connections.open`, called with the app-level token (xapp-), answers `{"ok": true, "url": "wss://..."}`
  with a single-use URL; a token it does not know gets `invalid_auth`, a bot token `not_allowed_token_type`. The
  Web API stand-in routes the method here once `SocketStandIn(web)` is attached, and its `fail_next` makes the
  method fail a few times as it does any other.
- The WebSocket, served by the `websockets` library, sends `hello` on connecting, then envelopes:
  `{"envelope_id", "type": "slash_commands" | "interactive" | "events_api", "payload",
  "accepts_response_payload"}` (events also carry `retry_attempt` and `retry_reason`), and records each
  acknowledgement, `{"envelope_id", "payload"?}`, with when it came and on which connection.
- It can close a connection cleanly, drop it silently (a network gone quiet: no close, no FIN, pings
  unanswered), and send `{"type": "disconnect", "reason": "refresh_requested" | "link_disabled"}`, closing that
  connection a moment later, as Slack does.

Every connection runs through a small TCP relay on 127.0.0.1, which is what makes a silent drop possible: the relay
keeps both sockets open and throws away whatever either side sends.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from bot.standin import SlackError, SlackStandIn


@dataclass
class Ack:
    envelope_id: str
    payload: dict | None
    at: float  # time.monotonic() when it arrived
    connection: int


@dataclass
class Envelope:
    envelope_id: str
    type: str
    payload: dict
    sent_at: float
    connection: int
    retry_attempt: int = 0


@dataclass
class Connection:
    number: int
    ws: ServerConnection
    opened_at: float
    closed_at: float | None = None
    close_code: int | None = None


class _Link:
    """One TCP connection through the relay: bytes copied both ways until `silence()`, then read and dropped."""

    def __init__(self, client: socket.socket, server: socket.socket):
        self.client, self.server = client, server
        for sock in (client, server):  # small frames go at once, as the WebSocket ends send them (no Nagle delay)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, True)
        self.silent = threading.Event()
        for source, target in ((client, server), (server, client)):
            threading.Thread(target=self._pump, args=(source, target), daemon=True, name="relay").start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                if not self.silent.is_set():
                    target.sendall(data)
        except OSError:
            pass
        if not self.silent.is_set():  # a real close travels on; a silenced link tells nobody anything
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()

    def close(self) -> None:
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.close()


class SocketStandIn:
    """Slack's Socket Mode on 127.0.0.1. `SocketStandIn(web).start()` attaches it to a Web API stand-in."""

    APP_TOKEN = "xapp-1-A0COREGROUP-test-token"  # noqa: S105  (accepted by this stand-in only)
    ACK_LIMIT = 3.0  # seconds Slack waits for an acknowledgement

    def __init__(self, web: SlackStandIn):
        self.web = web
        self.tokens: set[str] = {self.APP_TOKEN}
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._numbers = itertools.count(1)
        self._tickets: set[str] = set()
        self.connections: list[Connection] = []
        self.envelopes: dict[str, Envelope] = {}
        self.acks: list[Ack] = []
        self.opened: list[float] = []  # when apps.connections.open handed out a URL
        self._server = None
        self._relay: socket.socket | None = None
        self._links: list[_Link] = []
        self._stopping = threading.Event()

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> SocketStandIn:
        self._stopping.clear()
        # The server's own pings find a silently dropped connection and end it, as Slack's do.
        self._server = serve(self._serve, "127.0.0.1", 0, ping_interval=2, ping_timeout=2, close_timeout=1,
                             compression=None)
        self._ws_port = self._server.socket.getsockname()[1]
        threading.Thread(target=self._server.serve_forever, daemon=True, name="socket-standin").start()
        self._relay = socket.create_server(("127.0.0.1", 0))
        self.port = self._relay.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True, name="socket-relay").start()
        self.web.socket_mode = self
        return self

    def stop(self) -> None:
        self._stopping.set()
        if getattr(self.web, "socket_mode", None) is self:
            self.web.socket_mode = None
        if self._relay is not None:
            self._relay.close()
            self._relay = None
        for link in self._links:
            link.close()
        if self._server is not None:
            self._server.shutdown()
            self._server = None

    def __enter__(self) -> SocketStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._relay.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self._ws_port))
            link = _Link(client, server)
            with self._lock:
                self._links.append(link)

    # ---- apps.connections.open (called by the Web API stand-in) ------------------------

    def open_connection(self, token: str | None) -> dict:
        if token and token.startswith("xoxb-"):
            raise SlackError("not_allowed_token_type")
        if token not in self.tokens:
            raise SlackError("invalid_auth")
        ticket = secrets.token_hex(16)
        with self._lock:
            self._tickets.add(ticket)
            self.opened.append(time.monotonic())
        return {"url": f"ws://127.0.0.1:{self.port}/link/?ticket={ticket}&app_id={SlackStandIn.APP_ID}"}

    # ---- the WebSocket ----------------------------------------------------------------

    def _serve(self, ws: ServerConnection) -> None:
        ticket = (parse_qs(urlsplit(ws.request.path).query).get("ticket") or [""])[0]
        with self._lock:
            if ticket not in self._tickets:  # each URL works once, as Slack's do
                ws.close(1008, "invalid ticket")
                return
            self._tickets.discard(ticket)
            connection = Connection(next(self._numbers), ws, time.monotonic())
            self.connections.append(connection)
            live = sum(c.closed_at is None for c in self.connections)
        try:
            ws.send(json.dumps({
                "type": "hello", "num_connections": live,
                "debug_info": {"host": "applink-standin", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": SlackStandIn.APP_ID},
            }))
            for raw in ws:
                message = json.loads(raw)
                with self._lock:
                    if message.get("envelope_id"):
                        self.acks.append(Ack(message["envelope_id"], message.get("payload"), time.monotonic(),
                                             connection.number))
                    self._changed.notify_all()
        except (ConnectionClosed, OSError, ValueError):
            pass
        finally:
            with self._lock:
                connection.closed_at = time.monotonic()
                connection.close_code = ws.close_code
                self._changed.notify_all()

    # ---- what a test sees ---------------------------------------------------------------

    def live(self) -> list[Connection]:
        with self._lock:
            return [c for c in self.connections if c.closed_at is None]

    def wait_connected(self, count: int = 1, timeout: float = 30.0) -> Connection:
        """Wait until `count` connections have been opened in all; returns the newest live one."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.connections) < count or not self.live():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the app made {len(self.connections)} of {count} connection(s)"
                                         f" within {timeout}s")
                self._changed.wait(min(left, 0.1))
            return self.live()[-1]

    def ack_of(self, envelope_id: str) -> Ack | None:
        with self._lock:
            return next((a for a in self.acks if a.envelope_id == envelope_id), None)

    def wait_ack(self, envelope_id: str, timeout: float = 15.0) -> Ack:
        deadline = time.monotonic() + timeout
        with self._changed:
            while (ack := self.ack_of(envelope_id)) is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no acknowledgement of {envelope_id} within {timeout}s")
                self._changed.wait(left)
            return ack

    def latency(self, envelope_id: str) -> float | None:
        """Seconds from sending the envelope (its latest delivery) to its acknowledgement."""
        ack = self.ack_of(envelope_id)
        return None if ack is None else ack.at - self.envelopes[envelope_id].sent_at

    # ---- what Slack sends -------------------------------------------------------------

    def _newest(self) -> Connection:
        live = self.live()
        if not live:
            raise ConnectionError("the app has no connection open")
        return live[-1]

    def send(self, kind: str, payload: dict, *, accepts_response_payload: bool = False,
             envelope_id: str | None = None, retry_attempt: int = 0, retry_reason: str = "") -> str:
        """Send one envelope on the newest live connection (Slack picks one of the app's connections)."""
        envelope_id = envelope_id or str(uuid.uuid4())
        message: dict[str, Any] = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                                   "accepts_response_payload": accepts_response_payload}
        if kind == "events_api":
            message.update(retry_attempt=retry_attempt, retry_reason=retry_reason)
        connection = self._newest()
        with self._lock:
            self.envelopes[envelope_id] = Envelope(envelope_id, kind, payload, time.monotonic(), connection.number,
                                                   retry_attempt)
        try:
            connection.ws.send(json.dumps(message))
        except ConnectionClosed as closed:  # closing as it was picked: as good as no connection
            raise ConnectionError("the app's connection closed") from closed
        return envelope_id

    def command(self, fields: dict) -> str:
        """A slash command: the form fields Slack would have posted, as a JSON object."""
        return self.send("slash_commands", fields, accepts_response_payload=True)

    def interactive(self, payload: dict) -> str:
        return self.send("interactive", payload,
                         accepts_response_payload=payload.get("type") in ("view_submission", "block_suggestion"))

    def event(self, body: dict) -> str:
        return self.send("events_api", body)

    def redeliver(self, envelope_id: str, reason: str = "timeout") -> str:
        """Slack's retry of an Events API envelope that was not acknowledged: the same envelope id and payload,
        `retry_attempt` one more."""
        first = self.envelopes[envelope_id]
        return self.send(first.type, first.payload, envelope_id=envelope_id, retry_attempt=first.retry_attempt + 1,
                         retry_reason=reason)

    # ---- what goes wrong ----------------------------------------------------------------

    def close(self, code: int = 1000) -> None:
        """Close every live connection cleanly (a close frame, then the TCP close)."""
        for connection in self.live():
            connection.ws.close(code)

    def disconnect(self, reason: str = "refresh_requested", close_after: float = 1.0) -> None:
        """Send `disconnect` on every live connection, and close each `close_after` seconds later."""
        for connection in self.live():
            connection.ws.send(json.dumps({"type": "disconnect", "reason": reason,
                                           "debug_info": {"host": "applink-standin"}}))
            timer = threading.Timer(close_after, connection.ws.close)
            timer.daemon = True
            timer.start()

    def drop(self) -> None:
        """The network goes quiet under every live connection: nothing more arrives either way, nothing closes."""
        with self._lock:
            for link in self._links:  # every connection made so far; the app's next one gets through
                link.silent.set()
