"""Builders for `/coregroup plan`: the plan as read, and the form to edit it."""

from __future__ import annotations

from collections.abc import Sequence

from handlers.blocks import kit
from handlers.ids import Action, Block, View, input_id
from models.plan import KIND_TITLES, MAX_ITEM_CHARS, MAX_ITEMS_PER_KIND
from models.tables import PlanItem, PlanItemKind

KIND_BLOCKS = {PlanItemKind.DANGER: Block.DANGER, PlanItemKind.GOAL: Block.GOAL,
               PlanItemKind.BOTTOM_LINE: Block.BOTTOM_LINE}


def plan_text(items: Sequence[PlanItem]) -> str:
    lines: list[str] = []
    for kind, title in KIND_TITLES.items():
        mine = [item for item in items if item.kind == kind]
        lines.append(f"*{title}*")
        if mine:
            lines.extend(f"{n}. {kit.esc(item.text)}" for n, item in enumerate(mine, 1))
        else:
            lines.append("_Not written yet._")
        lines.append("")
    return "\n".join(lines).strip()


def plan_blocks(*, case_id: int, reference: str, items: Sequence[PlanItem], editable: bool = True) -> list[dict]:
    blocks = [kit.header(f"The plan for {reference}")]
    blocks.extend(kit.sections(plan_text(items)))
    if editable:
        blocks.append(kit.actions(kit.button("Edit the plan", Action.PLAN_EDIT, {"c": case_id})))
    return blocks


def plan_modal(*, case_id: int, items: Sequence[PlanItem]) -> dict:
    blocks = [kit.section("Write each statement as its own paragraph, with a blank line between them. Use"
                          " words the family would use.")]
    for kind, title in KIND_TITLES.items():
        current = "\n\n".join(item.text for item in items if item.kind == kind)
        blocks.append(kit.input_block(
            title,
            kit.plain_input(input_id(KIND_BLOCKS[kind]), multiline=True, initial=current[:3000],
                            max_length=3000),
            block_id=KIND_BLOCKS[kind], optional=True,
            hint=f"Up to {MAX_ITEMS_PER_KIND} statements, each under {MAX_ITEM_CHARS} characters.",
        ))
    return kit.modal(title="Edit the plan", blocks=blocks, callback_id=View.PLAN_EDIT,
                     private_metadata={"c": case_id})
