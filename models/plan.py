"""The Signs of Safety plan: danger statements, safety goals and bottom lines."""

from __future__ import annotations

import re

from sqlmodel import Session, col, select

from models import audit
from models.audit import Actor
from models.cases import DomainError
from models.db import change_once
from models.tables import PlanItem, PlanItemKind
from models.types import utcnow

KIND_TITLES = {
    PlanItemKind.DANGER: "What we are worried will happen (danger statements)",
    PlanItemKind.GOAL: "What needs to be true for the children to be safe (safety goals)",
    PlanItemKind.BOTTOM_LINE: "What must happen, whatever else (bottom lines)",
}
MAX_ITEM_CHARS = 1500
MAX_ITEMS_PER_KIND = 15


def split_items(text: str) -> list[str]:
    """Items are separated by a blank line, so one statement can run over several lines."""
    parts = [re.sub(r"[ \t]+\n", "\n", part).strip() for part in re.split(r"\n\s*\n", text or "")]
    return [part for part in parts if part]


def items(session: Session, case_id: int, kind: str | None = None) -> list[PlanItem]:
    query = select(PlanItem).where(PlanItem.case_id == case_id, PlanItem.removed_at.is_(None))  # type: ignore[union-attr]
    if kind:
        query = query.where(PlanItem.kind == kind)
    return list(session.exec(query.order_by(PlanItem.kind, PlanItem.position, PlanItem.id)))


def check_items(kind: str, texts: list[str]) -> None:
    if len(texts) > MAX_ITEMS_PER_KIND:
        raise DomainError(f"Keep to {MAX_ITEMS_PER_KIND} or fewer here; the plan is easier to follow that way.",
                          field=kind)
    for text in texts:
        if len(text) > MAX_ITEM_CHARS:
            raise DomainError(f"Each statement must be under {MAX_ITEM_CHARS} characters.", field=kind)


def replace_items(session: Session, *, case_id: int, kind: str, texts: list[str], actor: Actor) -> bool:
    """Make the live items of one kind match `texts`; unchanged items keep their identity.

    Returns True when anything changed. Removed items are kept (marked removed) so actions and
    scaling questions that served them still read correctly.
    """
    check_items(kind, texts)
    current = items(session, case_id, kind)
    by_text: dict[str, list[PlanItem]] = {}
    for item in current:
        by_text.setdefault(item.text, []).append(item)
    changed = False
    kept: set[int] = set()
    now = utcnow()
    for position, text in enumerate(texts):
        matches = by_text.get(text)
        if matches:
            item = matches.pop(0)
            kept.add(item.id)
            if item.position != position:
                item.position = position
                item.updated_at = now
                session.add(item)
            continue
        item = PlanItem(case_id=case_id, kind=kind, text=text, position=position)
        session.add(item)
        session.flush()
        kept.add(item.id)
        changed = True
        audit.record(session, actor=actor, action="plan_item.added", record_type="plan_item", record_id=item.id,
                     case_id=case_id)
    for item in current:
        if item.id not in kept:
            # Conditional: of two people editing the plan at once, one removes the item (and records it).
            if not change_once(session, PlanItem, item.id, col(PlanItem.removed_at).is_(None), removed_at=now):
                continue
            changed = True
            audit.record(session, actor=actor, action="plan_item.removed", record_type="plan_item",
                         record_id=item.id, case_id=case_id)
    return changed
