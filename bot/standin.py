"""A local stand-in for the Slack Web API, for tests and for `coregroup demo` (Slack without a workspace).

A real HTTP server on 127.0.0.1 (ephemeral port) that the app reaches through
``SLACK_API_URL`` (``WebClient(base_url=standin.url)``). It records every call and
answers the way Slack does, errors included: HTTP 200 with ``ok: false`` for API
errors, HTTP 429 + ``Retry-After`` for rate limits, and Block Kit validation that
mirrors Slack's ``invalid_blocks`` / ``invalid_arguments`` answers.

Paths served:
    /api/<method>           Web API methods (GET query and/or POST form or JSON body)
    /actions/<...>          response URLs handed out by ``response_url()``
    /upload/v1/<file_id>    upload URLs handed out by ``files.getUploadURLExternal``

Simplifications (documented so tests do not rely on more than there is):
    * The bot must be a member of a channel to post, archive, read history or pin.
    * Users of another team (Slack Connect) are invisible to ``users.info`` and
      ``conversations.open`` -> ``user_not_found`` unless added with ``visible=True``
      or once they share a channel with the bot (e.g. after ``accept_shared_invite``).
      ``users.lookupByEmail`` only ever finds users of ``TEAM``.
    * DMs are 1:1 only; multi-person DMs are not modelled.
    * A call delayed by ``delay_next`` is still carried out after the delay, even if
      the client has given up, as Slack would.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement
from slack_sdk.models.views import View

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


# --------------------------------------------------------------------------------------
# Block Kit validation (module level so other tests can reuse it)
# --------------------------------------------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
# Slack also refuses a message whose blocks are too large in total, however few they are, with
# ``msg_blocks_too_long`` (listed among chat.postMessage's errors, with no figure). Reports put the limit
# near 13,000 characters (github.com/slackapi/bolt-js/issues/2509); the stand-in refuses blocks whose JSON
# is over 13,000 characters, on the strict side of what Slack has been seen to accept.
MAX_MESSAGE_BLOCKS_CHARS = 13_000


def blocks_too_long(blocks: list) -> bool:
    """True when Slack would refuse these (otherwise valid) blocks as ``msg_blocks_too_long``."""
    return len(json.dumps(blocks, ensure_ascii=False)) > MAX_MESSAGE_BLOCKS_CHARS


def _subclass_types(cls: type) -> set[str]:
    found: set[str] = set()
    for sub in cls.__subclasses__():
        if isinstance(getattr(sub, "type", None), str):
            found.add(sub.type)
        found |= _subclass_types(sub)
    return found


BLOCK_TYPES = _subclass_types(Block)
ELEMENT_TYPES = _subclass_types(BlockElement) | {"plain_text", "mrkdwn"}
# Blocks whose slack_sdk attribute list is complete enough to reject unknown keys, as Slack does.
_STRICT_KEYS = {"section", "header", "divider", "actions", "context", "input"}


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _too_long(value: str, limit: int, pointer: str) -> list[str]:
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _elements(block: dict, here: str) -> list[tuple[str, Any]]:
    """The (pointer, element) pairs a block holds."""
    found: list[tuple[str, Any]] = []
    if "accessory" in block:
        found.append((f"{here}/accessory", block["accessory"]))
    if block["type"] == "input" and "element" in block:
        found.append((f"{here}/element", block["element"]))
    if block["type"] in ("actions", "context") and isinstance(block.get("elements"), list):
        found += [(f"{here}/elements/{j}", el) for j, el in enumerate(block["elements"])]
    return found


def _own_block_errors(block: Any, here: str) -> list[str]:
    """Rules Slack enforces that we check directly, with Slack-style messages."""
    if not isinstance(block, dict) or "type" not in block:
        return [f"missing required field: type [json-pointer:{here}]"]
    btype = block["type"]
    if btype not in BLOCK_TYPES:
        return [f"unsupported type: {btype} [json-pointer:{here}]"]
    errors: list[str] = []
    if block.get("block_id") is not None:
        errors += _too_long(str(block["block_id"]), 255, f"{here}/block_id")
    if btype == "section":
        errors += _too_long(_text_of(block.get("text")), 3000, f"{here}/text/text")
    if btype == "header":
        errors += _too_long(_text_of(block.get("text")), 150, f"{here}/text/text")
    action_ids: set[str] = set()
    for pointer, element in _elements(block, here):
        if not isinstance(element, dict) or element.get("type") not in ELEMENT_TYPES:
            errors.append(f"unsupported element type [json-pointer:{pointer}]")
            continue
        action_id = element.get("action_id")
        if action_id is not None:
            if action_id in action_ids:
                errors.append(f"duplicate action_id: {action_id} [json-pointer:{pointer}/action_id]")
            action_ids.add(action_id)
        if element["type"] == "button" and element.get("value") is not None:
            errors += _too_long(str(element["value"]), 2000, f"{pointer}/value")
    return errors


def _sdk_block_errors(block: dict, here: str) -> list[str]:
    """Whatever slack_sdk's own model validators reject (deep, via to_dict)."""
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [f"unsupported type: {block.get('type')} [json-pointer:{here}]"]
        if block["type"] in _STRICT_KEYS:
            extra = sorted(set(block) - set(parsed.attributes))
            if extra:
                return [f"invalid additional property: {name} [json-pointer:{here}]" for name in extra]
        parsed.validate_json()
        parsed.to_dict()
    except SlackObjectFormationError as exc:
        return [f"{exc} [json-pointer:{here}]"]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return [f"invalid block: {exc} [json-pointer:{here}]"]
    return []


