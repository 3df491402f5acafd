"""The `coregroup` command line."""

from __future__ import annotations

import argparse
import contextlib
import logging
import signal
import sys
import threading

from bot.settings import WHERE_TO_GET, Settings, SettingsError

log = logging.getLogger("coregroup")
WHERE_TO_GET_APP_TOKEN = WHERE_TO_GET["SLACK_APP_TOKEN"]


# Libraries that log what they send and receive (Slack payloads, SQL parameters and rows) below WARNING.
PAYLOAD_LOGGERS = ("slack_bolt", "slack_sdk", "sqlalchemy", "apscheduler", "waitress", "alembic", "urllib3",
                   "matplotlib", "PIL", "websockets")


class LibraryPayloads(logging.Filter):
    """Drops the payload-carrying libraries' records below WARNING at the handler, so case text stays out of
    the logs even if someone lowers those loggers' levels to look into a problem."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        return record.name.split(".", 1)[0] not in PAYLOAD_LOGGERS


def configure_logging(level: str = "INFO") -> None:
    """Ids and event names only: our own log lines never carry case text, and the Slack and database libraries,
    which log payloads at DEBUG, are held at WARNING, at their loggers and again at the handler."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in PAYLOAD_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, LibraryPayloads) for f in handler.filters):
            handler.addFilter(LibraryPayloads())


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="coregroup", description="CoreGroup: a Slack app for core groups.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the app (Socket Mode, or HTTP with --http)")
    run.add_argument("--http", action="store_true", help="serve POST /slack/events and GET /healthz")
    run.add_argument("--port", type=int, default=None, help="HTTP port (default: PORT or 3000)")
    run.add_argument("--host", default="0.0.0.0", help="HTTP address to listen on")  # noqa: S104
    run.add_argument("--no-scheduler", action="store_true", help="do not send scheduled messages")
    run.add_argument("--health-port", type=int, default=None, metavar="N",
                     help="Socket Mode: serve GET /healthz on this port (200 when the database answers and the"
                          " socket to Slack is connected)")
    db = sub.add_parser("db", help="database tasks")
    db.add_argument("task", choices=["upgrade", "current"])
    for name, helptext in EXTRA_COMMANDS.items():
        extra = sub.add_parser(name, help=helptext[0])
        arguments = helptext[1]
        if isinstance(arguments, str):  # defined next to the command's code (bot/oversight_tools.py)
            from bot import oversight_tools

            arguments = getattr(oversight_tools, arguments)
        for arg, kwargs in arguments:
            extra.add_argument(arg, **kwargs)
    return parser


# Further sub-commands (demo, export-case, audit) are added here by their modules: name -> (help, args).
EXTRA_COMMANDS: dict[str, tuple[str, list[tuple[str, dict]] | str]] = {
    "audit": ("print a case's audit trail", [("reference", {})]),
    "export-case": ("write every record of a case to a zip file, for a subject access request", [
        ("reference", {}),
        ("--output", {"metavar": "FILE", "help": "the zip file to write (default: REFERENCE-export-TIME.zip)"}),
    ]),
    "staff": ("grant, revoke or list oversight roles (team managers, conference chairs, service managers,"
              " analysts)", "STAFF_ARGS"),
    "oversight": ("oversight tasks: `rebuild` works out again every held core group's facts that the measures"
                  " count (kept up to date as meetings change; needed only after loading data by hand)",
                  "OVERSIGHT_ARGS"),
    "report": ("write the oversight measures for a performance return, as CSV or an Excel workbook", "REPORT_ARGS"),
    "demo": ("see CoreGroup work without Slack: a whole core group cycle, printed as people would see it", [
        ("--out", {"metavar": "FOLDER", "default": "coregroup-demo",
                   "help": "where to write the minutes, the family version and the charts"
                           " (default: ./coregroup-demo)"}),
        ("--database-url", {"metavar": "URL", "default": None,
                            "help": "an empty database to use (default: a temporary SQLite file, removed afterwards)"}),
    ]),
}


def run(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import create_app
    from handlers.reminders import policy_from
    from models import meeting_facts, reminders
    from models.db import make_engine, upgrade

    socket_mode = not args.http
    settings.require(socket_mode=socket_mode)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    app, deps = create_app(settings, engine=engine)
    # the working calendar (and the timezone the oversight facts count days in), then the facts themselves
    reminders.configure(policy_from(settings))
    meeting_facts.ensure_current(engine)
    if socket_mode:
        return _run_socket_mode(args, settings, app, deps, engine)
    scheduler = _start_scheduler(args, deps, app)

    def shutdown(*_):
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, shutdown)
    from bot.server import WebApp, serve

    port = args.port or settings.port
    with contextlib.suppress(KeyboardInterrupt):
        serve(WebApp(app, engine, answering=deps.answering), host=args.host, port=port)
    return 0


def _start_scheduler(args: argparse.Namespace, deps, app):
    if args.no_scheduler:  # forms answered before a crash are saved at start all the same (the outbox waits for one)
        from handlers.journal import process_pending

        threading.Thread(target=process_pending, args=(deps, app.client), name="journal", daemon=True).start()
        return None
    from bot.scheduler import start_scheduler

    return start_scheduler(deps, app.client)  # its first run, at once, also saves what the journal holds


def _run_socket_mode(args: argparse.Namespace, settings: Settings, app, deps, engine) -> int:
    """Connect (a refused app-level token is a SettingsError: one line, exit code 2), then run until SIGTERM."""
    from bot.app import LISTENERS
    from bot.server import HealthApp, serve_health, settle_memory
    from bot.socket_mode import AppTokenRefused, SocketHandler

    # As many envelopes handled at once as the app's listener pool has threads (slack_sdk's default is 10).
    handler = SocketHandler(app, settings.app_token, concurrency=LISTENERS, answering=deps.answering)
    stop = threading.Event()

    def shutdown(*_):
        stop.set()
        handler.client.interrupt()

    signal.signal(signal.SIGTERM, shutdown)
    health = None
    if args.health_port is not None:
        health = serve_health(HealthApp(engine, handler.client.is_connected), host=args.host, port=args.health_port)
    # Scheduled messages go by the Web API: they do not wait for the socket (nor stop while it reconnects).
    scheduler = _start_scheduler(args, deps, app)
    log.info("connecting to Slack in Socket Mode")
    try:
        handler.connect()
    except AppTokenRefused as refused:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        handler.close()
        raise SettingsError(f"Slack refused SLACK_APP_TOKEN ({refused}): it must be {WHERE_TO_GET_APP_TOKEN}.")\
            from None
    except KeyboardInterrupt:
        stop.set()
    settle_memory()
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    handler.close()
    if health is not None:
        health.stop()
    log.info("stopped")
    return 0


def main(argv: list[str] | None = None) -> int:
    configure_logging()
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command == "run":
            return run(args, settings)
        if args.command == "db":
            from models.db import current_revision, make_engine, upgrade

            engine = make_engine(settings.database_url)
            if args.task == "upgrade":
                from handlers.reminders import policy_from
                from models import meeting_facts, reminders

                upgrade(engine)
                reminders.configure(policy_from(settings))  # the timezone the oversight facts count days in
                if meeting_facts.ensure_current(engine):
                    print("oversight facts: worked out again for the new rules or timezone")
            print(f"database schema: {current_revision(engine)}")
            return 0
        from bot import tools

        return tools.run(args, settings)
    except SettingsError as error:
        print(str(error), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
