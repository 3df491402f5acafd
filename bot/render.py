"""What a Slack message, modal or file would show a person, as plain text: for `coregroup demo`.

Headers, sections (with their fields), context lines, dividers, buttons as [Button], menus as
[Menu ▾], and form fields as "Label: ____". Slack's markup is turned back into what people read:
mentions into names, links into their labels, `&amp;` into `&`.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable

WIDTH = 100
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(channel|here|everyone)(?:\|[^>]*)?>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")

Names = Callable[[str], str]


def plain(text: str | None, name_of: Names = lambda user_id: user_id) -> str:
    """Slack mrkdwn as a person reads it."""
    if not text:
        return ""
    text = _MENTION.sub(lambda m: "@" + name_of(m.group(1)), text)
    text = _CHANNEL.sub(lambda m: "#" + (m.group(2) or name_of(m.group(1))), text)
    text = _SPECIAL.sub(lambda m: "@" + m.group(1), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _wrap(text: str, indent: str = "", more: str | None = None) -> list[str]:
    """Wrapped lines; continuation lines are indented by `more` (two spaces deeper than `indent` if not given)."""
    more = indent + "  " if more is None else more
    lines: list[str] = []
    for line in text.split("\n"):
        lines += textwrap.wrap(line, WIDTH, initial_indent=indent, subsequent_indent=more,
                               break_on_hyphens=False) or [indent.rstrip()]
    return lines


def _text(obj: object) -> str:
    return str(obj.get("text", "")) if isinstance(obj, dict) else str(obj or "")


def element(el: dict, name_of: Names) -> str:
    kind = el.get("type")
    if kind == "button":
        return f"[{_text(el.get('text'))}]"
    if kind in ("static_select", "users_select", "conversations_select", "channels_select", "external_select",
                "multi_static_select", "multi_users_select"):
        chosen = el.get("initial_option")
        label = _text(chosen.get("text")) if chosen else _text(el.get("placeholder")) or "Choose"
        return f"[{label} ▾]"
    if kind == "overflow":
        return "[⋯]"
    if kind == "datepicker":
        return f"[{el.get('initial_date') or 'Pick a date'} 📅]"
    if kind == "image":
        return f"[Image: {el.get('alt_text', '')}]"
    if kind in ("mrkdwn", "plain_text"):
        return plain(el.get("text"), name_of)
    return f"[{kind}]"


def _input(block: dict, name_of: Names) -> list[str]:
    el = block.get("element") or {}
    label = _text(block.get("label"))
    if block.get("optional") and "(optional)" not in label:
        label += " (optional)"
    kind = el.get("type")
    if kind in ("static_select", "radio_buttons"):
        chosen = el.get("initial_option")
        options = ", ".join(_text(o.get("text")) for o in el.get("options") or [])
        shown = _text(chosen.get("text")) if chosen else "____"
        listed = not chosen and options and len(options) < 160
        return _wrap(f"{label}: {shown}" + (f"   (choices: {options})" if listed else ""), "  ")
    if kind == "checkboxes":
        boxes = [("[x] " if o in (el.get("initial_options") or []) else "[ ] ") + _text(o.get("text"))
                 for o in el.get("options") or []]
        return _wrap(f"{label}: " + "  ".join(boxes), "  ")
    users = [el["initial_user"]] if el.get("initial_user") else el.get("initial_users") or []
    value = (el.get("initial_value") or el.get("initial_date") or el.get("initial_time")
             or ", ".join(name_of(u) for u in users) or "____")
    return _wrap(f"{label}: {value}", "  ")


def blocks_text(blocks: Iterable[dict] | None, name_of: Names = lambda user_id: user_id) -> list[str]:
    """Each block as lines of text."""
    lines: list[str] = []
    for block in blocks or []:
        kind = block.get("type")
        if kind == "header":
            title = _text(block.get("text"))
            lines += [title.upper(), "=" * min(WIDTH, len(title))]
        elif kind == "section":
            if block.get("text"):
                lines += _wrap(plain(_text(block["text"]), name_of))
            for field in block.get("fields") or []:
                lines += _wrap(plain(_text(field), name_of), "  ")
            if block.get("accessory"):
                lines.append("  " + element(block["accessory"], name_of))
        elif kind == "context":
            lines += _wrap(" ".join(element(e, name_of) for e in block.get("elements") or []), "  · ", "    ")
        elif kind == "divider":
            lines.append("-" * 40)
        elif kind == "actions":
            lines += _wrap(" ".join(element(e, name_of) for e in block.get("elements") or []), "  ")
        elif kind == "input":
            lines += _input(block, name_of)
        elif kind == "image":
            lines.append(f"[Image: {block.get('alt_text', '')}]")
        elif kind in ("rich_text", "markdown"):
            lines += _wrap(plain(block.get("text") or "(formatted text)", name_of))
        else:
            lines.append(f"[{kind}]")
    return lines


def message_text(message: dict, name_of: Names = lambda user_id: user_id) -> list[str]:
    """A message as it shows: its blocks, or its text when it has none, then any files."""
    lines = blocks_text(message.get("blocks"), name_of) if message.get("blocks") else _wrap(
        plain(message.get("text") or message.get("initial_comment") or "", name_of))
    for item in message.get("files") or []:
        lines.append(f"📎 {item.get('title') or item.get('name')} ({item.get('name')})")
    return lines


def view_text(view: dict, name_of: Names = lambda user_id: user_id) -> list[str]:
    """A modal (or home tab) as a form."""
    title = _text(view.get("title")) or "App Home"
    lines = [f"┌ {title} ".ljust(60, "─")]
    lines += ["│ " + line for line in blocks_text(view.get("blocks"), name_of)]
    buttons = " ".join(f"[{_text(view[key])}]" for key in ("close", "submit") if view.get(key))
    lines.append(("└ " + buttons + " ").ljust(60, "─"))
    return lines


def filled(view: dict, values: dict[str, object]) -> dict:
    """The view as it looks with `values` typed or chosen (block id -> value, as a person submits them)."""
    blocks = []
    for block in view.get("blocks") or []:
        value = values.get(block.get("block_id", ""))
        if block.get("type") != "input" or value in (None, ""):
            blocks.append(block)
            continue
        el = dict(block["element"])
        kind = el.get("type")
        if kind in ("static_select", "radio_buttons"):
            el["initial_option"] = next((o for o in el.get("options") or [] if o.get("value") == value), None)
        elif kind == "checkboxes":
            el["initial_options"] = [o for o in el.get("options") or [] if o.get("value") in value]  # type: ignore[operator]
        elif kind == "datepicker":
            el["initial_date"] = value
        elif kind == "timepicker":
            el["initial_time"] = value
        elif kind == "users_select":
            el["initial_user"] = value
        elif kind == "multi_users_select":
            el["initial_users"] = value
        else:
            el["initial_value"] = str(value)
        blocks.append({**block, "element": el})
    return {**view, "blocks": blocks}


def shortened(lines: list[str], most: int = 30) -> list[str]:
    """A long message's first lines and its last, with how much is left out between."""
    if len(lines) <= most:
        return lines
    return [*lines[:10], f"  … ({len(lines) - 13} more lines) …", *lines[-3:]]


def changes(before: list[str], after: list[str]) -> list[str]:
    """The lines of a changed message that are new, with a note of how much stayed the same."""
    kept = set(before)
    new = [line for line in after if line not in kept]
    same = len(after) - len(new)
    if same < 5:
        return after
    return [*new, f"  (the other {same} lines as before)"]
