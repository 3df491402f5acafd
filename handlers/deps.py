"""What every listener needs besides Bolt's own arguments: settings, the database and the clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from models.db import session_scope
from models.types import utcnow

if TYPE_CHECKING:  # the settings object is built by bot/; handlers only read it
    from bot.settings import Settings


@dataclass
class Deps:
    settings: Settings
    engine: Engine
    clock: Callable[[], datetime] = utcnow
    commands: object = field(default=None)  # handlers.commands.CommandRouter, set by register()

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
