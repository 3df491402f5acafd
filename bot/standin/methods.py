"""The Web API methods the stand-in answers (chat, conversations, pins, views, users, files)."""

from __future__ import annotations

import base64
import re
import secrets
import time
from typing import Any

from bot.standin.blocks import MAX_TEXT, _invalid_arguments, _invalid_blocks, block_errors, blocks_too_long, view_errors
from bot.standin.records import Channel, SlackError
from bot.standin.requests import _CHANNEL_NAME, _TRIGGER_FORMAT, _split


class WebApiMethods:
    """The Web API methods the stand-in answers, each as Slack does (mixed into SlackStandIn, whose state they
    use: channels, users, messages, files, faults)."""

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