def block_errors(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks") -> list[str]:
    """Slack-style error strings for a list of blocks; empty when valid."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        errors += _own_block_errors(block, here) or _sdk_block_errors(block, here)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{here}/block_id]")
            block_ids.add(block_id)
    return errors


def view_errors(view: Any) -> list[str]:
    """Slack-style error strings for a modal or home tab view; empty when valid."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        errors.append("must be one of: modal, home [json-pointer:/view/type]")
    if vtype == "modal" and not view.get("title"):
        errors.append("missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        if view.get(key) is not None:
            errors += _too_long(_text_of(view[key]), 24, f"/view/{key}/text")
    if vtype == "home" and (view.get("submit") or view.get("close")):
        errors.append("home tabs cannot have submit or close [json-pointer:/view]")
    errors += _too_long(str(view.get("private_metadata") or ""), 3000, "/view/private_metadata")
    errors += _too_long(str(view.get("callback_id") or ""), 255, "/view/callback_id")
    errors += _too_long(str(view.get("external_id") or ""), 255, "/view/external_id")
    if "blocks" not in view:
        errors.append("missing required field: blocks [json-pointer:/view]")
    else:
        errors += block_errors(view["blocks"], max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"] or [])
        if vtype == "modal" and has_input and not view.get("submit"):
            errors.append("submit is required when an input block is present [json-pointer:/view/submit]")
    if not errors:
        try:
            View(**view).validate_json()
        except SlackObjectFormationError as exc:
            errors.append(f"{exc} [json-pointer:/view]")
        except (TypeError, ValueError) as exc:
            errors.append(f"invalid view: {exc} [json-pointer:/view]")
    return errors


def _invalid_blocks(errors: list[str]) -> SlackError:
    return SlackError("invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


def _invalid_arguments(errors: list[str]) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


# --------------------------------------------------------------------------------------
# Argument decoding
# --------------------------------------------------------------------------------------

_JSON_ARGS = {"blocks", "attachments", "view", "metadata", "files", "user_auth_blocks"}
_BOOL_ARGS = {
    "is_private", "unfurl_links", "unfurl_media", "reply_broadcast", "include_all_metadata",
    "external_limited", "return_im", "force", "mrkdwn", "as_user", "include_num_members",
    "inclusive", "include_locale", "prevent_creation",
}  # fmt: skip
_CHANNEL_NAME = re.compile(r"^[a-z0-9_-]+$")
_TRIGGER_FORMAT = re.compile(r"^\d+\.\d+\.[0-9a-f]+$")


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return bool(value)


def _split(value: Any) -> list[str]:
    """A comma list (form) or a list (JSON) as a list of non-empty strings."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(v).strip() for v in items if str(v).strip()]


def _multipart(ctype: str, body: bytes) -> list[tuple[str, str | None, bytes]]:
    """(field name, filename, raw bytes) for each part of a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + body)
    return [(part.get_param("name", header="content-disposition") or "", part.get_filename(),
             part.get_payload(decode=True) or b"") for part in message.iter_parts()]  # fmt: skip


def _decode_args(headers: Any, query: str, body: bytes) -> dict[str, Any]:
    """Merge query string and body (JSON, form or multipart) into one dict."""
    args: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    ctype = headers.get("Content-Type") or ""
    if body:
        if ctype.lower().startswith("application/json"):
            with contextlib.suppress(ValueError):
                decoded = json.loads(body)
                if isinstance(decoded, dict):
                    args.update(decoded)
        elif ctype.lower().startswith("multipart/form-data"):
            for name, filename, data in _multipart(ctype, body):
                args[name] = data if filename else data.decode("utf-8", "replace")
        else:
            args.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    for key in _JSON_ARGS & set(args):
        if isinstance(args[key], str):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    for key in _BOOL_ARGS & set(args):
        args[key] = _truthy(args[key])
    return args


# --------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, standin: SlackStandIn):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients that time out close their sockets under us."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """No access log in test output."""

    def do_GET(self) -> None:
        self.server.standin._serve(self)

    do_POST = do_GET

    def reply(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        with contextlib.suppress(OSError):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)


# --------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------


class SlackStandIn:
    """A fake Slack workspace with a Web API on localhost. See the module docstring."""

    TEAM = "T0COUNCIL"  # the council's workspace (where the app is installed)
    OTHER_TEAM = "T0NHSTRUST"  # a second organisation (Slack Connect)
    BOT_USER = "U0BOT"
    BOT_ID = "B0BOT"
    APP_ID = "A0COREGROUP"
    BOT_TOKEN = "xoxb-test-token"  # noqa: S105  (accepted by this stand-in only)
    TRIGGER_TTL = 3.0  # seconds a trigger_id stays valid
    TRIGGER_REUSE_ERROR = "exchanged_trigger_id"  # what Slack documents for a trigger used twice

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._in_flight: Counter = Counter()  # requests being answered now, by method (delayed ones included)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._ids = itertools.count(1)
        self._ts = 0
        self.url = ""
        self.base = ""
        self.tokens: set[str] = {self.BOT_TOKEN}
        self.calls: list[Call] = []
        self.users: dict[str, dict] = {}
        self._visible: set[str] = set()
        self._clear_world()
        self._clear_faults()
        self.add_user(self.BOT_USER, name="CoreGroup", is_bot=True)
        self._methods: dict[str, Callable[[dict], dict]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "chat.getPermalink": self._chat_get_permalink,
            "conversations.create": self._conversations_create,
            "conversations.invite": self._conversations_invite,
            "conversations.kick": self._conversations_kick,
            "conversations.archive": self._conversations_archive,
            "conversations.info": self._conversations_info,
            "conversations.members": self._conversations_members,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "conversations.replies": self._conversations_replies,
            "conversations.inviteShared": self._conversations_invite_shared,
            "pins.add": self._pins_add,
            "views.open": self._views_open,
            "views.push": self._views_open,  # same rules: a modal and a fresh trigger_id
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "users.lookupByEmail": self._users_lookup_by_email,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
            "apps.connections.open": lambda args: {},  # answered by the Socket Mode stand-in, when attached
        }
        self.socket_mode = None  # a bot.socket_standin.SocketStandIn, which attaches itself

    # ---- lifecycle ------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        """Listen on an ephemeral port in a daemon thread; returns self."""
        self._stopping.clear()
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        self.base = f"http://{host}:{port}"
        self.url = f"{self.base}/api/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="slack-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (cuts pending delays short). Safe to call twice."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self, *, world: bool = False) -> None:
        """Forget calls, faults and delays (users stay). ``world=True`` also empties
        channels, DMs, views, files, invites, triggers and DM refusals."""
        with self._lock:
            self.calls.clear()
            self._clear_faults()
            if world:
                self._clear_world()

    def _clear_faults(self) -> None:
        self._faults: dict[str, list[_Fault]] = {}
        self._delays: dict[str, list[tuple[float, Callable[[dict], bool] | None]]] = {}
        self.held: list[Call] = []  # calls being held by delay_next (for a test to act while one is open)

    def _clear_world(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.views: dict[str, dict] = {}
        self.home_views: dict[str, dict] = {}
        self.invites: dict[str, dict] = {}
        self.uploaded_files: dict[str, UploadedFile] = {}
        self._pending_uploads: dict[str, dict] = {}
        self._ims: dict[str, str] = {}  # user id -> D… id
        self._triggers: dict[str, dict] = {}
        self._response_urls: set[str] = set()
        self._refused: dict[tuple[str, str], str] = {}

    # ---- test-side helpers ----------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        team_id: str = TEAM,
        name: str = "Test User",
        email: str | None = None,
        is_restricted: bool = False,
        is_ultra_restricted: bool = False,
        is_bot: bool = False,
        visible: bool = False,
    ) -> dict:
        """Add (or replace) a user; ``visible`` lets users.info see an OTHER_TEAM user."""
        handle = re.sub(r"[^a-z0-9]+", ".", name.lower()).strip(".") or user_id.lower()
        profile = {"real_name": name, "display_name": name, "real_name_normalized": name,
                   "display_name_normalized": name, "team": team_id}  # fmt: skip
        if email:
            profile["email"] = email
        if is_bot:
            profile["bot_id"] = self.BOT_ID if user_id == self.BOT_USER else f"B{user_id[1:]}"
        user = {
            "id": user_id, "team_id": team_id, "name": handle, "real_name": name, "deleted": False,
            "is_bot": is_bot, "is_app_user": False, "is_admin": False, "is_owner": False,
            "is_restricted": is_restricted, "is_ultra_restricted": is_ultra_restricted,
            "tz": "Europe/London", "tz_label": "Greenwich Mean Time", "tz_offset": 0,
            "profile": profile, "updated": int(time.time()),
        }  # fmt: skip
        with self._lock:
            self.users[user_id] = user
            (self._visible.add if visible else self._visible.discard)(user_id)
        return user

    def add_channel(self, name: str, *, is_private: bool = False, members: Iterable[str] = ()) -> Channel:
        """Create a channel directly (no call recorded); the bot is a member."""
        with self._lock:
            channel = Channel(id=self._new_id("C"), name=name, is_private=is_private)
            channel.members = {self.BOT_USER, *members}
            self.channels[channel.id] = channel
            return channel

    def add_message(self, channel_id: str, user_id: str, text: str, *, thread_ts: str | None = None) -> dict:
        """Put a message from a person into a channel (as if they had typed it)."""
        with self._lock:
            return self._store_message(self._lookup(channel_id), {"user": user_id, "text": text}, thread_ts)

    def trigger_id(self) -> str:
        """A fresh trigger id: valid for TRIGGER_TTL seconds, single use."""
        with self._lock:
            trigger = f"{int(time.time())}.{next(self._ids)}.{secrets.token_hex(16)}"
            self._triggers[trigger] = {"issued": time.monotonic(), "used": False}
            return trigger

    def expire_trigger(self, trigger_id: str) -> None:
        """Make a trigger id stale, as if more than TRIGGER_TTL seconds had passed."""
        with self._lock:
            self._triggers.setdefault(trigger_id, {"used": False})["issued"] = float("-inf")

    def response_url(self) -> str:
        """A fresh response URL on this server; POSTs are recorded as method "response_url"."""
        with self._lock:
            url = f"{self.base}/actions/{self.TEAM}/{next(self._ids)}/{secrets.token_hex(12)}"
            self._response_urls.add(urlsplit(url).path)
            return url

    def fail_next(
        self, method: str, *, error: str = "ratelimited", status: int = 429, retry_after: int = 1, times: int = 1,
        where: Callable[[dict], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (those whose arguments match ``where``, if given) fail: 429
        (+ Retry-After), 5xx (error defaults to "internal_error"), or 200 with ok:false and ``error``.
        ``method`` may also be "response_url" or "upload" (the upload URL step)."""
        if status >= 500 and error == "ratelimited":
            error = "internal_error"
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(status, error, retry_after, times, where))

    def delay_next(self, method: str, seconds: float, times: int = 1,
                   where: Callable[[dict], bool] | None = None) -> None:
        """Answer the next ``times`` calls of ``method`` (those whose arguments match ``where``, if given) only
        after ``seconds``; each is in ``held`` (``wait_held``) while it waits."""
        with self._lock:
            self._delays.setdefault(method, []).extend([(seconds, where)] * times)

    def wait_held(self, method: str, timeout: float = 30.0) -> Call:
        """Block until a call of ``method`` is being held by delay_next; AssertionError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.held if c.method == method]
                left = deadline - time.monotonic()
                if found or left <= 0:
                    break
                self._changed.wait(left)
        if not found:
            raise AssertionError(f"no call to {method} was held within {timeout}s")
        return found[0]

    def refuse_dm(self, team_id: str, user_id: str, error: str = "invalid_user_combination") -> None:
        """DMs to this user (conversations.open, chat.postMessage to their U… or D… id)
        fail with ok:false and ``error``."""
        with self._lock:
            self._refused[(team_id, user_id)] = error

    def accept_shared_invite(self, invite_id: str, user_id: str, team_id: str = OTHER_TEAM) -> dict:
        """Simulate the invitee accepting a Slack Connect invite: they join the channel."""
        with self._lock:
            invite = self.invites[invite_id]
            if user_id not in self.users:
                emails = invite["emails"]
                self.add_user(user_id, team_id=team_id, name="External User", email=emails[0] if emails else None)
            channel = self.channels[invite["channel"]]
            channel.members.add(user_id)
            if self.users[user_id]["team_id"] != self.TEAM:
                channel.connected_teams.add(self.users[user_id]["team_id"])
            invite.update(accepted=True, accepted_by=user_id)
            return self.users[user_id]

    def calls_to(self, method: str) -> list[Call]:
        """Calls of one method, in arrival order."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(
        self, method: str, count: int = 1, timeout: float = 5.0, where: Callable[[Call], bool] | None = None
    ) -> list[Call]:
        """Block until at least ``count`` matching calls arrived; AssertionError otherwise."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [c for c in self.calls if c.method == method and (where is None or where(c))]
                left = deadline - time.monotonic()
                if len(found) >= count or left <= 0:
                    break
                self._changed.wait(left)
            if len(found) >= count:
                return found
            seen = Counter(c.method for c in self.calls)
            raise AssertionError(
                f"expected {count} call(s) to {method}{' matching the predicate' if where else ''} "
                f"within {timeout}s, got {len(found)}; calls seen: {dict(seen) or 'none'}"
            )

    def messages(self, channel_id: str) -> list[dict]:
        """Messages posted to a channel (C…/G…/D… or a user id for their DM), oldest first,
        thread replies included."""
        with self._lock:
            if channel_id[:1] in "UW" and channel_id in self._ims:
                channel_id = self._ims[channel_id]
            channel = self.channels.get(channel_id)
            return [dict(m) for m in channel.messages] if channel else []

    # ---- request handling -----------------------------------------------------------

    def _serve(self, req: _Handler) -> None:
        path = urlsplit(req.path).path
        method = path[len("/api/"):] if path.startswith("/api/") else "response_url" \
            if path in self._response_urls else "upload"
        with self._changed:
            self._in_flight[method] += 1
            self._changed.notify_all()
        try:
            self._serve_one(req)
        finally:
            with self._changed:
                self._in_flight[method] -= 1
                self._changed.notify_all()

    def in_flight(self, method: str | None = None) -> int:
        """Requests (of one method) the stand-in is answering now: a delayed call is in flight until it lands."""
        with self._lock:
            return self._in_flight[method] if method else sum(self._in_flight.values())

    def wait_in_flight(self, method: str, timeout: float = 10.0) -> None:
        """Block until a call of ``method`` is being answered (say, held by ``delay_next``)."""
        self._wait_until(lambda: self._in_flight[method] > 0, timeout, f"a call to {method} in flight")

    def wait_settled(self, timeout: float = 10.0) -> None:
        """Block until no request is being answered: every call that arrived, a delayed one too, has landed."""
        self._wait_until(lambda: not any(self._in_flight.values()), timeout, "no call in flight")

    def _wait_until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not condition():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {what} within {timeout}s; in flight: {dict(self._in_flight)}")
                self._changed.wait(left)

    def _serve_one(self, req: _Handler) -> None:
        arrived = time.monotonic()
        parts = urlsplit(req.path)
        length = int(req.headers.get("Content-Length") or 0)
        body = req.rfile.read(length) if length else b""
        if parts.path.startswith("/api/"):
            self._serve_api(req, parts.path[len("/api/") :], parts.query, body, arrived)
        elif parts.path in self._response_urls:
            self._serve_response_url(req, parts.path, body, arrived)
        elif parts.path.startswith("/upload/v1/"):
            self._serve_upload(req, parts.path.rsplit("/", 1)[-1], body, arrived)
        else:
            req.reply(404, b"no_service", "text/plain")

    def _serve_api(self, req: _Handler, method: str, query: str, body: bytes, arrived: float) -> None:
        args = _decode_args(req.headers, query, body)
        auth = req.headers.get("Authorization") or ""
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else None
        token = token or args.get("token")
        args.pop("token", None)
        self._wait_if_delayed(method, args, arrived)
        with self._lock:
            fault = self._fault_response(method, args)
            status, payload, headers = fault or (200, self._dispatch(method, args, token), {})
            self._record(Call(method, args, token, arrived, status, payload))
        req.reply(status, json.dumps(payload).encode(), "application/json; charset=utf-8", headers)

    def _dispatch(self, method: str, args: dict, token: str | None) -> dict:
        handler = self._methods.get(method)
        if handler is None:
            return {"ok": False, "error": "unknown_method", "req_method": method}
        if not token:
            return {"ok": False, "error": "not_authed"}
        if method == "apps.connections.open":  # the app-level token's one method, Socket Mode's (socket_standin.py)
            if self.socket_mode is None:
                return {"ok": False, "error": "invalid_auth"}
            try:
                return {"ok": True, **self.socket_mode.open_connection(token)}
            except SlackError as exc:
                return {"ok": False, "error": exc.error}
        if token not in self.tokens:
            return {"ok": False, "error": "invalid_auth"}
        try:
            return {"ok": True, **handler(args)}
        except SlackError as exc:
            return {"ok": False, "error": exc.error, **exc.extra}

    def _serve_response_url(self, req: _Handler, path: str, body: bytes, arrived: float) -> None:
        """Slack answers response URLs in plain text: 200 "ok", or 400 with the error."""
        args = _decode_args(req.headers, "", body)
        self._wait_if_delayed("response_url")
        with self._lock:
            fault = self._fault_response("response_url")
            if fault:
                status, payload, headers = fault
            else:
                headers = {}
                try:
                    if not _truthy(args.get("delete_original")):
                        self._check_message(args)
                    status, payload = 200, {"ok": True}
                except SlackError as exc:
                    status, payload = 400, {"ok": False, "error": exc.error, **exc.extra}
            self._record(Call("response_url", args, None, arrived, status, payload, url=self.base + path))
        text = "ok" if payload.get("ok") else str(payload.get("error"))
        req.reply(status, text.encode(), "text/plain; charset=utf-8", headers)

    def _serve_upload(self, req: _Handler, file_id: str, body: bytes, arrived: float) -> None:
        """The upload URL step of files.upload_v2: store the bytes."""
        self._wait_if_delayed("upload")
        with self._lock:
            fault = self._fault_response("upload")
            pending = self._pending_uploads.get(file_id)
            if fault:
                status, payload, headers = fault
            elif pending is None:
                status, payload, headers = 404, {"ok": False, "error": "file_not_found"}, {}
            else:
                content, ctype = body, req.headers.get("Content-Type") or ""
                if ctype.lower().startswith("multipart/form-data"):
                    content = next((data for _, filename, data in _multipart(ctype, body) if filename), body)
                self.uploaded_files[file_id] = UploadedFile(pending["filename"], content, None)
                status, payload, headers = 200, {"ok": True}, {}
            url = f"{self.base}/upload/v1/{file_id}"
            self._record(Call("upload", {"file_id": file_id, "length": len(body)}, None, arrived,
                              status, payload, url=url))  # fmt: skip
        text = f"OK - {len(body)}" if payload.get("ok") else str(payload.get("error"))
        req.reply(status, text.encode(), "text/plain; charset=utf-8", headers)

    def _wait_if_delayed(self, method: str, args: dict | None = None, arrived: float = 0.0) -> None:
        with self._changed:
            queue = self._delays.get(method) or []
            index = next((i for i, (_, where) in enumerate(queue) if where is None or where(args or {})), None)
            seconds = queue.pop(index)[0] if index is not None else 0.0
            if seconds:
                self.held.append(Call(method, dict(args or {}), None, arrived, 0, {}))
                self._changed.notify_all()
        if seconds:
            self._stopping.wait(seconds)

    def _fault_response(self, method: str, args: dict | None = None) -> tuple[int, dict, dict] | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        index = next((i for i, fault in enumerate(queue) if fault.where is None or fault.where(args or {})), None)
        if index is None:
            return None
        fault = queue[index]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(index)
        headers = {"Retry-After": str(fault.retry_after)} if fault.status == 429 else {}
        return fault.status, {"ok": False, "error": fault.error}, headers

    def _record(self, call: Call) -> None:
        self.calls.append(call)
        self._changed.notify_all()

    # ---- shared pieces --------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}0{next(self._ids):08X}"

    def _next_ts(self) -> str:
        self._ts += 100
        seconds, micros = divmod(self._ts, 1_000_000)
        return f"{1_700_000_000 + seconds}.{micros:06d}"

    def _lookup(self, channel_id: str | None) -> Channel:
        channel = self.channels.get(channel_id or "")
        if channel is None:
            raise SlackError("channel_not_found")
        return channel

    def _member_channel(self, channel_id: str | None) -> Channel:
        channel = self._lookup(channel_id)
        if self.BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        return channel

    def _is_visible(self, user_id: str) -> bool:
        user = self.users.get(user_id)
        if user is None:
            return False
        if user["team_id"] == self.TEAM or user_id in self._visible:
            return True
        return any(user_id in c.members and self.BOT_USER in c.members for c in self.channels.values())

    def _open_im(self, user_id: str) -> tuple[Channel, bool]:
        """The IM with a user, created if needed; raises the refusal or user_not_found."""
        if not self._is_visible(user_id):
            raise SlackError("user_not_found")
        refusal = self._refused.get((self.users[user_id]["team_id"], user_id))
        if refusal:
            raise SlackError(refusal)
        if user_id in self._ims:
            return self.channels[self._ims[user_id]], True
        channel = Channel(id=self._new_id("D"), name=user_id, is_im=True, im_user=user_id,
                          members={self.BOT_USER, user_id})  # fmt: skip
        self.channels[channel.id] = channel
        self._ims[user_id] = channel.id
        return channel, False

    def _post_target(self, channel_id: str | None) -> Channel:
        """Resolve chat.postMessage's channel: C…/G… (bot must be in it), D…, or a user id."""
        channel_id = channel_id or ""
        if channel_id[:1] in ("U", "W"):
            if channel_id not in self.users:
                raise SlackError("channel_not_found")
            return self._open_im(channel_id)[0]
        channel = self._lookup(channel_id)
        if channel.is_im:
            user = self.users.get(channel.im_user or "")
            refusal = self._refused.get((user["team_id"], user["id"])) if user else None
            if refusal:
                raise SlackError(refusal)
        elif self.BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        if channel.archived:
            raise SlackError("is_archived")
        return channel

    IMAGE_TYPES = (".png", ".jpg", ".jpeg", ".gif")

    def slack_file_errors(self, blocks: Any, pointer: str = "/blocks") -> list[str]:
        """An image (block, or element in a section or context) showing a Slack file: the file must be given by
        its id or its URL (not both), exist, be wholly uploaded, and be a png, jpg, jpeg or gif image."""
        if not isinstance(blocks, list):
            return []
        found: list[tuple[str, dict]] = []
        for i, block in enumerate(blocks):
            if not isinstance(block, dict):
                continue
            found.append((f"{pointer}/{i}", block))
            found += [(f"{pointer}/{i}/{where}", element) for where, element in
                      [("accessory", block.get("accessory"))]
                      + [(f"elements/{j}", el) for j, el in enumerate(block.get("elements") or [])]]
        errors = []
        for here, item in found:
            if not isinstance(item, dict) or item.get("type") != "image" or "slack_file" not in item:
                continue
            ref = item["slack_file"]
            if not isinstance(ref, dict) or ("id" in ref) == ("url" in ref):
                errors.append(f"must provide exactly one of id or url [json-pointer:{here}/slack_file]")
                continue
            file_id = ref.get("id") or next((fid for fid in self.uploaded_files
                                            if str(ref.get("url", "")).endswith(f"/{fid}")), None)
            upload = self.uploaded_files.get(file_id or "")
            if upload is None or upload.title is None:
                errors.append(f"invalid slack file [json-pointer:{here}/slack_file]")
            elif not upload.filename.lower().endswith(self.IMAGE_TYPES):
                errors.append(f"unsupported file type [json-pointer:{here}/slack_file]")
        return errors

    def _check_message(self, args: dict) -> None:
        """Slack's content rules for a message: blocks, msg_blocks_too_long, no_text, msg_too_long."""
        blocks = args.get("blocks")
        if blocks is not None:
            if not isinstance(blocks, list):
                raise SlackError("invalid_blocks_format")
            errors = block_errors(blocks) or self.slack_file_errors(blocks)
            if errors:
                raise _invalid_blocks(errors)
            if blocks_too_long(blocks):
                raise SlackError("msg_blocks_too_long")
        text = args.get("text") or args.get("markdown_text") or ""
        if not text and not blocks and not args.get("attachments"):
            raise SlackError("no_text")
        if len(str(text)) > MAX_TEXT:
            raise SlackError("msg_too_long")
        metadata = args.get("metadata")
        if metadata is not None and not (isinstance(metadata, dict) and "event_type" in metadata):
            raise SlackError("invalid_metadata_format")

    def _store_message(self, channel: Channel, fields: dict, thread_ts: str | None = None) -> dict:
        message = {"type": "message", "ts": self._next_ts(), "team": self.TEAM, **fields}
        if thread_ts:
            message["thread_ts"] = thread_ts
            parent = self._find_message(channel, thread_ts)
            if parent is not None:
                parent["thread_ts"] = thread_ts
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = message["ts"]
        channel.messages.append(message)
        return message

    @staticmethod
    def _find_message(channel: Channel, ts: str | None) -> dict | None:
        return next((m for m in channel.messages if m["ts"] == ts), None)

    def _channel_object(self, channel: Channel, *, num_members: bool = False) -> dict:
        if channel.is_im:
            return {"id": channel.id, "created": channel.created, "is_im": True, "is_org_shared": False,
                    "user": channel.im_user, "is_user_deleted": False, "priority": 0}  # fmt: skip
        shared = bool(channel.connected_teams)
        pending = [i["invite_id"] for i in channel.shared_invites if not i.get("accepted")]
        obj = {
            "id": channel.id, "name": channel.name, "name_normalized": channel.name,
            "is_channel": not channel.is_private, "is_group": False, "is_im": False, "is_mpim": False,
            "is_private": channel.is_private, "created": channel.created, "creator": channel.creator,
            "is_archived": channel.archived, "is_general": False, "unlinked": 0,
            "is_shared": shared, "is_ext_shared": shared, "is_org_shared": False,
            "is_pending_ext_shared": bool(pending), "pending_shared": [],
            "shared_team_ids": [self.TEAM, *sorted(channel.connected_teams)],
            "context_team_id": self.TEAM, "is_member": self.BOT_USER in channel.members,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0}, "previous_names": [],
        }  # fmt: skip
        if num_members:
            obj["num_members"] = len(channel.members)
        return obj

    # ---- methods: auth, chat ----------------------------------------------------------

    def _auth_test(self, args: dict) -> dict:
        return {"url": "https://council-coregroup.slack.com/", "team": "Council", "user": "coregroup",
                "team_id": self.TEAM, "user_id": self.BOT_USER, "bot_id": self.BOT_ID,
                "app_id": self.APP_ID, "is_enterprise_install": False}  # fmt: skip

    def _message_fields(self, args: dict) -> dict:
        fields = {"user": self.BOT_USER, "bot_id": self.BOT_ID, "app_id": self.APP_ID, "text": args.get("text", "")}
        for key in ("blocks", "attachments", "metadata"):
            if args.get(key) is not None:
                fields[key] = args[key]
        return fields

    def _chat_post_message(self, args: dict) -> dict:
        channel = self._post_target(args.get("channel"))
        self._check_message(args)
        fields = self._message_fields(args)
        if args.get("reply_broadcast"):
            fields["subtype"] = "thread_broadcast"
        message = self._store_message(channel, fields, args.get("thread_ts"))
        return {"channel": channel.id, "ts": message["ts"], "message": dict(message)}

    def _chat_post_ephemeral(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        if channel.archived:
            raise SlackError("is_archived")
        if self.BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        if args.get("user") not in channel.members:
            raise SlackError("user_not_in_channel")
        self._check_message(args)
        ts = self._next_ts()
        channel.ephemeral.append({**self._message_fields(args), "ts": ts, "to": args["user"]})
        return {"message_ts": ts}

    def _chat_update(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        message = self._find_message(channel, args.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != self.BOT_USER:
            raise SlackError("cant_update_message")
        if channel.archived:
            raise SlackError("is_inactive")
        self._check_message(args)
        message.update({k: v for k, v in self._message_fields(args).items() if k in args or k == "text"})
        message["edited"] = {"user": self.BOT_USER, "ts": self._next_ts()}
        return {"channel": channel.id, "ts": message["ts"], "text": message.get("text", ""), "message": dict(message)}

    def _chat_delete(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        message = self._find_message(channel, args.get("ts"))
        if message is None:
            raise SlackError("message_not_found")
        if message.get("user") != self.BOT_USER:
            raise SlackError("cant_delete_message")
        channel.messages.remove(message)
        if message["ts"] in channel.pins:
            channel.pins.remove(message["ts"])
        return {"channel": channel.id, "ts": message["ts"]}

    def _chat_get_permalink(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        ts = args.get("message_ts")
        if self._find_message(channel, ts) is None:
            raise SlackError("message_not_found")
        link = f"https://council-coregroup.slack.com/archives/{channel.id}/p{str(ts).replace('.', '')}"
        return {"channel": channel.id, "permalink": link}

    # ---- methods: conversations -------------------------------------------------------

    def _conversations_create(self, args: dict) -> dict:
        name = str(args.get("name") or "")
        if not name:
            raise SlackError("invalid_name_required")
        if len(name) > 80:
            raise SlackError("invalid_name_maxlength")
        if not _CHANNEL_NAME.match(name):
            raise SlackError("invalid_name_specials")
        if not re.search(r"[a-z0-9]", name):
            raise SlackError("invalid_name_punctuation")
        if any(c.name == name for c in self.channels.values() if not c.is_im):
            raise SlackError("name_taken")
        channel = Channel(id=self._new_id("C"), name=name, is_private=bool(args.get("is_private")),
                          members={self.BOT_USER}, creator=self.BOT_USER)  # fmt: skip
        self.channels[channel.id] = channel
        return {"channel": self._channel_object(channel)}

    def _conversations_invite(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        if channel.archived:
            raise SlackError("is_archived")
        if self.BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        users = _split(args.get("users"))
        if not users:
            raise SlackError("no_user")
        for user_id in users:
            if user_id == self.BOT_USER:
                raise SlackError("cant_invite_self")
            if not self._is_visible(user_id):
                raise SlackError("user_not_found")
            if user_id in channel.members:
                raise SlackError("already_in_channel")
        channel.members.update(users)
        return {"channel": self._channel_object(channel)}

    def _conversations_kick(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        user_id = args.get("user")
        if not user_id:
            raise SlackError("no_user")
        if user_id == self.BOT_USER:
            raise SlackError("cant_kick_self")
        if user_id not in self.users:
            raise SlackError("user_not_found")
        if user_id not in channel.members:
            raise SlackError("not_in_channel")
        channel.members.discard(user_id)
        return {"errors": {}}

    def _conversations_archive(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        if channel.archived:
            raise SlackError("already_archived")
        if self.BOT_USER not in channel.members:
            raise SlackError("not_in_channel")
        channel.archived = True
        return {}

    def _conversations_info(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        return {"channel": self._channel_object(channel, num_members=bool(args.get("include_num_members")))}

    def _conversations_members(self, args: dict) -> dict:
        """As Slack answers: a page of user ids (`limit`, default 100, at most 1000) and an opaque
        `response_metadata.next_cursor` (base64 of "user:<the next id>"), empty on the last page; a private
        channel the app is not in is `channel_not_found`; a cursor Slack did not give is `invalid_cursor`."""
        channel = self._lookup(args.get("channel"))
        if channel.is_private and self.BOT_USER not in channel.members:
            raise SlackError("channel_not_found")
        members = sorted(channel.members)
        start = 0
        if args.get("cursor"):
            try:
                kind, _, after = base64.b64decode(str(args["cursor"]), validate=True).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                raise SlackError("invalid_cursor") from None
            if kind != "user" or not after:
                raise SlackError("invalid_cursor")
            start = next((i for i, user in enumerate(members) if user >= after), len(members))
        limit = min(max(int(args.get("limit") or 100), 1), 1000)
        page = members[start : start + limit]
        more = start + limit < len(members)
        cursor = base64.b64encode(f"user:{members[start + limit]}".encode()).decode() if more else ""
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            channel = self._lookup(args["channel"])
            if not channel.is_im:
                raise SlackError("method_not_supported_for_channel_type")
            return {"channel": {"id": channel.id}}
        users = [u for u in _split(args.get("users")) if u != self.BOT_USER]
        if not users:
            raise SlackError("users_list_not_supplied")
        if len(users) > 1:
            raise SlackError("method_not_supported_for_channel_type")  # no multi-person DMs here
        channel, existed = self._open_im(users[0])
        body = self._channel_object(channel) if args.get("return_im") else {"id": channel.id}
        return {"channel": body, **({"no_op": True, "already_open": True} if existed else {})}

    def _conversations_history(self, args: dict) -> dict:
        channel = self._member_channel(args.get("channel"))
        oldest, latest = float(args.get("oldest") or 0), float(args.get("latest") or "inf")
        top = [m for m in channel.messages
               if m.get("thread_ts", m["ts"]) == m["ts"] or m.get("subtype") == "thread_broadcast"]  # fmt: skip
        top = [m for m in reversed(top) if oldest <= float(m["ts"]) <= latest]
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page = [dict(m) for m in top[start : start + limit]]
        if not args.get("include_all_metadata"):
            for m in page:
                m.pop("metadata", None)
        more = start + limit < len(top)
        return {"messages": page, "has_more": more, "pin_count": len(channel.pins),
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip

    def _conversations_replies(self, args: dict) -> dict:
        """A thread: its parent first, then the replies oldest first (as Slack orders them)."""
        channel = self._member_channel(args.get("channel"))
        ts = args.get("ts")
        if not ts:
            raise _invalid_arguments(["missing required field: ts [json-pointer:/ts]"])
        if self._find_message(channel, ts) is None:
            raise SlackError("thread_not_found")
        thread = [m for m in channel.messages if m["ts"] == ts or m.get("thread_ts") == ts]
        start, limit = int(args.get("cursor") or 0), int(args.get("limit") or 100)
        page = [dict(m) for m in thread[start : start + limit]]
        if not args.get("include_all_metadata"):
            for m in page:
                m.pop("metadata", None)
        more = start + limit < len(thread)
        return {"messages": page, "has_more": more,
                "response_metadata": {"next_cursor": str(start + limit) if more else ""}}  # fmt: skip

    def _conversations_invite_shared(self, args: dict) -> dict:
        channel = self._lookup(args.get("channel"))
        if channel.is_im:
            raise SlackError("invalid_channel_type")
        if channel.archived:
            raise SlackError("channel_archived")
        emails, user_ids = _split(args.get("emails")), _split(args.get("user_ids"))
        if not emails and not user_ids:
            raise SlackError("recipients_not_specified")
        if len(emails) > 1:
            raise SlackError("too_many_emails")
        if len(user_ids) > 1 or (emails and user_ids):
            raise SlackError("invalid_arguments")  # Slack: one email or one user id at a time
        if emails and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", emails[0]):
            raise SlackError("invalid_email")
        for user_id in user_ids:
            if user_id not in self.users:
                raise SlackError("user_not_found")
            if user_id in channel.members:
                raise SlackError("already_in_channel")
        invite = {"invite_id": self._new_id("I"), "channel": channel.id, "emails": emails, "user_ids": user_ids,
                  "external_limited": args.get("external_limited", True), "accepted": False}  # fmt: skip
        self.invites[invite["invite_id"]] = invite
        channel.shared_invites.append(invite)
        return {"invite_id": invite["invite_id"], "is_legacy_shared_channel": False}

    def _pins_add(self, args: dict) -> dict:
        channel = self._member_channel(args.get("channel"))
        ts = args.get("timestamp")
        if not ts:
            raise SlackError("no_item_specified")
        if self._find_message(channel, ts) is None:
            raise SlackError("message_not_found")
        if ts in channel.pins:
            raise SlackError("already_pinned")
        channel.pins.append(ts)
        return {}

    # ---- methods: views -----------------------------------------------------------------

    def _use_trigger(self, trigger_id: str | None) -> None:
        if not trigger_id:
            raise _invalid_arguments(["missing required field: trigger_id [json-pointer:/trigger_id]"])
        if not _TRIGGER_FORMAT.match(trigger_id):
            raise SlackError("invalid_trigger_id")
        trigger = self._triggers.get(trigger_id)
        if trigger is None or time.monotonic() - trigger["issued"] > self.TRIGGER_TTL:
            raise SlackError("expired_trigger_id")
        if trigger["used"]:
            raise SlackError(self.TRIGGER_REUSE_ERROR)
        trigger["used"] = True

    def _check_view(self, view: Any, *, view_type: str | None = None) -> dict:
        errors = view_errors(view) or self.slack_file_errors((view or {}).get("blocks") if isinstance(view, dict)
                                                             else None, "/view/blocks")
        if not errors and view_type and view.get("type") != view_type:
            errors = [f"must be {view_type} [json-pointer:/view/type]"]
        if errors:
            raise _invalid_arguments(errors)
        return view

    def _store_view(self, view: dict, *, view_id: str | None = None, previous: dict | None = None) -> dict:
        external_id = view.get("external_id") or ""
        if external_id and any(v.get("external_id") == external_id and v["id"] != view_id
                               for v in self.views.values()):  # fmt: skip
            raise SlackError("duplicate_external_id")
        view_id = view_id or self._new_id("V")
        stored = {
            "id": view_id, "team_id": self.TEAM, "type": view["type"], "title": view.get("title"),
            "submit": view.get("submit"), "close": view.get("close"), "blocks": view["blocks"],
            "private_metadata": view.get("private_metadata", ""), "callback_id": view.get("callback_id", ""),
            "external_id": external_id, "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close")), "notify_on_close": bool(view.get("notify_on_close")),
            "root_view_id": (previous or {}).get("root_view_id", view_id),
            "previous_view_id": (previous or {}).get("id"), "app_id": self.APP_ID, "bot_id": self.BOT_ID,
        }  # fmt: skip
        self.views[view_id] = stored
        return stored

    def _views_open(self, args: dict) -> dict:
        """views.open and views.push (the push stack limit of 3 is not modelled)."""
        view = self._check_view(args.get("view"), view_type="modal")
        self._use_trigger(args.get("trigger_id"))
        return {"view": dict(self._store_view(view))}

    def _views_update(self, args: dict) -> dict:
        view_id, external_id = args.get("view_id"), args.get("external_id")
        current = (
            self.views.get(view_id or "")
            if view_id
            else next((v for v in self.views.values() if external_id and v.get("external_id") == external_id), None)
        )
        if current is None:
            raise SlackError("not_found")
        if args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        view = self._check_view(args.get("view"))
        keep = {"root_view_id": current["root_view_id"], "id": current["previous_view_id"]}
        return {"view": dict(self._store_view(view, view_id=current["id"], previous=keep))}

    def _views_publish(self, args: dict) -> dict:
        user_id = args.get("user_id")
        if user_id not in self.users:
            raise SlackError("user_not_found")
        view = self._check_view(args.get("view"), view_type="home")
        current = self.home_views.get(user_id)
        if current and args.get("hash") and args["hash"] != current["hash"]:
            raise SlackError("hash_conflict")
        stored = self._store_view(view, view_id=current["id"] if current else None)
        self.home_views[user_id] = stored
        return {"view": dict(stored)}

    # ---- methods: users -----------------------------------------------------------------

    def _users_info(self, args: dict) -> dict:
        user_id = args.get("user") or ""
        if not self._is_visible(user_id):
            raise SlackError("user_not_found")
        return {"user": self.users[user_id]}

    def _users_lookup_by_email(self, args: dict) -> dict:
        email = str(args.get("email") or "").lower()
        for user in self.users.values():
            if user["team_id"] == self.TEAM and user["profile"].get("email", "").lower() == email and email:
                return {"user": user}
        raise SlackError("users_not_found")

    # ---- methods: files -----------------------------------------------------------------

    def _files_get_upload_url(self, args: dict) -> dict:
        filename = args.get("filename")
        if not filename:
            raise _invalid_arguments(["missing required field: filename [json-pointer:/filename]"])
        if int(args.get("length") or 0) <= 0:
            raise SlackError("missing_argument")
        file_id = self._new_id("F")
        self._pending_uploads[file_id] = {"filename": filename, "length": int(args["length"])}
        return {"upload_url": f"{self.base}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict) -> dict:
        files = args.get("files")
        if not isinstance(files, list) or not files:
            raise _invalid_arguments(["must provide at least 1 item [json-pointer:/files]"])
        for item in files:
            if not isinstance(item, dict) or item.get("id") not in self.uploaded_files:
                raise SlackError("file_not_found")
        targets = _split(args.get("channel_id")) + _split(args.get("channels"))
        channels = []
        for channel_id in targets:
            channel = self.channels.get(channel_id)
            if channel is None or channel.archived:
                raise SlackError("invalid_channel")
            if self.BOT_USER not in channel.members:
                raise SlackError("posting_to_channel_denied")
            channels.append(channel)
        done = []
        for item in files:
            upload = self.uploaded_files[item["id"]]
            title = item.get("title") or upload.filename
            self.uploaded_files[item["id"]] = upload._replace(title=title)
            done.append({"id": item["id"], "name": upload.filename, "title": title, "size": len(upload.content),
                         "user": self.BOT_USER, "created": int(time.time())})  # fmt: skip
        for channel in channels:
            fields = {"user": self.BOT_USER, "bot_id": self.BOT_ID, "text": args.get("initial_comment") or "",
                      "files": [dict(f) for f in done], "upload": True}  # fmt: skip
            self._store_message(channel, fields, args.get("thread_ts"))
        return {"files": done}
