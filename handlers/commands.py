"""`/coregroup` and its sub-commands.

Each feature module adds its sub-commands to the router in its own `register()`. The router
acknowledges at once, finds the case (the channel's, or asks which of the person's cases), checks
membership, and hands a `Invocation` to the sub-command. The same `Invocation` is built when a
button starts a flow, so people from other organisations (who cannot use slash commands in a
shared channel) reach every flow from buttons.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from handlers import access
from handlers.blocks import help as help_blocks
from handlers.deps import Deps
from handlers.ids import COMMAND, Action
from models import cases
from models.audit import Actor
from models.tables import Case, Member

log = logging.getLogger(__name__)


@dataclass
class Invocation:
    """One person asking for one thing on one case (or on none, for `new` and `help`)."""

    deps: Deps
    client: WebClient
    actor: Actor
    args: str
    channel_id: str | None
    trigger_id: str | None
    respond: Callable[..., Any]
    body: dict
    case: Case | None = None
    member: Member | None = None

    def reply(self, text: str, blocks: list[dict] | None = None) -> None:
        """An ephemeral reply only the asker sees."""
        kwargs: dict[str, Any] = {"text": text, "response_type": "ephemeral", "replace_original": False}
        if blocks:
            kwargs["blocks"] = blocks
        if self.body.get("response_url") and access.responded(self.respond, **kwargs):
            return
        if self.channel_id:
            self.client.chat_postEphemeral(channel=self.channel_id, user=self.actor.user_id, text=text,
                                           blocks=blocks)
        else:
            self.client.chat_postMessage(channel=self.actor.user_id, text=text, blocks=blocks)


@dataclass
class SubCommand:
    name: str
    summary: str
    run: Callable[[Invocation], None]
    needs_case: bool = True
    aliases: tuple[str, ...] = ()
    usage: str = ""
    allow_closed: bool = False  # a read-only view that members of a closed case may still use


@dataclass
class CommandRouter:
    subcommands: dict[str, SubCommand] = field(default_factory=dict)

    def add(self, sub: SubCommand) -> None:
        self.subcommands[sub.name] = sub
        for alias in sub.aliases:
            self.subcommands[alias] = sub

    def get(self, name: str) -> SubCommand | None:
        return self.subcommands.get(name)

    def listed(self) -> list[SubCommand]:
        seen: dict[str, SubCommand] = {}
        for sub in self.subcommands.values():
            seen.setdefault(sub.name, sub)
        order = {name: i for i, name in enumerate(help_blocks.ORDER)}
        return sorted(seen.values(), key=lambda s: order.get(s.name, len(order)))


def parse(text: str | None) -> tuple[str, str]:
    words = (text or "").strip().split(None, 1)
    if not words:
        return "", ""
    return words[0].lower(), (words[1] if len(words) > 1 else "")


def run_for_case(inv: Invocation, sub: SubCommand, case_id: int | None) -> None:
    """Check membership afresh and run the sub-command on the case."""
    with inv.deps.reading() as session:
        case, member, why_not = access.member_for(session, case_id, inv.actor, allow_closed=sub.allow_closed)
    if why_not:
        inv.reply(why_not)
        return
    inv.case, inv.member = case, member
    sub.run(inv)


def resolve_and_run(inv: Invocation, sub: SubCommand) -> None:
    """Act on the channel's case, or ask which of the person's cases is meant."""
    if not sub.needs_case:
        sub.run(inv)
        return
    with inv.deps.reading() as session:
        case = cases.case_for_channel(session, inv.channel_id)
        mine = [] if case else cases.cases_for_person(session, inv.actor.team_id or "", inv.actor.user_id or "",
                                                      open_only=not sub.allow_closed)
    if case is not None:
        run_for_case(inv, sub, case.id)
        return
    if not mine:
        inv.reply("You are not in any core group yet. To set one up, use `/coregroup new`.")
        return
    if len(mine) == 1:
        run_for_case(inv, sub, mine[0].id)
        return
    inv.reply("Which case is this for?", help_blocks.case_picker(sub.name, inv.args, mine))


def register(app: App, deps: Deps) -> CommandRouter:
    router = CommandRouter()
    deps.commands = router
    router.add(SubCommand("help", "List what CoreGroup can do", lambda inv: inv.reply(
        "What CoreGroup can do", help_blocks.help_blocks(router.listed())), needs_case=False))

    def answer_at_once(ack, body, next):
        """Acknowledge a known sub-command on the request's own thread, before the listener is even scheduled:
        under load the listener pool is busy with work that follows earlier acknowledgements, and Slack allows
        three seconds. (Help and unknown words are answered by the listener, with their text.)"""
        name, _args = parse(body.get("text"))
        sub = router.get(name) if name else None
        if sub is not None and sub.name != "help":
            ack()
        next()

    @app.command(COMMAND, middleware=[answer_at_once])
    def slash(ack, body, client, respond):
        name, args = parse(body.get("text"))
        sub = router.get(name) if name else router.get("help")
        if sub is None:
            ack(response_type="ephemeral", text="I do not know that command.",
                blocks=help_blocks.help_blocks(router.listed(), unknown=name))
            return
        if sub.name == "help":
            ack(response_type="ephemeral", text="What CoreGroup can do",
                blocks=help_blocks.help_blocks(router.listed()))
            return
        ack()
        deps.answers_first()  # the work a command starts (opening a form, mostly) follows everyone's answers
        log.info("command %s from %s/%s", sub.name, body.get("team_id"), body.get("user_id"))
        inv = Invocation(deps=deps, client=client, actor=access.actor_of(body), args=args,
                         channel_id=body.get("channel_id"), trigger_id=body.get("trigger_id"),
                         respond=respond, body=body)
        resolve_and_run(inv, sub)

    @app.action(Action.PICK_CASE)
    def picked(ack, body, client, respond):
        ack()
        choice = access.button_value(body)
        sub = router.get(str(choice.get("s", "")))
        if sub is None:
            return
        inv = Invocation(deps=deps, client=client, actor=access.actor_of(body), args=str(choice.get("a", "")),
                         channel_id=access.channel_of(body), trigger_id=body.get("trigger_id"),
                         respond=respond, body=body)
        respond(delete_original=True)
        run_for_case(inv, sub, choice.get("c"))

    return router


def start_from_button(deps: Deps, sub_name: str, body: dict, client: WebClient, respond: Any,
                      case_id: Any) -> None:
    """Run a sub-command from a button on one of the app's messages (works across organisations)."""
    sub = deps.commands.get(sub_name)  # type: ignore[union-attr]
    inv = Invocation(deps=deps, client=client, actor=access.actor_of(body), args="",
                     channel_id=access.channel_of(body), trigger_id=body.get("trigger_id"),
                     respond=respond, body=body)
    run_for_case(inv, sub, case_id)


def value(**ids: Any) -> str:
    return json.dumps(ids, separators=(",", ":"))
