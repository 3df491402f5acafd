"""Channel membership events: the channel and the core group stay in step.

Events are not lost. Each is applied on the request's own thread before Slack has its answer
(`ApplyBeforeAnswering`, a listener middleware), and the event's once-only claim is written in the same
transaction as what it changes: if that fails (the database is unavailable, say), Slack is answered 500
and delivers the event again (Slack retries a failed delivery up to three times, the last some minutes
later); nothing was claimed, so the retry is applied. In Socket Mode the same non-2xx Bolt response is
not acknowledged, so Slack redelivers it (see docs/ARCHITECTURE.md). Posts about the
change are written to the outbox in the change's own transaction (kind outbox.channel_note) and sent after the
answer (`deps.later`); the scheduler's run sends any the process or Slack did not. What a longer outage still
misses, the periodic check of each case channel's members (handlers/channel_check.py) repairs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.middleware import Middleware
from slack_sdk import WebClient

from handlers import access, connect_events, outbox
from handlers.blocks import kit
from handlers.deps import Deps
from models import audit, cases, invites, membership, names, reminders
from models import outbox as outbox_rows
from models.audit import Actor
from models.ledger import Kind
from models.tables import Case, CaseStatus, Member, MemberStatus

log = logging.getLogger(__name__)


def claim(session, body: dict) -> bool:
    """Slack retries events it thinks were not received; act on each event id once. In the caller's transaction,
    so a failure before the change is saved gives the claim back with it."""
    event_id = body.get("event_id")
    return True if not event_id else audit.claim_once(session, f"event:{event_id}")


class ApplyBeforeAnswering(Middleware):
    """Apply the event before answering; answer 500 if that fails, so that Slack sends it again. (A Middleware
    object, called as it is, as handlers.updates.AnswerOnArrival.)"""

    def __init__(self, apply: Callable[[dict, dict, WebClient, dict], None]):
        self.apply = apply

    def process(self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
                ) -> BoltResponse | None:
        body = req.body
        try:
            self.apply(body, body.get("event") or {}, req.context.client, req.context)
        except Exception as error:  # the database or Slack failed: not applied, so not acknowledged
            log.error("event %s (%s) not applied, answered 500 for Slack to send it again: %s", body.get("event_id"),
                      (body.get("event") or {}).get("type"), type(error).__name__)
            return BoltResponse(status=500, body="")
        return next()


def left_text(name: str, role: str) -> str:
    return (f"{kit.esc(name)} ({kit.esc(role)}) left the channel, so they are no longer in the core group. What"
            " they wrote stays in the record. To add them back, use *Who is in the group* on the pinned message.")


def joined_text(user_id: str, *, external: bool, waiting: bool) -> str:
    if external and waiting:
        return (f"<@{user_id}> from another organisation joined this channel. If they are the person invited by"
                " email, I will add them to the core group as soon as Slack confirms their invitation. If not,"
                " please remove them from the channel: they should not see this case.")
    return (f"<@{user_id}> joined this channel but is not in the core group yet. Add them with *Who is in the"
            " group* on the pinned message so they can take part, or remove them from the channel if they should"
            " not see this case.")


@outbox.sender(Kind.CHANNEL_NOTE)
def post_note(job: outbox.Job) -> None:
    """A membership change told in the case channel (models/outbox.channel_note), once."""
    channel = job.case_channel()
    text = job.detail["text"]
    job.post(channel=channel, message={"text": text, "blocks": [kit.section(text)]})


def note(session, deps: Deps, *, case_id: int, what: str, text: str) -> str:
    """Write the channel's note in the change's own transaction; send it with `send_notes` after the commit."""
    return outbox_rows.channel_note(session, case_id=case_id, what=what, text=text, now=deps.now())


def send_notes(deps: Deps, client: WebClient, keys: list[str], *, after_answer: bool = True) -> None:
    """Send the notes now (after the event's answer, unless `after_answer` is False); the scheduler's run sends
    whatever this does not (a crash, Slack refusing)."""
    if after_answer:
        deps.later(outbox.send_all_now, deps, client, keys)
    else:
        outbox.send_all_now(deps, client, keys)


def remove_who_left(session, deps: Deps, *, member: Member, actor: Actor) -> bool:
    """They left the case channel: out of the core group (once), their reminders with them."""
    if member.status != MemberStatus.ACTIVE or not cases.remove_member(session, member=member, actor=actor):
        return False  # removed meanwhile (for example by `/coregroup members`, which then took them out)
    reminders.member_changed(session, member=member, now=deps.now())
    return True


def member_left(body: dict, event: dict, client: WebClient, deps: Deps) -> None:
    """Someone left (or was removed from) a case channel: they are no longer in the core group."""
    actor = access.actor_of(body)
    user_id = event.get("user")
    with deps.session() as session:
        case = cases.case_for_channel(session, event.get("channel"))
        if case is None or case.status != CaseStatus.OPEN:  # a closed case's records are read-only
            return
        member = cases.active_member(session, case.id, actor.team_id or case.team_id, user_id)
    team_id = actor.team_id
    if member is None and not event.get("user_team"):
        # The event may carry the channel's team for someone from another organisation.
        team_id = connect_events.person_team(client, event, case)
        with deps.session() as session:
            member = cases.active_member(session, case.id, team_id, user_id)
    with deps.session() as session:
        if not claim(session, body):
            return
        if user_id:
            membership.unflag(session, case.id, user_id)  # joining again is flagged again
        if member is None:
            return
        member = session.get(Member, member.id)
        if not remove_who_left(session, deps, member=member, actor=Actor(team_id=team_id, user_id=user_id)):
            return
        channel = case.channel_id
        key = note(session, deps, case_id=case.id, what=f"left:{member.id}",
                   text=left_text(names.shown(member), member.role))
    log.info("member %s left case channel %s", user_id, channel)
    send_notes(deps, client, [key])


def flag_joiner(deps: Deps, client: WebClient, *, case: Case, team_id: str, user_id: str,
                body: dict | None = None, after_answer: bool = True) -> bool:
    """Someone in the channel who is not in the core group: link them if they were invited, else say so in the
    channel, once (the event and the periodic check both come here). False if there was nothing to do."""
    with deps.session() as session:
        if cases.active_member(session, case.id, team_id, user_id):
            return False
        waiting = bool(invites.invited_in_case(session, case.id))
    if connect_events.link_on_join(deps, client, case=case, team_id=team_id, user_id=user_id):
        return True
    with deps.session() as session:
        if body is not None and not claim(session, body):
            return False
        if not membership.flag_once(session, case.id, user_id):
            return False  # told already (by the event, or by the periodic check)
        key = note(session, deps, case_id=case.id, what=f"joined:{case.id}:{user_id}",
                   text=joined_text(user_id, external=team_id != case.team_id, waiting=waiting))
    send_notes(deps, client, [key], after_answer=after_answer)
    return True


def member_joined(body: dict, event: dict, client: WebClient, deps: Deps, bot_user_id: str | None) -> None:
    """Someone joined a case channel without being added to the core group: say so, for the lead to act."""
    user_id = event.get("user")
    if user_id == bot_user_id:
        return
    with deps.session() as session:
        case = cases.case_for_channel(session, event.get("channel"))
        if case is None or case.status != CaseStatus.OPEN:  # a closed case's records are read-only
            return
    # Someone from another organisation is identified by their own team, not the channel's.
    team_id = connect_events.person_team(client, event, case)
    flag_joiner(deps, client, case=case, team_id=team_id, user_id=user_id, body=body)


def register(app: App, deps: Deps) -> None:
    @app.event("member_left_channel", middleware=[ApplyBeforeAnswering(
        lambda body, event, client, context: member_left(body, event, client, deps))])
    def left():
        pass  # applied by the middleware, before the answer

    @app.event("member_joined_channel", middleware=[ApplyBeforeAnswering(
        lambda body, event, client, context: member_joined(body, event, client, deps, context.bot_user_id))])
    def joined():
        pass  # applied by the middleware, before the answer
