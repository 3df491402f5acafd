"""A local stand-in for the Slack Web API, for tests and for `coregroup demo` (Slack without a workspace).

A real HTTP server on 127.0.0.1 (ephemeral port) that the app reaches through
``SLACK_API_URL`` (``WebClient(base_url=standin.url)``). It records every call and
answers the way Slack does, errors included: HTTP 200 with ``ok: false`` for API
errors, HTTP 429 + ``Retry-After`` for rate limits, and Block Kit validation that
mirrors Slack's ``invalid_blocks`` / ``invalid_arguments`` answers.

Paths served:
    /api/<method>           Web API methods (GET query and/or POST form or JSON body)
    /actions/<...>          response URLs handed out by ``response_url()``
    /upload/v1/<file_id>    upload URLs handed out by ``files.getUploadURLExternal``

Simplifications (documented so tests do not rely on more than there is):
    * The bot must be a member of a channel to post, archive, read history or pin.
    * Users of another team (Slack Connect) are invisible to ``users.info`` and
      ``conversations.open`` -> ``user_not_found`` unless added with ``visible=True``
      or once they share a channel with the bot (e.g. after ``accept_shared_invite``).
      ``users.lookupByEmail`` only ever finds users of ``TEAM``.
    * DMs are 1:1 only; multi-person DMs are not modelled.
    * A call delayed by ``delay_next`` is still carried out after the delay, even if
      the client has given up, as Slack would.
"""

from bot.standin.blocks import (
    MAX_MESSAGE_BLOCKS,
    MAX_MESSAGE_BLOCKS_CHARS,
    MAX_TEXT,
    MAX_VIEW_BLOCKS,
    block_errors,
    blocks_too_long,
    view_errors,
)
from bot.standin.records import Call, Channel, SlackError, UploadedFile
from bot.standin.server import SlackStandIn

__all__ = ["MAX_MESSAGE_BLOCKS", "MAX_MESSAGE_BLOCKS_CHARS", "MAX_TEXT", "MAX_VIEW_BLOCKS", "Call", "Channel",
           "SlackError", "SlackStandIn", "UploadedFile", "block_errors", "blocks_too_long", "view_errors"]
