"""Decoding a Web API call's arguments (query, form, JSON, multipart) and the HTTP server that receives them."""

from __future__ import annotations

import contextlib
import json
import re
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from bot.standin.server import SlackStandIn

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
