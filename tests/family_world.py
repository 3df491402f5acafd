"""Steps the family-version tests share: find the app's buttons in direct messages, prepare, approve, hand over."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from handlers.ids import Action, Block, View
from models.tables import FamilyVersion
from tests.helpers import opened_view


def buttons(messages: list[dict], action_id: str) -> list[dict]:
    """The values (parsed) of every button with this action id in these messages, oldest first."""
    found = []
    for message in messages:
        for block in message.get("blocks") or []:
            for element in block.get("elements") or []:
                if element.get("action_id") == action_id:
                    found.append(json.loads(element["value"]))
            accessory = block.get("accessory") or {}
            if accessory.get("action_id") == action_id:
                found.append(json.loads(accessory["value"]))
    return found


def dm_texts(slack, user_id: str) -> str:
    return "\n".join((m.get("text") or "") + json.dumps(m.get("blocks") or []) for m in slack.messages(user_id))


def prepare(people, slack, *, by: str = "sw", tick: tuple[str, ...] = (), edits: dict[str, str] | None = None,
            value: dict | None = None):
    """Click "Prepare the family version" (from the prompt in the person's direct messages, unless `value`), and
    save the form with `tick`ed boxes and `edits` (section key -> text). Returns the reply to the submission."""
    user = people[by]
    value = value or buttons(slack.messages(user.user_id), Action.FAMILY_PREPARE)[-1]
    user.click(Action.FAMILY_PREPARE, value, channel=user.user_id)
    view = opened_view(slack, View.FAMILY_PREPARE)
    values: dict = {f"{Block.FAMILY_SECTION}_{k}": v for k, v in (edits or {}).items()}
    if any(b.get("block_id") == Block.FAMILY_INCLUDE for b in view["blocks"]):
        values[Block.FAMILY_INCLUDE] = list(tick)
    return user.submit(view, values)


def approve(people, slack, *, by: str = "sw", value: dict | None = None):
    user = people[by]
    value = value or buttons(slack.messages(user.user_id), Action.FAMILY_APPROVE)[-1]
    return user.click(Action.FAMILY_APPROVE, value, channel=user.user_id)


def prepare_and_approve(people, slack, *, by: str = "sw", tick: tuple[str, ...] = (),
                        edits: dict[str, str] | None = None) -> FamilyVersion:
    reply = prepare(people, slack, by=by, tick=tick, edits=edits)
    assert reply.status == 200 and reply.body == "", reply.body
    approve(people, slack, by=by)
    with Session(people[by].app.engine) as session:
        return session.exec(select(FamilyVersion).order_by(FamilyVersion.id.desc())).first()
