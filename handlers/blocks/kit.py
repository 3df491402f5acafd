"""Small builders over slack_sdk's Block Kit models, so every block is validated as it is built.

User text must go through `esc()` before it is put in mrkdwn: Slack reads `<!channel>`, `<@U…>` and
`<http://x|y>` in mrkdwn as mentions and links, and `&`, `<`, `>` are the characters that make them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import date, time

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    NumberInputElement,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    TimePickerElement,
    UserMultiSelectElement,
    UserSelectElement,
)

SECTION_LIMIT = 3000
MESSAGE_BLOCK_LIMIT = 50
# Slack refuses a message whose blocks add up to much over 13,000 characters (`msg_blocks_too_long`; Slack
# publishes no exact figure), however few blocks it has. Messages are packed to well under that, counted as
# the blocks' JSON (`block_size`), which is more than the text alone.
MESSAGE_CHAR_LIMIT = 10_000
VIEW_BLOCK_LIMIT = 100
# A form (a modal with an input) keeps one block free for the plain-language note (handlers/plain.py), which is
# put at its top when it comes back with suggestions: so a form that fits never loses an input to that note.
FORM_BLOCK_LIMIT = VIEW_BLOCK_LIMIT - 1
FALLBACK_LIMIT = 3000


def esc(text: str | None) -> str:
    """Escape user text for mrkdwn so it cannot mention, notify or link."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def split_text(text: str, limit: int = SECTION_LIMIT - 100) -> list[str]:
    """Split long text at line breaks (or spaces) into pieces that each fit one section."""
    pieces: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n ")
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def block_size(block: dict) -> int:
    """What a block counts for against Slack's limit on a message's size: the characters of its JSON."""
    return len(json.dumps(block, ensure_ascii=False))


def split_messages(blocks: Sequence[dict], *, max_blocks: int = MESSAGE_BLOCK_LIMIT,
                   max_chars: int = MESSAGE_CHAR_LIMIT) -> list[list[dict]]:
    """Blocks in order, grouped into message-sized parts (the first message, then its continuations in the
    thread): each holds at most `max_blocks` blocks and at most `max_chars` characters of blocks, except that
    a single block larger than that has a part to itself. Nothing is cut or dropped; always at least one part.
    """
    parts: list[list[dict]] = [[]]
    used = 0
    for block in blocks:
        size = block_size(block)
        if parts[-1] and (len(parts[-1]) >= max_blocks or used + size > max_chars):
            parts.append([])
            used = 0
        parts[-1].append(block)
        used += size
    return parts


def header(text: str) -> dict:
    return HeaderBlock(text=PlainTextObject(text=clip(text, 150))).to_dict()


def section(text: str, *, accessory: dict | None = None, block_id: str | None = None) -> dict:
    """One mrkdwn section. The caller has escaped any user text in `text`. (Built as a dict, as slack_sdk's
    SectionBlock would build it: tests/test_kit.py; the models re-check everything on every call.)"""
    result: dict = {"text": {"text": clip(text, SECTION_LIMIT), "type": "mrkdwn"}, "type": "section"}
    if block_id is not None:
        _check(len(block_id) <= 255, "block_id cannot exceed 255 characters")
        result["block_id"] = block_id
    if accessory:
        result["accessory"] = accessory
    return result


def sections(text: str) -> list[dict]:
    """As many sections as long text needs, so nothing is cut off."""
    return [section(piece) for piece in split_text(text)]


def fields(pairs: Sequence[tuple[str, str]]) -> dict:
    """A section of up to ten short label/value fields (values escaped by the caller)."""
    texts = [MarkdownTextObject(text=clip(f"*{label}*\n{value}", 2000)) for label, value in pairs[:10]]
    return SectionBlock(fields=texts).to_dict()


def context(text: str) -> dict:
    return {"elements": [{"text": clip(text, 3000), "type": "mrkdwn"}], "type": "context"}


def divider() -> dict:
    return DividerBlock().to_dict()


def button(text: str, action_id: str, value: str | dict | None = None, *, style: str | None = None,
           confirm: dict | None = None) -> dict:
    if isinstance(value, dict):
        value = json.dumps(value, separators=(",", ":"))
    element = ButtonElement(text=clip(text, 75), action_id=action_id, value=value, style=style)
    result = element.to_dict()
    if confirm:
        result["confirm"] = confirm
    return result


def confirm_dialog(title: str, text: str, confirm: str, deny: str = "Cancel") -> dict:
    return {
        "title": {"type": "plain_text", "text": clip(title, 100)},
        "text": {"type": "plain_text", "text": clip(text, 300)},
        "confirm": {"type": "plain_text", "text": clip(confirm, 30)},
        "deny": {"type": "plain_text", "text": clip(deny, 30)},
    }


def actions(*elements: dict, block_id: str | None = None) -> dict:
    block = ActionsBlock(elements=list(elements)[:25], block_id=block_id).to_dict()
    return block


def option(text: str, value: str, description: str | None = None) -> Option:
    return Option(text=PlainTextObject(text=clip(text, 75)), value=value,
                  description=PlainTextObject(text=clip(description, 75)) if description else None)


def plain_input(action_id: str, *, multiline: bool = False, initial: str | None = None,
                max_length: int | None = None, placeholder: str | None = None) -> dict:
    return PlainTextInputElement(
        action_id=action_id,
        multiline=multiline,
        initial_value=initial or None,
        max_length=max_length,
        placeholder=PlainTextObject(text=clip(placeholder, 150)) if placeholder else None,
    ).to_dict()


def number_input(action_id: str, *, initial: int | None = None, minimum: int | None = None,
                 maximum: int | None = None) -> dict:
    return NumberInputElement(
        action_id=action_id,
        is_decimal_allowed=False,
        initial_value=str(initial) if initial is not None else None,
        min_value=str(minimum) if minimum is not None else None,
        max_value=str(maximum) if maximum is not None else None,
    ).to_dict()


