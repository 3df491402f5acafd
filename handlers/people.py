"""Names of Slack people, with a fallback when a profile cannot be read (people from other organisations)."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

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
