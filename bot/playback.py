"""The machinery of `coregroup demo`: a Slack without a workspace, the real app, and people who use it.

`Playback` starts the Slack stand-in (bot/standin/) and the app exactly as `coregroup run --http` does
(the app factory, waitress, signed requests to POST /slack/events), with a clock the story moves. People
act through signed requests (bot/harness.py); scheduled work is sent by the real dispatcher
(handlers/reminders.py) at each moment the ledger says something is due. After each step it prints what
reached Slack as a person would see it (bot/render.py).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TextIO

from sqlalchemy import func, inspect
from sqlmodel import Session, select

from bot import render
from bot.harness import SIGNING_SECRET, Response, RunningApp, SlackUser
from bot.settings import Settings
from bot.slack import make_client
from bot.standin import Call, SlackStandIn
from models.db import make_engine, upgrade
from models.tables import Case, MessageStatus, ScheduledMessage

TEAM = SlackStandIn.TEAM


class DemoError(Exception):
    """The app did not do what the story expected (a bug, or a change the demo has not caught up with)."""


class Clock:
    """The app's clock: set by the story, and a few seconds on for each thing a person does."""

    def __init__(self, start: datetime):
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = max(self.moment, moment)

    def tick(self, seconds: int = 20) -> None:
        self.moment += timedelta(seconds=seconds)


