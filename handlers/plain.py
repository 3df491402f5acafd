"""The plain-language step on any form: suggestions first, then the author decides.

`jargon_gate` is called by a submit handler after its own checks pass and before anything is saved.
If the text has initials or jargon that a parent might not know, the same modal comes back with
what the person typed kept, the suggestions at the top, and a note that saving again keeps it as
written. The second submission goes through: that the suggestions were shown is kept server-side (a
once-only claim keyed by the form's view id and the person, as the deadline warning's `warn_once`), never
in the form's metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from handlers import access, forms
from handlers.blocks import kit
from handlers.deps import Deps
from models import audit
from models.plain import Suggestion, check_all

BLOCK_ID = "plain_language"
KEEP = ("type", "title", "submit", "close", "blocks", "callback_id", "private_metadata", "notify_on_close",
        "clear_on_close", "external_id")


def suggestions_text(suggestions: Iterable[Suggestion]) -> str:
    lines = ["*Before you save: some words may not be clear to the family.* You can change them, or save"
             " again to keep what you wrote."]
    for item in suggestions:
        lines.append(f"• *{kit.esc(item.term)}* ({kit.esc(item.meaning)}): try “{kit.esc(item.instead)}”")
    return "\n".join(lines)


def _with_values(block: dict, value) -> dict:
    """An input block whose element starts with the value the person submitted."""
    block = json.loads(json.dumps(block))
    element = block["element"]
    kind = element.get("type")
    if value in (None, "", []):
        return block
    if kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        element["initial_value"] = str(value)
    elif kind == "datepicker":
        element["initial_date"] = value
    elif kind == "timepicker":
        element["initial_time"] = value
    elif kind in ("static_select", "radio_buttons"):
        options = element.get("options") or []
        chosen = next((o for o in options if o.get("value") == value), None)
        if chosen:
            element["initial_option"] = chosen
    elif kind == "users_select":
        element["initial_user"] = value
    elif kind == "multi_users_select":
        element["initial_users"] = value
    elif kind in ("checkboxes", "multi_static_select"):
        options = element.get("options") or []
        element["initial_options"] = [o for o in options if o.get("value") in value]
    return block


def shown_key(body: dict) -> str:
    """The claim that this form was sent back with the suggestions to this person (view id from Slack's request)."""
    actor = access.actor_of(body)
    return f"plain:{body['view']['id']}:{actor.team_id}:{actor.user_id}"


def jargon_gate(ack, body: dict, deps: Deps, *, fields: Iterable[str], values: dict | None = None) -> bool:
    """True to go ahead and save; False when the modal was sent back with suggestions (already acked).
    `values` are the form's (forms.values), if the caller has read them already.

    That the suggestions were shown is a once-only claim (`shown_key`: the id of the view Slack says was submitted,
    which a form sent back keeps, and the person who submitted it), committed before the form is sent back; nothing
    in the form's private metadata can skip the check. Text with nothing to suggest touches no database."""
    values = forms.values(body) if values is None else values
    texts = [values.get(field) for field in fields]
    suggestions = check_all([t for t in texts if isinstance(t, str) and t])
    if not suggestions:
        return True
    submitted = body["view"]
    with deps.session() as session:
        if not audit.claim_once(session, shown_key(body)):
            return True  # shown already, to this person on this form: saving again keeps it as written
    view = {key: submitted[key] for key in KEEP if key in submitted}
    blocks = [b for b in submitted.get("blocks", []) if b.get("block_id") != BLOCK_ID]
    kept = [_with_values(b, values.get(b.get("block_id"))) if b.get("type") == "input" else b for b in blocks]
    # Every form keeps a block free for this note (kit.FORM_BLOCK_LIMIT), so nothing the person typed is lost;
    # kit.view_blocks refuses, rather than cuts, a form built without that room.
    view["blocks"] = kit.view_blocks([kit.section(suggestions_text(suggestions), block_id=BLOCK_ID), *kept])
    ack(response_action="update", view=view)
    return False
