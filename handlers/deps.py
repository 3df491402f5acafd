"""What every listener needs besides Bolt's own arguments: settings, the database and the clock."""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from models.db import read_scope, session_scope
from models.types import utcnow

log = logging.getLogger(__name__)


def _logged(fn: Callable[..., object], args: tuple, kwargs: dict) -> None:
    try:
        fn(*args, **kwargs)
    except Exception as error:  # nobody waits for this work: say what failed where (never the message)
        stack = "".join(traceback.format_tb(error.__traceback__))
        log.error("work after the answer failed: %s in %s\n%s", type(error).__name__,
                  getattr(fn, "__name__", "?"), stack)


class Answering:
    """Counts the Slack requests still waiting for their answer (HTTP mode: bot/server.py), so that work after an
    answer can let them go first. Python runs one thread at a time: a save or a post running while twenty forms
    wait to be answered makes every one of them later, and Slack allows three seconds for an answer, while a post
    can wait a moment. Requests come in bursts (everyone sends their update before the meeting, everyone scores
    at once), so the work waits until answers have stopped for a short while, not only for the one in hand."""

    QUIET = 0.05  # seconds without a request waiting before work after an answer starts

    def __init__(self) -> None:
        self._waiting = 0
        self._last_answer = 0.0
        self._arrivals: deque[float] = deque(maxlen=2)  # when the last two requests came
        self._changed = threading.Condition()

    def __enter__(self) -> Answering:
        with self._changed:
            self._waiting += 1
            self._arrivals.append(time.monotonic())
        return self

    def came_alone(self) -> bool:
        """True when no other request came within QUIET seconds of the latest one and none but it is waiting:
        a request that is not part of a burst (its own may be on its way out still)."""
        with self._changed:
            return self._waiting <= 1 and (len(self._arrivals) < 2 or
                                           self._arrivals[1] - self._arrivals[0] >= self.QUIET)

    def __exit__(self, *_exc: object) -> None:
        with self._changed:
            self._waiting -= 1
            self._last_answer = time.monotonic()
            if not self._waiting:  # work waits for none to be waiting; waking it for less only costs a switch
                self._changed.notify_all()

    def wait_until_answered(self, most: float) -> None:
        """Return once no request has been waiting for its answer for QUIET seconds, or after `most` seconds
        whatever happens (a steady stream of requests never holds the work back for longer)."""
        deadline = time.monotonic() + most
        with self._changed:
            while (left := deadline - time.monotonic()) > 0:
                if self._waiting:
                    self._changed.wait(left)
                    continue
                quiet_for = time.monotonic() - self._last_answer
                if quiet_for >= self.QUIET:
                    return
                self._changed.wait(min(left, self.QUIET - quiet_for))


# Work after an answer waits at most this long for the requests being answered (a steady stream never stops it).
ANSWERS_FIRST_FOR = 2.0
# ... and work someone is watching for, such as opening a form, at most this long: Slack's trigger for opening a
# form lasts three seconds from the click or command.
WATCHED_WORK_WAITS = 0.5


def _after_answers(answering: Answering, fn: Callable[..., object], args: tuple, kwargs: dict) -> None:
    answering.wait_until_answered(ANSWERS_FIRST_FOR)
    _logged(fn, args, kwargs)


if TYPE_CHECKING:  # the settings object is built by bot/; handlers only read it
    from bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = utcnow
    commands: object = field(default=None)  # handlers.commands.CommandRouter, set by register()
    after_ack: Executor | None = None  # set by bot.app.create_app: where work that follows an answer runs
    answering: Answering = field(default_factory=Answering)  # requests not yet answered (counted by bot.server)
    instance: str | None = None  # the name of this process's outbox claims in the ledger (handlers.outbox)

    def later(self, fn: Callable[..., object], /, *args: object, **kwargs: object) -> None:
        """Do `fn` after Slack has had its answer, on the app's small pool for such work (posting, redrawing),
        so that other people's requests are not answered late behind it: it starts once no request is waiting
        for its answer (or after ANSWERS_FIRST_FOR seconds). A failure is logged, ids only."""
        if self.after_ack is None:
            fn(*args, **kwargs)
            return
        self.after_ack.submit(_after_answers, self.answering, fn, args, kwargs)

    def answers_first(self) -> None:
        """Let the requests still waiting for their answers go first (HTTP mode counts them): twenty people who
        sent the same command at once are all answered, and then their forms open. Python runs one thread at a
        time, so each form built while others wait makes every answer later, and Slack allows three seconds for
        an answer, which, missed, shows the person an error. Waits for a quiet moment (Answering.QUIET, 50 ms),
        at most WATCHED_WORK_WAITS; a request that came alone does not wait."""
        if not self.answering.came_alone():
            self.answering.wait_until_answered(WATCHED_WORK_WAITS)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)

    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.now().astimezone(self.tz).date()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with session_scope(self.engine) as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for look-ups only (models.db.read_scope): it never waits for another request's writes."""
        with read_scope(self.engine) as session:
            yield session
