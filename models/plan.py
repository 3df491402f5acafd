"""The Signs of Safety plan: danger statements, safety goals and bottom lines."""

from __future__ import annotations

import re
from datetime import datetime

from sqlmodel import Session, col, or_, select

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
KIND_NAMES = {PlanItemKind.DANGER: "danger statement", PlanItemKind.GOAL: "safety goal",
              PlanItemKind.BOTTOM_LINE: "bottom line"}
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


# --- the plan in the record --------------------------------------------------------------------------------
# Every edit is kept: an item added has its `created_at`, an item taken out (or reworded, which is taken out and
# added again) its `removed_at`, both audited (`plan_item.added`, `plan_item.removed`), so what changed between
# two moments can always be told.


def as_it_stands(session: Session, case_id: int) -> list[dict]:
    """The live plan, in order: [{"kind", "text"}] (danger statements, safety goals, bottom lines)."""
    order = list(KIND_TITLES)
    found = items(session, case_id)
    found.sort(key=lambda i: (order.index(i.kind) if i.kind in order else len(order), i.position, i.id))
    return [{"kind": item.kind, "text": item.text} for item in found]


def changes_since(session: Session, case_id: int, since: datetime, until: datetime) -> list[dict]:
    """What was added to or taken out of the plan after `since` and up to `until`: [{"kind", "text",
    "change": "added" | "removed"}], oldest first. An item added and taken out again in between is left out."""
    rows = session.exec(select(PlanItem).where(
        PlanItem.case_id == case_id,
        or_(col(PlanItem.created_at) > since, col(PlanItem.removed_at) > since)).order_by(col(PlanItem.id)))
    changes = []
    for item in rows:
        added = since < item.created_at <= until
        removed = item.removed_at is not None and since < item.removed_at <= until
        if added and removed:
            continue
        if added:
            changes.append((item.created_at, item.id, {"kind": item.kind, "text": item.text, "change": "added"}))
        elif removed:
            changes.append((item.removed_at, item.id, {"kind": item.kind, "text": item.text, "change": "removed"}))
    return [change for _, _, change in sorted(changes, key=lambda c: (c[0], c[1]))]
