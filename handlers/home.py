"""The App Home tab, drawn for the person looking: refreshed when they open it and after a change."""

from __future__ import annotations

import logging
import re

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, oversight
from handlers.blocks import home as home_blocks
from handlers.blocks import kit
from handlers.deps import Deps
from handlers.ids import Action
from models import home

log = logging.getLogger(__name__)


def publish_home(deps: Deps, client: WebClient, *, team_id: str | None, user_id: str | None, page: int = 0,
                 pages: dict[str, int] | None = None) -> None:
    """Draw the person's App Home (`page` is the actions' page, `pages` every list's: blocks/home.py).
    Failures are logged, never raised: the home tab is a convenience."""
    if not user_id:
        return
    with deps.session() as session:
        data = home.for_person(session, team_id=team_id or "", user_id=user_id, now=deps.now())
    view = home_blocks.home_view(data, today=deps.today(), tz=deps.tz, page=page, pages=pages)
    view = with_oversight(deps, client, view, team_id=team_id or "", user_id=user_id)
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        log.warning("could not publish the home tab for %s: %s", user_id, error.response.get("error"))


def with_oversight(deps: Deps, client: WebClient, view: dict, *, team_id: str, user_id: str) -> dict:
    """The view with the Oversight section (handlers/oversight.py) added for someone with an oversight role.
    A failure there is logged and leaves the rest of the tab as it was."""
    try:
        section = oversight.section_for(deps, client, team_id=team_id, user_id=user_id,
                                        room=kit.VIEW_BLOCK_LIMIT - len(view["blocks"]))
    except Exception as exc:  # the person's own lists must still be shown
        log.error("oversight section for %s failed: %s", user_id, type(exc).__name__)
        return view
    return dict(view, blocks=view["blocks"] + section) if section else view


def refresh_home_later(deps: Deps, client: WebClient, team_id: str | None, user_id: str | None) -> None:
    """After a change that alters what someone's App Home shows (they sent an update or apologies, an action
    of theirs was made or done), redraw it once Slack has had its answer, so the tab is right when they next
    look. Call it after the change is committed; a failure is logged, never raised."""
    if user_id:
        deps.later(publish_home, deps, client, team_id=team_id, user_id=user_id)


def refresh_if_home(deps: Deps, client: WebClient, body: dict) -> None:
    """After a change made from the App Home, redraw it so it shows the change."""
    view = body.get("view") or {}
    if view.get("type") == "home":
        actor = access.actor_of(body)
        publish_home(deps, client, team_id=actor.team_id, user_id=actor.user_id)


def register(app: App, deps: Deps) -> None:
    @app.event("app_home_opened")
    def opened(body, event, client):
        if event.get("tab") != "home":
            return
        actor = access.actor_of(body)
        publish_home(deps, client, team_id=actor.team_id, user_id=event.get("user"))

    @app.action(re.compile(rf"^(?:{re.escape(Action.HOME_PAGE)}|{re.escape(Action.HOME_PAGE_PREVIOUS)})$"))
    def paged(ack, body, client):
        ack()
        actor = access.actor_of(body)
        value = access.button_value(body)
        pages = {key: access.int_or_none(value.get(key)) or 0 for key in home_blocks.PAGE_KEYS.values()}
        publish_home(deps, client, team_id=actor.team_id, user_id=actor.user_id, page=pages["p"], pages=pages)
