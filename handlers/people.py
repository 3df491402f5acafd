"""Names of Slack people, with a fallback when a profile cannot be read (people from other organisations)."""

from __future__ import annotations

import logging
import time

from slack_bolt.middleware import Middleware
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger(__name__)


def display_name(client: WebClient, user_id: str | None, *, fallback: str) -> str:
    """The person's display name, or what we recorded for them if Slack will not say."""
    if not user_id:
        return fallback
    try:
        user = client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        log.info("profile look-up failed for %s: %s", user_id, error.response.get("error"))
        return fallback
    except (SlackClientError, OSError) as error:  # no answer in time: the recorded name will do
        log.info("profile look-up failed for %s: %s", user_id, type(error).__name__)
        return fallback
    profile = user.get("profile") or {}
    return (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name") or fallback)[:120]


def profile(client: WebClient, user_id: str) -> dict | None:
    """The Slack user record, or None when it cannot be read."""
    try:
        return client.users_info(user=user_id)["user"]
    except SlackApiError as error:
        log.info("profile look-up failed for %s: %s", user_id, error.response.get("error"))
        return None
    except (SlackClientError, OSError) as error:
        log.info("profile look-up failed for %s: %s", user_id, type(error).__name__)
        return None


def picked(client: WebClient, user_id: str | None, default_team: str) -> tuple[str, str] | None:
    """Someone picked in a form (a manager, say), as (their team, their user). A user picker offers people from
    channels shared with other organisations too, so their organisation is Slack's word, not the picker's; if
    Slack will not say, they are taken to be in the workspace of whoever picked them (`default_team`)."""
    if not user_id:
        return None
    return (profile(client, user_id) or {}).get("team_id") or default_team, user_id


def member_name(client: WebClient, member, *, look_up: bool = True) -> str:
    """A member's name for a message or document: their Slack display name where Slack will give it,
    else the name recorded for them (people from other organisations may be invisible to users.info,
    and family members have no Slack account)."""
    from models import names

    if not look_up or not getattr(member, "slack_user_id", None):
        return names.shown(member)
    return display_name(client, member.slack_user_id, fallback=names.shown(member))


def member_label(client: WebClient, member, *, look_up: bool = True) -> str:
    """Name and role, e.g. "Health Visitor A (Health visitor)", falling back to what was recorded."""
    name = member_name(client, member, look_up=look_up)
    return f"{name} ({member.role})" if member.role else name


# --- names not yet looked up (models/names.py) ---------------------------------------------------------------


def slack_name(user: dict | None) -> str | None:
    """The name Slack gives in a users.info user (display name, else real name), or None."""
    if not user or user.get("deleted"):
        return None
    found = user.get("profile") or {}
    name = found.get("display_name") or found.get("real_name") or user.get("real_name") or user.get("name")
    return name[:120] if name else None


RETRY_AFTER = 3600  # seconds before the scheduled run asks Slack again about someone it would not describe


def look_up_names(deps, client: WebClient, *, user_id: str | None = None, case_id: int | None = None,
                  limit: int = 20, not_before: dict[str, float] | None = None) -> int:
    """Look up members whose name is still their Slack id (one person's, when `user_id` is given; one case's,
    when `case_id` is) and record the names Slack gives; no session is held while Slack answers. Returns how
    many were named. `not_before` (the scheduled run's own) holds back, for RETRY_AFTER, people Slack would not
    describe last time (someone from another organisation may be invisible to users.info for good), so each run
    does not ask about them again."""
    from models import names
    from models.audit import Actor

    now = time.monotonic()
    with deps.reading() as session:
        candidates = names.needing_look_up(session, user_id=user_id, case_id=case_id, limit=limit * 10)
    wanted = [(m.id, m.slack_user_id) for m in candidates
              if not_before is None or not_before.get(m.slack_user_id, 0) <= now][:limit]
    if not wanted:
        return 0
    found: dict[str, str | None] = {}
    for _, user in wanted:
        if user not in found:
            found[user] = slack_name(profile(client, user))
            if not_before is not None:
                if found[user]:
                    not_before.pop(user, None)
                else:
                    not_before[user] = now + RETRY_AFTER
    named = 0
    with deps.session() as session:
        for member_id, user in wanted:
            if found.get(user) and names.set_looked_up(session, member_id=member_id, name=found[user],
                                                       actor=Actor.app()):
                named += 1
    if named:
        log.info("names looked up: %s", named)
    return named


class LookUpOnAction(Middleware):
    """Bolt middleware: after anyone's request is answered, a name of theirs still unknown is looked up again."""

    def __init__(self, deps, client: WebClient):
        self.deps, self.client = deps, client

    def process(self, *, req, resp, next):
        user = req.context.get("user_id")
        if user:
            self.deps.later(look_up_names, self.deps, self.client, user_id=user)
        return next()
