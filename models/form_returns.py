"""Where a form opened from a list redraws the list after it is saved (`FormReturn`).

The target is taken from the request Slack sent when the person clicked (the list's view id, or the
response URL of the message the list is on) and kept here, keyed by the id Slack gave the form it opened
and by the person it was opened for. On submission it is found by the submitted view's id (from Slack's
request, never from the form's private metadata) and the submitter, and used once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlmodel import Session, col

from models.audit import Actor
from models.tables import FormReturn

KEEP = timedelta(days=1)  # a form left open longer than this redraws nothing when it is saved


def remember(session: Session, *, view_id: str, actor: Actor, list_view_id: str | None, response_url: str | None,
             now: datetime) -> None:
    if not view_id or not (list_view_id or response_url):
        return
    session.exec(delete(FormReturn).where(col(FormReturn.created_at) < now - KEEP))
    session.merge(FormReturn(view_id=view_id[:64], team_id=actor.team_id or "", user_id=actor.user_id or "",
                             list_view_id=list_view_id, response_url=response_url, created_at=now))


def take(session: Session, *, view_id: str | None, actor: Actor) -> FormReturn | None:
    """The redraw target of this submitted form, for this person only; gone once taken."""
    if not view_id:
        return None
    found = session.get(FormReturn, view_id[:64])
    if found is None or (found.team_id, found.user_id) != (actor.team_id or "", actor.user_id or ""):
        return None
    session.delete(found)
    return found
