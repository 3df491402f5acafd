"""Reading submitted modals: values by block id, typed, and errors back to the fields."""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any

MAX_FREE_TEXT = 3000


def values(body: dict) -> dict[str, Any]:
    """The submitted view's input values, keyed by block id."""
    result: dict[str, Any] = {}
    state = ((body.get("view") or {}).get("state") or {}).get("values") or {}
    for block_id, elements in state.items():
        for value in elements.values():
            result[block_id] = _value(value)
    return result


def _value(value: dict) -> Any:
    kind = value.get("type")
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        # No NUL characters: Slack's own form never sends them, and PostgreSQL cannot store them in text.
        return str(value.get("value") or "").replace("\x00", "").strip()
    if kind == "datepicker":
        return value.get("selected_date")
    if kind == "timepicker":
        return value.get("selected_time")
    if kind in ("static_select", "radio_buttons", "external_select"):
        return (value.get("selected_option") or {}).get("value")
    if kind == "users_select":
        return _user_id(value.get("selected_user"))
    if kind == "multi_users_select":
        return [user for user in value.get("selected_users") or [] if _user_id(user)]
    if kind in ("checkboxes", "multi_static_select"):
        return [option.get("value") for option in value.get("selected_options") or []]
    if kind == "conversations_select":
        return value.get("selected_conversation")
    if kind == "channels_select":
        return value.get("selected_channel")
    return value.get("value")


# A Slack user id, as Slack's people pickers send them ("U0123ABCD", or "W…" in an Enterprise organisation).
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")


def _user_id(value: Any) -> str | None:
    """The id a people picker sent, or None for anything Slack's picker would never send (a forged request): it
    reads as nobody picked, which a required field answers with "Please choose someone"."""
    return value if isinstance(value, str) and SLACK_USER_ID.fullmatch(value) else None


class FormErrors(Exception):
    """Field errors to show in the modal; what the person typed stays in it."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("form errors")
        self.errors = errors


def parse_date(raw: Any, block: str, errors: dict[str, str], *, required: bool = True) -> date | None:
    if not raw:
        if required:
            errors[block] = "Please choose a date."
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[block] = "Please choose a date from the calendar."
        return None


def parse_time(raw: Any, block: str, errors: dict[str, str]) -> time | None:
    if not raw:
        errors[block] = "Please choose a time."
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        errors[block] = "Please choose a time, for example 10:00."
        return None


def parse_int(raw: Any, block: str, errors: dict[str, str], *, low: int, high: int, what: str) -> int | None:
    try:
        number = int(str(raw))
    except (TypeError, ValueError):
        errors[block] = f"Please enter {what} as a whole number."
        return None
    if not low <= number <= high:
        errors[block] = f"Please enter {what} from {low} to {high}."
        return None
    return number


def text(raw: Any, block: str, errors: dict[str, str], *, required: bool = False, limit: int = MAX_FREE_TEXT,
         what: str = "this") -> str:
    value = (raw or "").strip() if isinstance(raw, str) else ""
    if required and not value:
        errors[block] = f"Please fill in {what}."
    elif len(value) > limit:
        errors[block] = f"Please keep {what} under {limit:,} characters (it is {len(value):,} now)."
    return value
