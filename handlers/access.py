"""Who is asking, and may they? Every entry point that touches a case goes through here.

Private metadata and button values only say which record is meant; whether the person may act on
it is decided again from the database on every request.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlmodel import Session

from handlers.blocks import kit
from models import cases
from models.audit import Actor
from models.tables import Case, CaseStatus, Member

log = logging.getLogger(__name__)

NOT_A_MEMBER = (
    "Only members of this core group can do that. If you should be part of it, ask the lead social"
    " worker to add you with `/coregroup members`."
)
CASE_CLOSED = "This case is closed. Its records are kept, but nothing more can be added."
NO_CASE = "I could not find that case. It may have been closed or removed."


def actor_of(body: dict) -> Actor:
    """Team and user id of whoever sent a slash command, click, submission, shortcut or event."""
    user = body.get("user")
    if isinstance(user, dict):
        return Actor(team_id=user.get("team_id") or _team_of(body), user_id=user.get("id"))
    if "user_id" in body:
        return Actor(team_id=body.get("user_team_id") or body.get("team_id"), user_id=body.get("user_id"))
    event = body.get("event") or {}
    return Actor(team_id=event.get("user_team") or event.get("team") or _team_of(body), user_id=event.get("user"))


def _team_of(body: dict) -> str | None:
    team = body.get("team")
    if isinstance(team, dict):
        return team.get("id")
    return body.get("team_id") or team


def channel_of(body: dict) -> str | None:
    if body.get("channel_id"):
        return body["channel_id"]
    channel = body.get("channel")
    if isinstance(channel, dict):
        return channel.get("id")
    container = body.get("container") or {}
    return container.get("channel_id")


def metadata(body: dict) -> dict[str, Any]:
    """The private metadata of the submitted view, or {} if it is missing or not ours."""
    raw = (body.get("view") or {}).get("private_metadata") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def button_value(body: dict) -> dict[str, Any]:
    """The JSON value of the clicked button (or selected option), or {}."""
    actions = body.get("actions") or [{}]
    action = actions[0]
    raw = action.get("value") or (action.get("selected_option") or {}).get("value") or "{}"
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def int_or_none(value: Any) -> int | None:
    """A whole number that fits a database id, or None (ids come from metadata and buttons, which can be forged)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def member_for(session: Session, case_id: Any, actor: Actor, *, allow_closed: bool = False
               ) -> tuple[Case | None, Member | None, str | None]:
    """Return (case, member, None) if the actor may act on the case, else (.., .., why not)."""
    case_id = int_or_none(case_id)
    case, member = cases.case_and_member(session, case_id, actor.team_id, actor.user_id) if case_id is not None \
        else (None, None)
    return case, member, _why_not(case is not None, member is not None, case.status if case else None, allow_closed)


def _why_not(case_found: bool, member_found: bool, case_status: str | None, allow_closed: bool) -> str | None:
    if not case_found:
        return NO_CASE
    if not member_found:
        return NOT_A_MEMBER
    if case_status != CaseStatus.OPEN and not allow_closed:
        return CASE_CLOSED
    return None


def responded(respond: Any, **kwargs: Any) -> bool:
    """Reply through the response URL; False when Slack did not take it (the caller then uses the Web API)."""
    try:
        sent = respond(**kwargs)
    except (SlackClientError, OSError) as error:
        log.info("response URL failed: %s", type(error).__name__)
        return False
    status = getattr(sent, "status_code", 200)
    if status != 200:
        log.info("response URL answered %s", status)
    return status == 200


def tell(client: WebClient, body: dict, text: str, respond: Any = None) -> None:
    """Tell only the person who acted: through the response URL, an ephemeral message, or a DM."""
    safe = text
    try:
        if respond is not None and (body.get("response_url") or body.get("response_urls")) and responded(
                respond, text=safe, response_type="ephemeral", replace_original=False):
            return
        actor = actor_of(body)
        channel = channel_of(body)
        if channel:
            client.chat_postEphemeral(channel=channel, user=actor.user_id, text=safe)
            return
        client.chat_postMessage(channel=actor.user_id, text=safe)
    except SlackApiError as error:
        log.warning("could not tell user: %s", error.response.get("error"))
    except (SlackClientError, OSError) as error:
        log.warning("could not tell user: %s", type(error).__name__)


NOT_CONFIRMED = ("Saved. Slack did not confirm that the message reached the case channel, so please check that the"
                 " core group can see it there.")


def tell_in_channel(client: WebClient, channel: str | None, user_id: str | None, text: str) -> None:
    """Tell one person privately in a channel (after a form has closed), falling back to a direct message.
    A failure is logged, not raised: this is already the fallback."""
    try:
        if channel:
            client.chat_postEphemeral(channel=channel, user=user_id, text=text)
        else:
            client.chat_postMessage(channel=user_id, text=text)
    except SlackApiError as error:
        log.warning("could not tell %s: %s", user_id, error.response.get("error"))
    except (SlackClientError, OSError) as error:
        log.warning("could not tell %s: %s", user_id, type(error).__name__)


def notice_view(title: str, text: str) -> dict:
    """A modal that replaces the one submitted, to explain why nothing was saved."""
    return kit.modal(title=title, blocks=[kit.section(text)], callback_id="notice", submit=None, close="Close")


def check_click(deps, body: dict, client: WebClient, case_id: Any, respond: Any = None
                ) -> tuple[Case, Member] | None:
    """For a button or menu: the case and the clicking member, or None after telling them why not."""
    with deps.reading() as session:
        case, member, why_not = member_for(session, case_id, actor_of(body))
    if why_not:
        log.info("refused %s for %s: %s", (body.get("actions") or [{}])[0].get("action_id"),
                 actor_of(body).user_id, "not a member" if why_not == NOT_A_MEMBER else "case closed or missing")
        tell(client, body, why_not, respond)
        return None
    return case, member


def check_submission(deps, ack: Any, body: dict, *, title: str = "CoreGroup") -> tuple[Case, Member] | None:
    """For a modal: the case (from metadata, re-checked) and the submitting member, or None after
    replacing the modal with the reason. Nothing is stored for a refused submission."""
    with deps.reading() as session:
        case, member, why_not = member_for(session, metadata(body).get("c"), actor_of(body))
    return None if _refused(ack, body, why_not, title) else (case, member)


def _refused(ack: Any, body: dict, why_not: str | None, title: str) -> bool:
    """Replace a refused form with the reason; False if it was not refused."""
    if why_not:
        log.info("refused view %s for %s", (body.get("view") or {}).get("callback_id"), actor_of(body).user_id)
        ack(response_action="update", view=notice_view(title, why_not))
    return bool(why_not)


def check_standing(deps, ack: Any, body: dict, *, meeting_id: Any, title: str = "CoreGroup"
                   ) -> cases.Standing | None:
    """check_submission for a form sent by many people at once (updates before a meeting): the case, the
    person's membership and the meeting's state in one statement of columns, no records. None after replacing
    the modal with the reason."""
    case_id, meeting_id = int_or_none(metadata(body).get("c")), int_or_none(meeting_id)
    actor = actor_of(body)
    found = cases.standing(deps.engine, case_id, actor.team_id, actor.user_id, meeting_id)
    why_not = _why_not(found.case_id is not None, found.member_id is not None, found.case_status, False)
    return None if _refused(ack, body, why_not, title) else found
