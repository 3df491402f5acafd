"""Channel membership events: the channel and the core group stay in step."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient

from handlers import access, connect_events
from handlers.blocks import kit
from handlers.deps import Deps
from models import audit, cases, invites, reminders
from models.audit import Actor
from models.tables import CaseStatus, Member, MemberStatus

log = logging.getLogger(__name__)


def _once(deps: Deps, body: dict) -> bool:
    """Slack retries events it thinks were not received; act on each event id once."""
    event_id = body.get("event_id")
    if not event_id:
        return True
    with deps.session() as session:
        return audit.claim_once(session, f"event:{event_id}")


def member_left(body: dict, event: dict, client: WebClient, deps: Deps) -> None:
    """Someone left (or was removed from) a case channel: they are no longer in the core group."""
    if not _once(deps, body):
        return
    actor = access.actor_of(body)
    with deps.session() as session:
        case = cases.case_for_channel(session, event.get("channel"))
        if case is None or case.status != CaseStatus.OPEN:  # a closed case's records are read-only
            return
        member = cases.active_member(session, case.id, actor.team_id or case.team_id, event.get("user"))
    if member is None and case is not None and not event.get("user_team"):
        # The event may carry the channel's team for someone from another organisation.
        team_id = connect_events.person_team(client, event, case)
        with deps.session() as session:
            member = cases.active_member(session, case.id, team_id, event.get("user"))
            actor = Actor(team_id=team_id, user_id=event.get("user"))
    if member is None:
        return
    with deps.session() as session:
        case = cases.get_case(session, case.id)
        member = session.get(Member, member.id)
        if member.status != MemberStatus.ACTIVE or not cases.remove_member(
                session, member=member, actor=Actor(team_id=actor.team_id, user_id=event.get("user"))):
            return  # removed meanwhile (for example by `/coregroup members`, which then took them out)
        reminders.member_changed(session, member=member, now=deps.now())
        channel, name, role = case.channel_id, member.name, member.role
    log.info("member %s left case channel %s", event.get("user"), channel)
    text = (f"{kit.esc(name)} ({kit.esc(role)}) left the channel, so they are no longer in the core group. What"
            " they wrote stays in the record. To add them back, use `/coregroup members`.")
    client.chat_postMessage(channel=channel, text=text, blocks=[kit.section(text)])


def member_joined(body: dict, event: dict, client: WebClient, deps: Deps, bot_user_id: str | None) -> None:
    """Someone joined a case channel without being added to the core group: say so, for the lead to act."""
    user_id = event.get("user")
    if user_id == bot_user_id or not _once(deps, body):
        return
    with deps.session() as session:
        case = cases.case_for_channel(session, event.get("channel"))
        if case is None or case.status != CaseStatus.OPEN:  # a closed case's records are read-only
            return
        channel = case.channel_id
    # Someone from another organisation is identified by their own team, not the channel's.
    team_id = connect_events.person_team(client, event, case)
    with deps.session() as session:
        if cases.active_member(session, case.id, team_id, user_id):
            return
        waiting = bool(invites.invited_in_case(session, case.id))
    if connect_events.link_on_join(deps, client, case=case, team_id=team_id, user_id=user_id):
        return
    if team_id != case.team_id and waiting:
        text = (f"<@{user_id}> from another organisation joined this channel. If they are the person invited by"
                " email, I will add them to the core group as soon as Slack confirms their invitation. If not,"
                " please remove them from the channel: they should not see this case.")
    else:
        text = (f"<@{user_id}> joined this channel but is not in the core group yet. Add them with"
                " `/coregroup members` so they can take part, or remove them from the channel if they should"
                " not see this case.")
    client.chat_postMessage(channel=channel, text=text, blocks=[kit.section(text)])


def register(app: App, deps: Deps) -> None:
    @app.event("member_left_channel")
    def left(body, event, client):
        member_left(body, event, client, deps)

    @app.event("member_joined_channel")
    def joined(body, event, client, context):
        member_joined(body, event, client, deps, context.bot_user_id)
