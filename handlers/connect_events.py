"""Slack Connect invitations after they are sent: accepted, approved, declined, and the join itself.

Slack's events (payloads as documented for `shared_channel_invite_accepted`, `_approved` and
`_declined`): `event.invite.id` is the id `conversations.inviteShared` returned; `accepting_user`
and `declining_user` carry `id` and `team_id`; `approval_required` says whether an administrator
must still approve before the person can join. `member_joined_channel` may carry `user_team` for
someone from another organisation. Any of these may arrive more than once, or in any order; the
member record changes only once (see `models.invites`) and the channel is told only by the call
that made the change.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import outbox
from handlers.blocks import kit
from handlers.deps import Deps
from handlers.members import kick, kick_reason
from models import audit, cases, invites, reminders
from models import outbox as outbox_rows
from models.audit import Actor
from models.ledger import Kind
from models.tables import Case, Member, MemberStatus

log = logging.getLogger(__name__)


def _claim(session, body: dict) -> bool:
    """Act on each event id once; claimed in the transaction that makes the change, so an event whose change
    failed (the database is unavailable) is not claimed, is answered 500 and is applied when Slack sends it
    again (see handlers.events.ApplyBeforeAnswering)."""
    event_id = body.get("event_id")
    return True if not event_id else audit.claim_once(session, f"event:{event_id}")


def _note(session, deps: Deps, *, case_id: int, what: str, text: str) -> str:
    """The channel's note of the change, written in the change's own transaction (kind outbox.channel_note, sent by
    handlers/events.post_note): sent after the answer, and by the scheduler's run if the process or Slack did not."""
    return outbox_rows.channel_note(session, case_id=case_id, what=what, text=text, now=deps.now())


def _person(user: dict | None) -> tuple[str | None, str | None, str | None]:
    """(team id, user id, name) from a Slack Connect event's user object."""
    user = user or {}
    profile = user.get("profile") or {}
    name = profile.get("real_name") or profile.get("display_name") or user.get("name")
    return user.get("team_id") or profile.get("team"), user.get("id"), name


def _whom(member: Member) -> str:
    return kit.esc(member.role) + (f", {kit.esc(member.agency)}" if member.agency else "")


def joined_text(member: Member) -> str:
    return (f"<@{member.slack_user_id}> joined the core group ({_whom(member)}). Welcome! The pinned message has"
            " buttons for everything you can do here, because slash commands do not work across organisations.")


def _case_and_member(session, invite_id: str | None, channel_id: str | None) -> tuple[Case | None, Member | None]:
    member = invites.by_invite(session, invite_id)
    if member is None:
        return None, None
    case = cases.get_case(session, member.case_id)
    if case is None or (channel_id and case.channel_id != channel_id):
        return None, None
    return case, member


def invite_accepted(body: dict, event: dict, client: WebClient, deps: Deps) -> None:
    """Accepted: link them now if no approval is needed; otherwise note who, and wait for approval."""
    invite_id = (event.get("invite") or {}).get("id")
    team_id, user_id, name = _person(event.get("accepting_user"))
    if not (team_id and user_id):
        return
    actor = Actor(team_id=team_id, user_id=user_id)
    key = None
    with deps.session() as session:
        if not _claim(session, body):
            return
        case, member = _case_and_member(session, invite_id, (event.get("channel") or {}).get("id"))
        if case is None or member is None:
            log.info("shared invite %s accepted: not one of ours", invite_id)
            return
        channel_id = case.channel_id
        if member.status == MemberStatus.REMOVED and member.slack_user_id in (None, user_id):
            # Cancelled: taken out again and the channel told, through the outbox, planned with the event's claim.
            key = outbox_rows.cancelled_accepted(session, case_id=case.id, member_id=member.id, user_id=user_id,
                                                 approval_required=bool(event.get("approval_required")),
                                                 event_id=body.get("event_id"), now=deps.now())
        else:
            if event.get("approval_required"):
                noted = invites.note_identity(session, member=member, team_id=team_id, user_id=user_id, name=name,
                                               actor=actor)
                text = (f"{kit.esc(name or 'The person invited')} accepted the invitation to join the core group"
                        f" ({_whom(member)}). A Slack administrator must approve it before they can join this"
                        " channel.") if noted else None
            else:
                joined = invites.link(session, member=member, team_id=team_id, user_id=user_id, name=name,
                                      actor=actor)
                if joined is not None:
                    reminders.member_changed(session, member=joined, now=deps.now())
                text = joined_text(joined) if joined is not None else None
            key = _note(session, deps, case_id=case.id, what=f"accepted:{member.id}", text=text) if text else None
    log.info("shared invite %s accepted in %s", invite_id, channel_id)
    if key:
        deps.later(outbox.send_all_now, deps, client, [key])


@outbox.sender(Kind.CANCELLED_ACCEPTED)
def refuse_cancelled(job: outbox.Job) -> None:
    """Someone accepted an invitation the core group had cancelled (models/outbox.cancelled_accepted): take them out
    of the channel again, then tell the channel, once. Taking someone out who is not in the channel is no error, so a
    resumed row may ask Slack again; once the note is recorded as posted nothing is done again."""
    channel_id = job.case_channel()
    if job.posted(0):
        return
    user_id, approval_required = job.detail["user"], job.detail.get("approval_required")
    refused = None if approval_required else kick(job.client, channel_id, user_id)
    text = refused_text(user_id, approval_required, refused)
    job.post(channel=channel_id, message={"text": text, "blocks": [kit.section(text)]})


