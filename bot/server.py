"""HTTP mode: one WSGI app for `POST /slack/events` and `GET /healthz`, served by waitress."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Callable

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine
from waitress.server import create_server

from bot.body import SlackRequests
from handlers.deps import Answering
from models.db import ping

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack payloads are small; refuse anything larger before parsing it


class WebApp:
    """The WSGI application: Slack's requests go to Bolt; /healthz answers once the database does."""

    def __init__(self, app: App, engine: Engine, *, answering: Answering | None = None,
                 handler: type[SlackRequestHandler] = SlackRequests):
        self.slack = handler(app, path=EVENTS_PATH)
        self.engine = engine
        self.answering = answering or Answering()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == "/healthz" and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy = ping(self.engine)
            status = "200 OK" if healthy else "503 Service Unavailable"
            body = b"ok\n" if healthy else b"database not answering\n"
            start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
            return [body]
        if environ.get("PATH_INFO") == EVENTS_PATH and not _signed_headers(environ):
            log.info("refused a request without a usable signature")
            body = b'{"error": "invalid request"}'
            start_response("401 Unauthorized", [("Content-Type", "application/json"),
                                                ("Content-Length", str(len(body)))])
            return [body]
        with self.answering:  # Bolt returns once the request is answered; work after the answer goes on
            return self.slack(environ, start_response)


class HealthApp:
    """`GET /healthz` on its own, for Socket Mode (`coregroup run --health-port N`): 200 only when the database
    answers and the socket to Slack is connected, 503 saying which is not otherwise."""

    def __init__(self, engine: Engine, connected: Callable[[], bool]):
        self.engine = engine
        self.connected = connected

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") != "/healthz" or environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "10")])
            return [b"not found\n"]
        problems = [] if ping(self.engine) else ["database not answering"]
        if not self.connected():
            problems.append("not connected to Slack")
        body = ("; ".join(problems) or "ok").encode() + b"\n"
        status = "503 Service Unavailable" if problems else "200 OK"
        start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


class Served:
    """A waitress server running on a thread of its own (daemon), and how to stop it without a race."""

    def __init__(self, server, name: str):
        self.server = server
        self._stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True, name=name)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self._stopping:  # a socket closed under the loop while stopping (see stop)
                raise

    def stop(self, timeout: float = 5) -> None:
        """Let the requests being answered finish, then end the server's loop at once and close what it served.
        (Closed from this thread while the loop waits in select, the loop would fail on a closed socket, or only
        notice at the end of its one-second poll.) Stopping twice does nothing more."""
        if self._stopping:
            return
        self._stopping = True
        server = self.server
        server.task_dispatcher.shutdown(cancel_pending=False, timeout=timeout)  # its threads end after their request
        forgotten: list = []

        def forget_all() -> None:  # run by the loop itself: with nothing left to watch, it ends at once
            for channel in list(server._map.values()):
                channel.del_channel()
                forgotten.append(channel)

        server.trigger.pull_trigger(forget_all)
        self.thread.join(timeout)
        # The listener, its wake-up pipe and any connection still open, closed here once nothing else uses them
        # (what is still in the map if the loop had already ended).
        for channel in forgotten + list(server._map.values()):
            channel.close()


def serve_health(health: HealthApp, *, host: str, port: int) -> Served:
    """Serve the health check on a thread of its own; returns it running (.stop() stops it)."""
    served = Served(create_server(health, host=host, port=port, threads=2, ident="coregroup"), "health")
    log.info("health check on port %s/healthz", served.server.effective_port)
    return served


def _signed_headers(environ) -> bool:
    """Whether a request carries a signature and a whole-number timestamp, which Bolt then verifies. Bolt's check
    raises on a timestamp that is not a number, and the error handler would take that for a listener failure."""
    timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
    return bool(environ.get("HTTP_X_SLACK_SIGNATURE")) and timestamp.isascii() and timestamp.isdigit()


def make_server(wsgi: WebApp, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 16):  # noqa: S104
    """A waitress server object (call .run(); .close() stops it). Port 0 picks a free port."""
    return create_server(wsgi, host=host, port=port, threads=threads, max_request_body_size=MAX_BODY,
                         ident="coregroup")


def settle_memory() -> None:
    """Call once start-up is done. What start-up built (Bolt, the tables, SQLAlchemy's compiled statements) lasts
    as long as the process: it is moved out of the garbage collector's sight, so that a full collection, which
    comes every few hundred requests, looks at what requests made and takes about 20 ms rather than 120 ms in the
    middle of someone's answer."""
    gc.collect()
    gc.freeze()


def serve(wsgi: WebApp, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 16) -> None:  # noqa: S104
    log.info("serving Slack requests on port %s%s", port, EVENTS_PATH)
    settle_memory()
    waitress.serve(wsgi, host=host, port=port, threads=threads, max_request_body_size=MAX_BODY, ident="coregroup")