class Playback:
    def __init__(self, *, database_url: str, start: datetime, out: TextIO = sys.stdout):
        self.out = out
        self.clock = Clock(start)
        self.slack = SlackStandIn().start()
        self.engine = make_engine(database_url)
        if self._holds_cases():  # checked before anything is changed, migrations included
            self.slack.stop()
            self.engine.dispose()
            raise DemoError("the demo needs an empty database: this one already holds cases, and the demo's"
                            " made-up case must never be mixed with real records")
        upgrade(self.engine)
        self.settings = Settings(bot_token=SlackStandIn.BOT_TOKEN, signing_secret=SIGNING_SECRET,
                                 slack_api_url=self.slack.url, database_url=database_url, instance_name="demo")
        self.app = RunningApp(self.settings, self.engine, clock=self.clock)
        from handlers.reminders import Dispatcher  # after the app: its register() set the working calendar

        self.dispatcher = Dispatcher(self.app.deps, make_client(self.settings), instance="demo")
        self.people: dict[str, SlackUser] = {}
        self.names: dict[str, str] = {}
        self.seen = 0
        self.shown: dict[tuple[str, str], list[str]] = {}  # the lines printed for each message, to show changes
        self.actor = ""
        self.quiet = False

    def _holds_cases(self) -> bool:
        if not inspect(self.engine).has_table(Case.__tablename__):
            return False
        with Session(self.engine) as session:
            return bool(session.exec(select(func.count()).select_from(Case)).one())

    def close(self) -> None:
        self.app.stop()
        self.slack.stop()
        self.engine.dispose()

    # --- people ------------------------------------------------------------------------------------------

    def person(self, key: str, user_id: str, name: str) -> SlackUser:
        self.slack.add_user(user_id, team_id=TEAM, name=name, email=f"{key}@council.example")
        self.people[key] = SlackUser(self.app, self.slack, user_id, TEAM)
        self.names[key] = name
        return self.people[key]

    def name_of(self, some_id: str) -> str:
        """A person's name, or a channel's, for what Slack shows in place of a mention."""
        user = self.slack.users.get(some_id)
        if user:
            return user["real_name"]
        channel = self.slack.channels.get(some_id)
        return channel.name if channel is not None and not channel.is_im else some_id

    # --- printing ----------------------------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        print(text, file=self.out)

    def moment(self, when: datetime | None, what: str) -> None:
        """A heading for a part of the story, with its date and time when it has one."""
        self.show()
        self.say()
        if when is None:
            self.say(f"━━━ {what} ".ljust(100, "━"))
            return
        local = when.astimezone(self.app.deps.tz)
        self.say(f"━━━ {local:%A} {local.day} {local:%B %Y}, {local:%H:%M} · {what} ".ljust(100, "━"))

    def step(self, who: str | None, what: str) -> None:
        self.show()
        self.say()
        self.say(f"▶ {self.names[who]}: {what}" if who else f"▶ {what}")

    @contextmanager
    def quietly(self, summary: str) -> Iterator[None]:
        """Do something without printing what it showed (a repeat of something already shown)."""
        self.show()
        self.quiet = True
        try:
            yield
        finally:
            self.show()
            self.quiet = False
        self.say(f"  ({summary})")

    def _where(self, channel_id: str, thread: bool = False) -> str:
        channel = self.slack.channels.get(channel_id)
        if channel is None:
            return channel_id
        if channel.is_im:
            return f"in a direct message to {self.name_of(channel.im_user or '')}"
        return f"in #{channel.name}" + (" (in a thread)" if thread else "")

    def _lines(self, call: Call) -> tuple[str, list[str]] | None:
        args, ok = call.args, call.response.get("ok")
        name = self.name_of
        if call.method == "chat.postMessage" and ok:
            where = self._where(call.response["channel"], bool(args.get("thread_ts")))
            lines = render.message_text(args, name)
            self.shown[(call.response["channel"], call.response["ts"])] = lines
            return f"CoreGroup posts {where}:", lines
        if call.method == "chat.postEphemeral" and ok:
            return (f"Only {name(args.get('user', ''))} sees, {self._where(args['channel'])}:",
                    render.shortened(render.message_text(args, name)))
        if call.method == "chat.update" and ok:
            lines = render.message_text(args, name)
            before = self.shown.get((args["channel"], args["ts"]))
            self.shown[(args["channel"], args["ts"])] = lines
            if before == lines:
                return None  # nothing a person would notice
            title = next((line for line in before or lines if line.strip()), "").replace("*", "").strip(" =")[:60]
            return (f"CoreGroup changes its message “{title}” {self._where(args['channel'])}:",
                    render.changes(before, lines) if before else lines)
        if call.method == "response_url" and call.status == 200 and not args.get("delete_original"):
            return f"Only {self.actor} sees:", render.message_text(args, name)
        if call.method in ("views.open", "views.push") and ok:
            view = call.response["view"]
            if any(b.get("type") == "input" for b in view.get("blocks") or []):
                return None  # a form: shown as it is filled in, when it is sent
            return f"{self.actor} sees:", render.view_text(view, name)
        if call.method == "views.update" and ok:
            return "The form changes:", render.view_text(call.response["view"], name)
        if call.method == "files.completeUploadExternal" and ok:
            where = self._where(args.get("channel_id") or "", bool(args.get("thread_ts"))) \
                if args.get("channel_id") else "privately, to show in the App Home"
            files = [f"📎 {f.get('title')} ({f.get('name')}, {f.get('size'):,} bytes)" for f in call.response["files"]]
            comment = render.plain(args.get("initial_comment"), name)
            return f"CoreGroup shares {len(files)} file{'s' if len(files) > 1 else ''} {where}:", (
                render.blocks_text([{"type": "section", "text": {"text": comment}}]) if comment else []) + files
        if call.method == "conversations.create" and ok:
            return f"(Slack: the private channel #{call.response['channel']['name']} is created)", []
        if call.method == "pins.add" and ok:
            return f"(Slack: the message is pinned {self._where(args['channel'])})", []
        if call.method == "conversations.archive" and ok:
            return f"(Slack: the channel is archived: {self._where(args['channel'])})", []
        if call.method.startswith(("chat.", "views.", "files.completeUpload")) and not ok and call.status == 200:
            return f"(Slack refused {call.method}: {call.response.get('error')})", []
        return None

    def show(self) -> None:
        """Print what reached Slack since the last time; the same message to several people is shown once."""
        calls = self.slack.calls[self.seen:]
        self.seen += len(calls)
        if self.quiet:
            return
        previous: tuple[str, list[str]] | None = None
        also: list[str] = []
        for call in calls:
            shown = self._lines(call)
            if shown is None:
                continue
            heading, lines = shown
            if previous and lines and lines == previous[1] and "direct message" in heading + previous[0]:
                also.append(heading.rsplit(" to ", 1)[-1].rstrip(":"))
                continue
            self._flush(also)
            also = []
            self.say(f"  {heading}")
            for line in lines:
                self.say(f"    {line}")
            previous = shown
        self._flush(also)

    def _flush(self, also: list[str]) -> None:
        if also:
            self.say(f"    (the same message went to {', '.join(also)})")

    # --- what people do ----------------------------------------------------------------------------------

    def _as(self, who: str) -> SlackUser:
        self.actor = self.names[who]
        self.clock.tick()
        return self.people[who]

    def command(self, who: str, text: str, *, channel: str) -> None:
        self._as(who).command(text, channel=channel)

    def view(self, callback_id: str) -> dict:
        """The newest modal with this callback id, as Slack holds it."""
        for call in reversed(self.slack.calls):
            if call.method in ("views.open", "views.push", "views.update") and call.response.get("ok"):
                view = call.response.get("view") or {}
                if view.get("callback_id") == callback_id:
                    return view
        raise DemoError(f"the app did not open the {callback_id} form")

    def submit(self, who: str, callback_id: str, values: dict[str, Any] | None = None) -> None:
        """Fill in and send a form. When the plain-language check sends it back with suggestions, the person
        sends it again as it is (the form says that keeps what they wrote)."""
        user, view, values = self._as(who), self.view(callback_id), values or {}
        self.show()
        self._print(f"{self.actor} fills in a form and presses [{render.plain(view['submit']['text'])}]:",
                    render.view_text(render.filled(view, values), self.name_of)[:-1])
        answer = self._answer(user.submit(view, values))
        if answer and answer.get("response_action") == "update" and answer["view"].get("callback_id") == callback_id:
            self._print(f"{self.actor} sees the form again, with a note at the top:",
                        render.blocks_text(answer["view"]["blocks"][:1], self.name_of))
            self._print(f"{self.actor} sends it again as it is.", [])
            answer = self._answer(user.submit({**answer["view"], "id": view["id"]}, values))
        if answer is None:
            return
        if answer.get("response_action") == "update":  # a notice in place of the form
            self._print(f"{self.actor} sees:", render.view_text(answer["view"], self.name_of))
            return
        raise DemoError(f"the {callback_id} form was not accepted: {json.dumps(answer)[:300]}")

    def _print(self, heading: str, lines: list[str]) -> None:
        if self.quiet:
            return
        self.say(f"  {heading}")
        for line in lines:
            self.say(f"    {line}")

    @staticmethod
    def _answer(reply: Response) -> dict | None:
        if reply.status != 200:
            raise DemoError(f"the app answered {reply.status}: {reply.body[:200]}")
        return reply.json() if reply.body else None

    def click(self, who: str, action_id: str, value: Any = None, *, channel: str | None = None,
              message: dict | None = None, view: dict | None = None, selected: str | None = None) -> None:
        user = self._as(who)
        if view is not None:
            user.click(action_id, value, view=view, selected=selected)
        else:
            user.click(action_id, value, channel=channel, message=message or {"ts": "1.0", "text": ""},
                       selected=selected)

    # --- finding buttons ---------------------------------------------------------------------------------

    def button(self, channel: str, action_id: str) -> tuple[str, dict]:
        """The newest message in a channel (or a person's direct messages) with this button: (value, message)."""
        for message in reversed(self.slack.messages(channel)):
            for block in message.get("blocks") or []:
                for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
                    if element.get("action_id") == action_id:
                        return element.get("value"), message
        raise DemoError(f"no {action_id} button in {channel}")

    def dm(self, who: str) -> str:
        """The id of a person's direct-message conversation with the app."""
        user_id = self.people[who].user_id
        for channel in self.slack.channels.values():
            if channel.is_im and channel.im_user == user_id:
                return channel.id
        raise DemoError(f"the app has not sent {self.names[who]} a direct message")

    def private_button(self, action_id: str) -> tuple[str, dict]:
        """The newest ephemeral (or response-URL) message with this button."""
        for call in reversed(self.slack.calls):
            if call.method in ("chat.postEphemeral", "response_url") and call.status == 200:
                for block in call.args.get("blocks") or []:
                    for element in block.get("elements") or []:
                        if element.get("action_id") == action_id:
                            return element["value"], {"ts": call.response.get("message_ts") or "1.0",
                                                       "text": call.args.get("text", "")}
        raise DemoError(f"no private message with a {action_id} button")

    # --- time ---------------------------------------------------------------------------------------------

    def advance(self, to: datetime) -> int:
        """Move the clock to `to`, running the dispatcher wherever the ledger says something falls due, as the
        scheduler would; prints what each run sent, with its time. Returns how many runs there were."""
        runs = [self._run()]  # what fell due while people were busy (the scheduler runs every half minute)
        while len(runs) < 200:
            with Session(self.engine) as session:
                due = session.exec(select(func.min(ScheduledMessage.due_at)).where(
                    ScheduledMessage.status == MessageStatus.PENDING, ScheduledMessage.due_at > self.clock(),
                    ScheduledMessage.due_at <= to)).one()
            if due is None:
                break
            self.clock.set(due + timedelta(minutes=1))
            runs.append(self._run())
        self.clock.set(to)
        runs.append(self._run())
        return len(runs)

    def _run(self) -> None:
        self.show()
        before = len(self.slack.calls)
        self.dispatcher.run_once()
        if len(self.slack.calls) > before and not self.quiet:
            local = self.clock().astimezone(self.app.deps.tz)
            self.say()
            self.say(f"⏱ {local:%A} {local.day} {local:%B %Y}, {local:%H:%M} · the scheduler sends what is due")
        self.show()
