"""The pinned "getting started" checklist: posted and pinned when a case opens, updated (chat.update) as its
items are done. The lead social worker's reminder of what is still missing is a ledger row (models/reminders.py
`case_opened`), sent once by the dispatcher."""

from __future__ import annotations

import logging
import threading

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers.blocks import getting_started as blocks
from handlers.case_post import SLACK_FAILED
from handlers.deps import Deps
from models import audit, cases, getting_started
from models.audit import Actor

log = logging.getLogger(__name__)
_updating = threading.Lock()  # one redraw at a time, so an older state never lands after a newer one


def post_checklist(client: WebClient, deps: Deps, *, case_id: int, channel_id: str) -> str | None:
    """Post and pin the checklist in a new case channel; its ts, or None if Slack did not take it."""
    with deps.reading() as session:
        case = cases.get_case(session, case_id)
        message = blocks.checklist_message(case_id, case.reference, getting_started.checklist(session, case_id))
    try:
        ts = client.chat_postMessage(channel=channel_id, **message)["ts"]
    except SLACK_FAILED as error:
        log.warning("could not post the checklist in %s: %s", channel_id, type(error).__name__)
        return None
    try:
        client.pins_add(channel=channel_id, timestamp=ts)
    except SlackApiError as error:
        log.warning("could not pin the checklist in %s: %s", channel_id, error.response.get("error"))
    except SLACK_FAILED as error:
        log.warning("could not pin the checklist in %s: %s", channel_id, type(error).__name__)
    with deps.session() as session:
        case = cases.get_case(session, case_id)
        case.checklist_ts = ts
        session.add(case)
        audit.record(session, actor=Actor.app(), action="case.checklist_posted", record_type="case",
                     record_id=case_id, case_id=case_id)
    return ts


def refresh(deps: Deps, client: WebClient, case_id: int) -> None:
    """Redraw the checklist from the domain as it is now (after something on it may have been done)."""
    with _updating:
        with deps.reading() as session:
            case = cases.get_case(session, case_id)
            if case is None or not case.checklist_ts or not case.channel_id:
                return
            channel, ts = case.channel_id, case.checklist_ts
            message = blocks.checklist_message(case_id, case.reference, getting_started.checklist(session, case_id))
        try:
            client.chat_update(channel=channel, ts=ts, **message)
        except SlackApiError as error:
            log.warning("could not update the checklist in %s: %s", channel, error.response.get("error"))
        except SLACK_FAILED as error:
            log.warning("could not update the checklist in %s: %s", channel, type(error).__name__)


def refresh_later(deps: Deps, client: WebClient, case_id: int) -> None:
    deps.later(refresh, deps, client, case_id)
