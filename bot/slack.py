"""The one way the app builds a Slack Web API client."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.settings import Settings


def retry_handlers() -> list:
    """Retry connection errors, 5xx answers and rate limits (honouring Retry-After)."""
    return [
        ConnectionErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
    ]


def make_client(settings: Settings, *, timeout: int = 10) -> WebClient:
    """A WebClient for SLACK_API_URL (Slack, GovSlack or a local stand-in) with retries."""
    return WebClient(
        token=settings.bot_token or None,
        base_url=settings.slack_api_url,
        timeout=timeout,
        retry_handlers=retry_handlers(),
    )
