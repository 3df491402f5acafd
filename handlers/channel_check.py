"""The periodic check of each open case channel's members against its core group (the scheduler runs it).

Membership events keep the two in step as they happen (handlers/events.py); an event Slack gave up on (the
app was down through its retries, say) would leave someone who left the channel able to act as a member, or
someone who joined never flagged. So every CHECK_EVERY the channel's members are read (`conversations.members`,
page by page) and, with the same effects as the events:

- a member of the core group (on Slack) who is no longer in the channel is taken out of the core group, and
  the channel is told (not someone added in the last few minutes, whose invitation may still be on its way);
- someone in the channel who is not in the core group is linked if they were invited by email, and otherwise
  named in the channel for the lead to act on, once (until they leave the channel).

Every change is a conditional update or a once-only claim, so two instances checking at once, or a check and
an event at the same moment, make each change and each post once.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import connect_events, events
from handlers.deps import Deps
from models import cases, membership, names
from models.audit import Actor
from models.tables import CaseStatus, Member, MemberStatus

log = logging.getLogger(__name__)

CHECK_EVERY = timedelta(minutes=15)
PAGE = 200  # conversations.members: Slack recommends no more than 200 a page


def channel_members(client: WebClient, channel_id: str) -> set[str]:
    """Everyone in the channel, every page. Raises SlackApiError."""
    found: set[str] = set()
    cursor = ""
    while True:
        page = client.conversations_members(channel=channel_id, limit=PAGE, **({"cursor": cursor} if cursor else {}))
        found.update(page.get("members") or [])
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or ""
        if not cursor:
            return found


def check_case(deps: Deps, client: WebClient, case_id: int, bot_user_id: str | None) -> Counter:
    outcome: Counter = Counter()
    with deps.session() as session:
        case = cases.get_case(session, case_id)
        if case is None or case.status != CaseStatus.OPEN:
            return outcome
    try:
        in_channel = channel_members(client, case.channel_id)
    except SlackApiError as error:
        log.warning("channel check: could not read the members of case %s's channel: %s", case_id,
                    error.response.get("error"))
        outcome["unreadable"] += 1
        return outcome
    with deps.session() as session:
        active = [m for m in cases.members(session, case.id) if m.status == MemberStatus.ACTIVE and m.slack_user_id]
        fresh = membership.just_added(session, case.id, deps.now())
        flagged = membership.flagged(session, case.id)
        for user_id in flagged - in_channel:  # they left: if they come back, they are flagged again
            membership.unflag(session, case.id, user_id)
    for gone in [m for m in active if m.slack_user_id not in in_channel and m.id not in fresh]:
        with deps.session() as session:
            member = session.get(Member, gone.id)
            if not events.remove_who_left(session, deps, member=member, actor=Actor.app()):
                continue
            key = events.note(session, deps, case_id=case.id, what=f"left:{member.id}",
                              text=events.left_text(names.shown(member), member.role))
        log.info("channel check: member %s was no longer in case %s's channel", gone.id, case.id)
        events.send_notes(deps, client, [key], after_answer=False)
        outcome["removed"] += 1
    in_group = {m.slack_user_id for m in active}
    for user_id in sorted(in_channel - in_group - flagged - {bot_user_id}):
        team_id = connect_events.person_team(client, {"user": user_id}, case)
        if events.flag_joiner(deps, client, case=case, team_id=team_id, user_id=user_id, after_answer=False):
            log.info("channel check: someone not in the core group is in case %s's channel", case.id)
            outcome["flagged"] += 1
    return outcome


def check_all(deps: Deps, client: WebClient) -> Counter:
    """Check every open case's channel; what was changed, by kind."""
    try:
        bot_user_id = client.auth_test().get("user_id")
    except SlackApiError as error:
        log.warning("channel check: skipped, Slack did not say who the app is: %s", error.response.get("error"))
        return Counter()
    with deps.session() as session:
        case_ids = membership.open_case_ids(session)
    outcome: Counter = Counter()
    for case_id in case_ids:
        try:
            outcome += check_case(deps, client, case_id, bot_user_id)
        except Exception as error:  # one case's failure does not stop the others; the next run tries again
            log.error("channel check: case %s failed: %s", case_id, type(error).__name__)
            outcome["failed"] += 1
    return outcome
