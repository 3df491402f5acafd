"""The stand-in itself: a fake Slack workspace with a Web API on localhost (see the package's docstring)."""

from __future__ import annotations

import itertools
import json
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from bot.standin.methods import WebApiMethods
from bot.standin.records import Call, Channel, SlackError, UploadedFile, _Fault
from bot.standin.requests import _decode_args, _Handler, _multipart, _Server, _truthy

# --------------------------------------------------------------------------------------
# The stand-in
# --------------------------------------------------------------------------------------


class SlackStandIn(WebApiMethods):
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
