"""The stand-in's records: the calls it received, its channels, uploaded files, and the errors it answers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

# --------------------------------------------------------------------------------------
# Records
# --------------------------------------------------------------------------------------


@dataclass
class Call:
    """One request the stand-in received, with what it answered."""

    method: str  # "chat.postMessage", "response_url", "upload", ...
    args: dict[str, Any]  # JSON-ish values decoded (blocks/view/files/metadata as lists/dicts)
    token: str | None
    at: float  # time.monotonic() when the request arrived
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)
    url: str | None = None  # the full URL, for response_url and upload calls


@dataclass
class Channel:
    """A conversation: public/private channel or a 1:1 IM (``is_im``)."""

    id: str
    name: str
    is_private: bool = False
    members: set[str] = field(default_factory=set)  # user ids; each user knows their team
    archived: bool = False
    pins: list[str] = field(default_factory=list)  # message ts values
    messages: list[dict] = field(default_factory=list)  # oldest first, thread replies included
    shared_invites: list[dict] = field(default_factory=list)
    ephemeral: list[dict] = field(default_factory=list)
    creator: str = "U0BOT"
    created: int = field(default_factory=lambda: int(time.time()))
    is_im: bool = False
    im_user: str | None = None
    connected_teams: set[str] = field(default_factory=set)  # other organisations (Slack Connect)


class UploadedFile(NamedTuple):
    """Bytes received on an upload URL; ``title`` is set by files.completeUploadExternal."""

    filename: str
    content: bytes
    title: str | None


class SlackError(Exception):
    """Raised inside a method handler; becomes ``{"ok": false, "error": ..., **extra}``."""

    def __init__(self, error: str, **extra: Any):
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class _Fault:
    status: int
    error: str
    retry_after: int
    remaining: int
    where: Callable[[dict], bool] | None = None
