"""What every listener needs besides Bolt's own arguments: settings, the database and the clock."""

from __future__ import annotations

import logging
import traceback
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


if TYPE_CHECKING:  # the settings object is built by bot/; handlers only read it
    from bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = utcnow
    commands: object = field(default=None)  # handlers.commands.CommandRouter, set by register()
    after_ack: Executor | None = None  # set by bot.app.create_app: where work that follows an answer runs

    def later(self, fn: Callable[..., object], /, *args: object, **kwargs: object) -> None:
        """Do `fn` after Slack has had its answer, on the app's small pool for such work (posting, redrawing),
        so that other people's requests are not answered late behind it. A failure is logged, ids only."""
        if self.after_ack is None:
            fn(*args, **kwargs)
            return
        self.after_ack.submit(_logged, fn, args, kwargs)

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
