"""The App Home tab, drawn for the person looking: refreshed when they open it and after a change."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access
from handlers.blocks import home as home_blocks
from handlers.deps import Deps
from handlers.ids import Action
from models import home

log = logging.getLogger(__name__)


def publish_home(deps: Deps, client: WebClient, *, team_id: str | None, user_id: str | None, page: int = 0) -> None:
    """Draw the person's App Home. Failures are logged, never raised: the home tab is a convenience."""
    if not user_id:
        return
    with deps.session() as session:
        data = home.for_person(session, team_id=team_id or "", user_id=user_id, now=deps.now())
    view = home_blocks.home_view(data, today=deps.today(), tz=deps.tz, page=page)
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        log.warning("could not publish the home tab for %s: %s", user_id, error.response.get("error"))


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

    @app.action(Action.HOME_PAGE)
    def paged(ack, body, client):
        ack()
        actor = access.actor_of(body)
        page = access.int_or_none(access.button_value(body).get("p")) or 0
        publish_home(deps, client, team_id=actor.team_id, user_id=actor.user_id, page=page)
