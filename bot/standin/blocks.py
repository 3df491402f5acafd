"""Block Kit validation as Slack answers it (`invalid_blocks`, `invalid_arguments`, `msg_blocks_too_long`), at
module level so tests can check blocks without a server."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block, BlockElement
from slack_sdk.models.views import View

from bot.standin.records import SlackError

# --------------------------------------------------------------------------------------
# Block Kit validation (module level so other tests can reuse it)
# --------------------------------------------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
# Slack also refuses a message whose blocks are too large in total, however few they are, with
# ``msg_blocks_too_long`` (listed among chat.postMessage's errors, with no figure). Reports put the limit
# near 13,000 characters (github.com/slackapi/bolt-js/issues/2509); the stand-in refuses blocks whose JSON
# is over 13,000 characters, on the strict side of what Slack has been seen to accept.
MAX_MESSAGE_BLOCKS_CHARS = 13_000


def blocks_too_long(blocks: list) -> bool:
    """True when Slack would refuse these (otherwise valid) blocks as ``msg_blocks_too_long``."""
    return len(json.dumps(blocks, ensure_ascii=False)) > MAX_MESSAGE_BLOCKS_CHARS


def _subclass_types(cls: type) -> set[str]:
    found: set[str] = set()
    for sub in cls.__subclasses__():
        if isinstance(getattr(sub, "type", None), str):
            found.add(sub.type)
        found |= _subclass_types(sub)
    return found


BLOCK_TYPES = _subclass_types(Block)
ELEMENT_TYPES = _subclass_types(BlockElement) | {"plain_text", "mrkdwn"}
# Blocks whose slack_sdk attribute list is complete enough to reject unknown keys, as Slack does.
_STRICT_KEYS = {"section", "header", "divider", "actions", "context", "input"}


def _text_of(obj: Any) -> str:
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _too_long(value: str, limit: int, pointer: str) -> list[str]:
    if len(value) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{pointer}]"]
    return []


def _elements(block: dict, here: str) -> list[tuple[str, Any]]:
    """The (pointer, element) pairs a block holds."""
    found: list[tuple[str, Any]] = []
    if "accessory" in block:
        found.append((f"{here}/accessory", block["accessory"]))
    if block["type"] == "input" and "element" in block:
        found.append((f"{here}/element", block["element"]))
    if block["type"] in ("actions", "context") and isinstance(block.get("elements"), list):
        found += [(f"{here}/elements/{j}", el) for j, el in enumerate(block["elements"])]
    return found


def _own_block_errors(block: Any, here: str) -> list[str]:
    """Rules Slack enforces that we check directly, with Slack-style messages."""
    if not isinstance(block, dict) or "type" not in block:
        return [f"missing required field: type [json-pointer:{here}]"]
    btype = block["type"]
    if btype not in BLOCK_TYPES:
        return [f"unsupported type: {btype} [json-pointer:{here}]"]
    errors: list[str] = []
    if block.get("block_id") is not None:
        errors += _too_long(str(block["block_id"]), 255, f"{here}/block_id")
    if btype == "section":
        errors += _too_long(_text_of(block.get("text")), 3000, f"{here}/text/text")
    if btype == "header":
        errors += _too_long(_text_of(block.get("text")), 150, f"{here}/text/text")
    action_ids: set[str] = set()
    for pointer, element in _elements(block, here):
        if not isinstance(element, dict) or element.get("type") not in ELEMENT_TYPES:
            errors.append(f"unsupported element type [json-pointer:{pointer}]")
            continue
        action_id = element.get("action_id")
        if action_id is not None:
            if action_id in action_ids:
                errors.append(f"duplicate action_id: {action_id} [json-pointer:{pointer}/action_id]")
            action_ids.add(action_id)
        if element["type"] == "button" and element.get("value") is not None:
            errors += _too_long(str(element["value"]), 2000, f"{pointer}/value")
    return errors


def _sdk_block_errors(block: dict, here: str) -> list[str]:
    """Whatever slack_sdk's own model validators reject (deep, via to_dict)."""
    try:
        parsed = Block.parse(block)
        if parsed is None:
            return [f"unsupported type: {block.get('type')} [json-pointer:{here}]"]
        if block["type"] in _STRICT_KEYS:
            extra = sorted(set(block) - set(parsed.attributes))
            if extra:
                return [f"invalid additional property: {name} [json-pointer:{here}]" for name in extra]
        parsed.validate_json()
        parsed.to_dict()
    except SlackObjectFormationError as exc:
        return [f"{exc} [json-pointer:{here}]"]
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        return [f"invalid block: {exc} [json-pointer:{here}]"]
    return []


def block_errors(blocks: Any, *, max_blocks: int = MAX_MESSAGE_BLOCKS, pointer: str = "/blocks") -> list[str]:
    """Slack-style error strings for a list of blocks; empty when valid."""
    if not isinstance(blocks, list):
        return [f"must be an array [json-pointer:{pointer}]"]
    errors: list[str] = []
    if len(blocks) > max_blocks:
        errors.append(f"no more than {max_blocks} items allowed [json-pointer:{pointer}]")
    block_ids: set[str] = set()
    for i, block in enumerate(blocks):
        here = f"{pointer}/{i}"
        errors += _own_block_errors(block, here) or _sdk_block_errors(block, here)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in block_ids:
                errors.append(f"duplicate block_id: {block_id} [json-pointer:{here}/block_id]")
            block_ids.add(block_id)
    return errors


def view_errors(view: Any) -> list[str]:
    """Slack-style error strings for a modal or home tab view; empty when valid."""
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    errors: list[str] = []
    vtype = view.get("type")
    if vtype not in ("modal", "home"):
        errors.append("must be one of: modal, home [json-pointer:/view/type]")
    if vtype == "modal" and not view.get("title"):
        errors.append("missing required field: title [json-pointer:/view]")
    for key in ("title", "submit", "close"):
        if view.get(key) is not None:
            errors += _too_long(_text_of(view[key]), 24, f"/view/{key}/text")
    if vtype == "home" and (view.get("submit") or view.get("close")):
        errors.append("home tabs cannot have submit or close [json-pointer:/view]")
    errors += _too_long(str(view.get("private_metadata") or ""), 3000, "/view/private_metadata")
    errors += _too_long(str(view.get("callback_id") or ""), 255, "/view/callback_id")
    errors += _too_long(str(view.get("external_id") or ""), 255, "/view/external_id")
    if "blocks" not in view:
        errors.append("missing required field: blocks [json-pointer:/view]")
    else:
        errors += block_errors(view["blocks"], max_blocks=MAX_VIEW_BLOCKS, pointer="/view/blocks")
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in view["blocks"] or [])
        if vtype == "modal" and has_input and not view.get("submit"):
            errors.append("submit is required when an input block is present [json-pointer:/view/submit]")
    if not errors:
        try:
            View(**view).validate_json()
        except SlackObjectFormationError as exc:
            errors.append(f"{exc} [json-pointer:/view]")
        except (TypeError, ValueError) as exc:
            errors.append(f"invalid view: {exc} [json-pointer:/view]")
    return errors


def _invalid_blocks(errors: list[str]) -> SlackError:
    return SlackError("invalid_blocks", errors=errors, response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})


def _invalid_arguments(errors: list[str]) -> SlackError:
    return SlackError("invalid_arguments", response_metadata={"messages": [f"[ERROR] {e}" for e in errors]})