def refused_text(user_id: str, approval_required: bool, refused: str | None) -> str:
    """What the channel is told: taken out, or why not (Slack's own code is only logged)."""
    if approval_required:
        text = ("Someone accepted an invitation to this channel that the core group had cancelled. A Slack"
                " administrator should deny the request under *Manage Slack Connect* → *Requests*.")
    elif refused:
        text = (f"<@{user_id}> accepted an invitation that the core group had cancelled, and Slack did not let me"
                f" take them out of the channel ({kick_reason(refused)}). Please remove them from the channel now.")
    else:
        text = (f"<@{user_id}> accepted an invitation that the core group had cancelled, so I took them out of the"
                " channel again.")
    return text


def invite_approved(body: dict, event: dict, client: WebClient, deps: Deps) -> None:
    """Approved after acceptance: link the person noted when they accepted (the join event also does)."""
    invite_id = (event.get("invite") or {}).get("id")
    with deps.session() as session:
        if not _claim(session, body):
            return
        case, member = _case_and_member(session, invite_id, (event.get("channel") or {}).get("id"))
        if case is None or member is None or member.status != MemberStatus.INVITED or not member.slack_user_id:
            return
        joined = invites.link(session, member=member, team_id=member.slack_team_id or "",
                              user_id=member.slack_user_id, name=None,
                              actor=Actor(team_id=event.get("approving_team_id"),
                                          user_id=(event.get("approving_user") or {}).get("id")))
        if joined is not None:
            reminders.member_changed(session, member=joined, now=deps.now())
        channel_id = case.channel_id
        key = _note(session, deps, case_id=case.id, what=f"linked:{joined.id}",
                    text=joined_text(joined)) if joined is not None else None
    log.info("shared invite %s approved in %s", invite_id, channel_id)
    if key:
        deps.later(outbox.send_all_now, deps, client, [key])


def invite_declined(body: dict, event: dict, client: WebClient, deps: Deps) -> None:
    """Declined (by the person or by an administrator): the member is marked removed; the channel is told."""
    invite_id = (event.get("invite") or {}).get("id")
    team_id, user_id, _name = _person(event.get("declining_user"))
    with deps.session() as session:
        if not _claim(session, body):
            return
        case, member = _case_and_member(session, invite_id, (event.get("channel") or {}).get("id"))
        if case is None or member is None:
            return
        if not invites.declined(session, member=member, actor=Actor(team_id=team_id or event.get(
                "declining_team_id"), user_id=user_id)):
            return
        reminders.member_changed(session, member=member, now=deps.now())
        text = (f"The invitation to join the core group ({_whom(member)}) was declined, so they are not in the"
                " core group. To try again, check the email address with them and use `/coregroup members`.")
        channel_id = case.channel_id
        key = _note(session, deps, case_id=case.id, what=f"declined:{member.id}", text=text)
    log.info("shared invite %s declined in %s", invite_id, channel_id)
    deps.later(outbox.send_all_now, deps, client, [key])


def person_team(client: WebClient, event: dict, case: Case) -> str:
    """The team of the person in a channel event: `user_team`, else their profile, else the event's team."""
    if event.get("user_team"):
        return event["user_team"]
    try:
        user = client.users_info(user=event.get("user"))["user"]
        if user.get("team_id"):
            return user["team_id"]
    except SlackApiError as error:
        log.info("profile look-up failed for %s: %s", event.get("user"), error.response.get("error"))
    return event.get("team") or case.team_id


def link_on_join(deps: Deps, client: WebClient, *, case: Case, team_id: str, user_id: str) -> bool:
    """Someone joined the case channel: if they are an invited member, make them active and tell the
    channel. Matched by the identity noted when they accepted, else by their profile's email.
    Returns True when they were an invited member (whether or not this call made the change)."""
    with deps.session() as session:
        pending = invites.invited_in_case(session, case.id)
        match = next((m for m in pending if (m.slack_team_id, m.slack_user_id) == (team_id, user_id)), None)
    name = None
    if match is None and pending:
        try:
            profile = (client.users_info(user=user_id)["user"] or {})
        except SlackApiError:
            profile = {}
        email = ((profile.get("profile") or {}).get("email") or "").lower()
        name = (profile.get("profile") or {}).get("real_name") or None
        if profile.get("team_id") not in (None, team_id):
            email = ""
        match = next((m for m in pending if email and (m.email or "").lower() == email), None)
    if match is None:
        return False
    with deps.session() as session:
        member = session.get(Member, match.id)
        joined = invites.link(session, member=member, team_id=team_id, user_id=user_id, name=name,
                              actor=Actor(team_id=team_id, user_id=user_id))
        if joined is not None:
            reminders.member_changed(session, member=joined, now=deps.now())
        key = _note(session, deps, case_id=case.id, what=f"linked:{joined.id}",
                    text=joined_text(joined)) if joined is not None else None
    if key:
        deps.later(outbox.send_all_now, deps, client, [key])
    return True


def register(app: App, deps: Deps) -> None:
    from handlers.events import ApplyBeforeAnswering  # events imports this module

    # Each is applied before the answer, so a failure is answered 500 and Slack sends the event again.
    @app.event("shared_channel_invite_accepted", middleware=[ApplyBeforeAnswering(
        lambda body, event, client, context: invite_accepted(body, event, client, deps))])
    def accepted():
        pass  # applied by the middleware, before the answer

    @app.event("shared_channel_invite_approved", middleware=[ApplyBeforeAnswering(
        lambda body, event, client, context: invite_approved(body, event, client, deps))])
    def approved():
        pass  # applied by the middleware, before the answer

    @app.event("shared_channel_invite_declined", middleware=[ApplyBeforeAnswering(
        lambda body, event, client, context: invite_declined(body, event, client, deps))])
    def declined():
        pass  # applied by the middleware, before the answer