def date_input(action_id: str, *, initial: date | None = None) -> dict:
    return DatePickerElement(action_id=action_id, initial_date=initial.isoformat() if initial else None).to_dict()


def time_input(action_id: str, *, initial: time | None = None) -> dict:
    return TimePickerElement(action_id=action_id,
                             initial_time=initial.strftime("%H:%M") if initial else None).to_dict()


# Menus, input blocks and modals are built as plain dicts, with the same checks and the same result as
# slack_sdk's models (tests/test_kit.py compares them): the models' to_dict() re-validates every nested
# object on every call, which made building a form with a few menus cost several milliseconds.


def _plain(text: str) -> dict:
    return {"text": text, "type": "plain_text"}


def _check(ok: bool, problem: str) -> None:
    if not ok:
        raise SlackObjectFormationError(problem)


def _option_dict(text: str, value: str) -> dict:
    _check(len(value) <= 150, "value attribute cannot exceed 150 characters")
    return {"text": _plain(clip(text, 75)), "value": value}


def _options(choices: Iterable[tuple[str, str]], limit: int) -> list[dict]:
    return [_option_dict(text, value) for text, value in choices][:limit]


def _action_id(action_id: str) -> str:
    _check(len(action_id) <= 255, "action_id attribute cannot exceed 255 characters")
    return action_id


def select(action_id: str, choices: Iterable[tuple[str, str]], *, initial: str | None = None,
           placeholder: str = "Choose") -> dict:
    options = _options(choices, 100)
    _check(len(placeholder) <= 150, "placeholder attribute cannot exceed 150 characters")
    element = {"action_id": _action_id(action_id), "options": options, "placeholder": _plain(placeholder),
               "type": "static_select"}
    chosen = next((item for item in options if item["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def radio(action_id: str, choices: Iterable[tuple[str, str]], *, initial: str | None = None) -> dict:
    options = _options(choices, 10)
    element = {"action_id": _action_id(action_id), "options": options, "type": "radio_buttons"}
    chosen = next((item for item in options if item["value"] == initial), None)
    if chosen is not None:
        element["initial_option"] = chosen
    return element


def checkboxes(action_id: str, choices: Iterable[tuple[str, str]], *, initial: Iterable[str] = ()) -> dict:
    options = _options(choices, 10)
    wanted = set(initial)
    element = {"action_id": _action_id(action_id), "options": options, "type": "checkboxes"}
    chosen = [item for item in options if item["value"] in wanted]
    if chosen:
        element["initial_options"] = chosen
    return element


def user_select(action_id: str, *, initial: str | None = None) -> dict:
    return UserSelectElement(action_id=action_id, initial_user=initial,
                             placeholder=PlainTextObject(text="Choose someone")).to_dict()


def users_select(action_id: str, *, initial: list[str] | None = None) -> dict:
    return UserMultiSelectElement(action_id=action_id, initial_users=initial or None,
                                  placeholder=PlainTextObject(text="Choose people")).to_dict()


def input_block(label: str, element: dict, *, block_id: str, optional: bool = False, hint: str | None = None,
                dispatch_action: bool = False) -> dict:
    """An input block around an element built here (already checked)."""
    _check(len(block_id) <= 255, "block_id cannot exceed 255 characters")
    block = {"block_id": block_id, "element": element, "label": _plain(clip(label, 2000)), "optional": optional,
             "type": "input"}
    if hint:
        block["hint"] = _plain(clip(hint, 2000))
    if dispatch_action:
        block["dispatch_action"] = True
    return block


def view_blocks(blocks: list[dict]) -> list[dict]:
    """The blocks of a modal or home tab, checked against Slack's limit of 100. A view never loses a block
    silently: more than that is a builder's mistake (its lists must be paged or capped with a line saying so),
    so it fails here, where tests see it."""
    _check(len(blocks) <= VIEW_BLOCK_LIMIT, f"blocks attribute cannot exceed {VIEW_BLOCK_LIMIT} items"
                                            f" (got {len(blocks)})")
    return blocks


def home(blocks: list[dict]) -> dict:
    """An App Home view (views.publish)."""
    return {"type": "home", "blocks": view_blocks(blocks)}


def modal(*, title: str, blocks: list[dict], callback_id: str, submit: str | None = "Save",
          close: str = "Cancel", private_metadata: dict | None = None, notify_on_close: bool = False) -> dict:
    """A modal view; private metadata is JSON of ids only and is re-checked on submit. Its blocks were built
    (and checked) by the functions above."""
    metadata = json.dumps(private_metadata or {}, separators=(",", ":"))
    _check(len(metadata) <= 3000, "private_metadata attribute cannot exceed 3000 characters")
    _check(len(callback_id) <= 255, "callback_id attribute cannot exceed 255 characters")
    if any(block.get("type") == "input" for block in blocks):
        _check(len(blocks) <= FORM_BLOCK_LIMIT, f"a form cannot have more than {FORM_BLOCK_LIMIT} blocks: one is"
                                                " kept for the plain-language note")
    view = {"blocks": view_blocks(blocks), "callback_id": callback_id, "close": _plain(clip(close, 24)),
            "private_metadata": metadata, "title": _plain(clip(title, 24)), "type": "modal"}
    if submit:
        view["submit"] = _plain(clip(submit, 24))
    if notify_on_close:
        view["notify_on_close"] = True
    return view


def message(text: str, blocks: list[dict]) -> dict:
    """chat.postMessage arguments: fallback text (escaped by the caller) and blocks."""
    return {"text": clip(text, FALLBACK_LIMIT), "blocks": blocks}
