"""The buttons on every action (Done, Add progress, New date) and the forms they open.

They work wherever the action is shown: the channel, a direct message (reminders) and the App Home.
Value JSON {"c": case_id, "a": action_id}; from the paged list also {"p": page, "o": "a" | "m"}, so the
list is redrawn after the change.
"""

from __future__ import annotations

import logging
from datetime import date

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from handlers import access, case_post, forms
from handlers import home as home_handlers
from handlers.actions import list_page, show_list
from handlers.blocks import actions as action_blocks
from handlers.blocks import kit
from handlers.deps import Deps
from handlers.ids import Action as ActionId
from handlers.ids import Block, View
from handlers.plain import jargon_gate
from models import actions, audit, dates, form_returns
from models.actions import MAX_NOTE
from models.cases import DomainError
from models.tables import Action, ActionStatus, Case, Member

log = logging.getLogger(__name__)

GONE = "That action is no longer on this case's plan."
ALREADY_DONE = "This action is already marked as done."


def _load(deps: Deps, case: Case, action_id) -> tuple[Action, Member] | None:
    with deps.session() as session:
        action = actions.get(session, access.int_or_none(action_id), case.id)
        if action is None:
            return None
        return action, session.get(Member, action.owner_member_id)


def _swap_blocks(blocks: list[dict], action: Action, owner: Member, today: date, note: str) -> list[dict]:
    """The clicked message's blocks with this action's line redrawn and its buttons replaced by a note."""
    result = []
    for block in blocks:
        block_id = block.get("block_id")
        if block_id == f"action_{action.id}":
            block = kit.section(action_blocks.action_line(action, owner, today), block_id=block_id)
        elif block_id == f"action_buttons_{action.id}":
            block = kit.context(note)
        result.append(block)
    return result


def _refresh_message(client: WebClient, body: dict, respond, blocks: list[dict]) -> None:
    message = body.get("message") or {}
    container = body.get("container") or {}
    try:
        if container.get("is_ephemeral"):
            respond(text=message.get("text") or "Actions", blocks=blocks, replace_original=True)
        elif message.get("ts") and access.channel_of(body):
            client.chat_update(channel=access.channel_of(body), ts=message["ts"],
                               text=message.get("text") or "Action", blocks=blocks)
    except SlackApiError as error:
        log.info("could not redraw the action message: %s", error.response.get("error"))


def done(ack, body: dict, client: WebClient, respond, deps: Deps) -> None:
    ack()
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, member = checked
    today = deps.today()
    with deps.session() as session:
        action = actions.get(session, access.int_or_none(choice.get("a")), case.id)
        if action is None:
            access.tell(client, body, GONE, respond)
            return
        changed = actions.mark_done(session, action=action, actor=access.actor_of(body), member_id=member.id,
                                    now=deps.now())
        owner = session.get(Member, action.owner_member_id)
        channel, thread, _meeting = case_post.where(session, case)
    if changed:
        log.info("action %s done by member %s", action.id, member.id)
        post = action_blocks.change_post(action=action, owner=owner, by=member, today=today, what="done")
        case_post.post(client, channel=channel, thread_ts=thread, message=post, what="an action done",
                       notify=access.actor_of(body).user_id)
    shown = _shows_action(body, action.id)
    if "p" in choice:
        show_list(deps, client, body, respond, case, member, page=access.int_or_none(choice.get("p")) or 0,
                  mine=choice.get("o") == "m", replace=True)
    elif shown:
        _refresh_message(client, body, respond, _swap_blocks(body["message"]["blocks"], action, owner, today,
                                                             "✅ Done"))
    from_home = (body.get("view") or {}).get("type") == "home"
    if from_home:
        home_handlers.refresh_if_home(deps, client, body)
    if not changed:
        access.tell(client, body, ALREADY_DONE, respond)
    elif "p" not in choice and not shown and not from_home:
        access.tell(client, body, f"Marked as done: {kit.esc(kit.clip(action.what, 200))}", respond)


def _shows_action(body: dict, action_id: int) -> bool:
    """Is the click on a message (not a view) that shows this action's buttons?"""
    if body.get("view"):
        return False
    blocks = (body.get("message") or {}).get("blocks") or []
    return any(b.get("block_id") == f"action_buttons_{action_id}" for b in blocks)


def _back(body: dict, choice: dict) -> dict:
    """What to redraw after the form is saved, as plain values: the App Home ("h"), or the list's page and whose
    list ("p", "o"). Where the list is (a view, a message's response URL) is never put in the form: see
    _return_target."""
    if (body.get("view") or {}).get("type") == "home":
        return {"h": 1}
    if "p" not in choice:
        return {}
    return {"p": access.int_or_none(choice.get("p")) or 0, "o": "m" if choice.get("o") == "m" else "a"}


def _return_target(body: dict) -> tuple[str | None, str | None]:
    """The list the button was clicked in, from the request Slack sent: its view id, or its response URL."""
    view = body.get("view") or {}
    if view.get("type") == "modal":
        return view.get("id"), None
    return None, body.get("response_url") or None


def open_form(ack, body: dict, client: WebClient, respond, deps: Deps, which: str) -> None:
    ack()
    choice = access.button_value(body)
    checked = access.check_click(deps, body, client, choice.get("c"), respond)
    if checked is None:
        return
    case, _member = checked
    loaded = _load(deps, case, choice.get("a"))
    if loaded is None:
        access.tell(client, body, GONE, respond)
        return
    action, owner = loaded
    if action.status != ActionStatus.OPEN and which == "new_date":
        access.tell(client, body, ALREADY_DONE, respond)
        return
    build = action_blocks.progress_modal if which == "progress" else action_blocks.new_date_modal
    back = _back(body, choice)
    view = build(case_id=case.id, action=action, owner=owner, today=deps.today(), back=back)
    opened = case_post.open_view(client, body, body.get("trigger_id"), view)
    if opened and "p" in back:
        list_view_id, response_url = _return_target(body)
        with deps.session() as session:
            form_returns.remember(session, view_id=opened, actor=access.actor_of(body), list_view_id=list_view_id,
                                  response_url=response_url, now=deps.now())


def _redraw_list(deps: Deps, client: WebClient, case: Case, member: Member, meta: dict, body: dict) -> None:
    """Redraw the list the form was opened from: the target kept when it was opened, found by the id of the
    view Slack says was submitted and for this person only (never a view id or URL from the form itself)."""
    if "p" not in meta:
        return
    with deps.session() as session:
        target = form_returns.take(session, view_id=(body.get("view") or {}).get("id"),
                                   actor=access.actor_of(body))
    if target is None:
        return
    blocks = list_page(deps, case, member, page=access.int_or_none(meta.get("p")) or 0, mine=meta.get("o") == "m")
    try:
        if target.list_view_id:
            client.views_update(view_id=target.list_view_id, view=action_blocks.list_modal(blocks, case_id=case.id))
        elif target.response_url:
            WebhookClient(target.response_url).send(text=f"Actions for {case.reference}", blocks=blocks,
                                                    replace_original=True, response_type="ephemeral")
    except SlackApiError as error:
        log.info("could not redraw the actions list: %s", error.response.get("error"))


def submit_form(ack, body: dict, client: WebClient, deps: Deps, which: str) -> None:
    title = "Add progress" if which == "progress" else "New date"
    checked = access.check_submission(deps, ack, body, title=title)
    if checked is None:
        return
    case, member = checked
    meta = access.metadata(body)
    raw = forms.values(body)
    errors: dict[str, str] = {}
    if which == "progress":
        note = forms.text(raw.get(Block.PROGRESS_NOTE), Block.PROGRESS_NOTE, errors, required=True, limit=MAX_NOTE,
                          what="what has happened")
        new_due = None
    else:
        note = forms.text(raw.get(Block.REASON), Block.REASON, errors, required=True, limit=MAX_NOTE,
                          what="why the date is changing")
        new_due = forms.parse_date(raw.get(Block.DATE), Block.DATE, errors)
        problem = new_due and dates.check_due(new_due, today=deps.today(), after_today=True)
        if problem:
            errors[Block.DATE] = problem
    if errors:
        ack(response_action="errors", errors=errors)
        return
    loaded = _load(deps, case, meta.get("a"))
    if loaded is None or (which == "new_date" and loaded[0].status != ActionStatus.OPEN):
        ack(response_action="update", view=access.notice_view(title, GONE if loaded is None else ALREADY_DONE))
        return
    # Initials or jargon a parent may not know: the form comes back with suggestions; saving again keeps it.
    if not jargon_gate(ack, body, deps, fields=[Block.PROGRESS_NOTE if which == "progress" else Block.REASON]):
        return
    with deps.session() as session:
        action = actions.get(session, access.int_or_none(meta.get("a")), case.id)
        if action is None or (which == "new_date" and action.status != ActionStatus.OPEN):
            ack(response_action="update", view=access.notice_view(title, GONE if action is None else ALREADY_DONE))
            return
        if not audit.claim_once(session, f"view:{body['view']['id']}"):
            ack()
            return
        actor, now = access.actor_of(body), deps.now()
        try:
            if which == "progress":
                actions.add_progress(session, action=action, note=note, actor=actor, member_id=member.id, now=now)
            else:
                actions.change_due(session, action=action, new_due=new_due, reason=note, actor=actor,
                                   member_id=member.id, now=now, today=deps.today())
        except DomainError as error:
            session.rollback()
            field = {"date": Block.DATE, "reason": Block.REASON, "note": Block.PROGRESS_NOTE}.get(
                error.field or "", Block.REASON if which == "new_date" else Block.PROGRESS_NOTE)
            ack(response_action="errors", errors={field: str(error)})
            return
        owner = session.get(Member, action.owner_member_id)
        post = action_blocks.change_post(action=action, owner=owner, by=member, today=deps.today(),
                                         what=which, note=note)
        channel, thread, _meeting = case_post.where(session, case)
    ack()
    log.info("action %s: %s by member %s", action.id, which, member.id)
    case_post.post(client, channel=channel, thread_ts=thread, message=post, what=f"an action {which}",
                   notify=access.actor_of(body).user_id)
    _redraw_list(deps, client, case, member, meta, body)
    if meta.get("h"):
        actor = access.actor_of(body)
        home_handlers.publish_home(deps, client, team_id=actor.team_id, user_id=actor.user_id)


def register(app: App, deps: Deps) -> None:
    @app.action(ActionId.ACTION_DONE)
    def done_clicked(ack, body, client, respond):
        done(ack, body, client, respond, deps)

    @app.action(ActionId.ACTION_PROGRESS)
    def progress_clicked(ack, body, client, respond):
        open_form(ack, body, client, respond, deps, "progress")

    @app.action(ActionId.ACTION_NEW_DATE)
    def new_date_clicked(ack, body, client, respond):
        open_form(ack, body, client, respond, deps, "new_date")

    @app.view(View.ACTION_PROGRESS)
    def progress_submitted(ack, body, client):
        submit_form(ack, body, client, deps, "progress")

    @app.view(View.ACTION_NEW_DATE)
    def new_date_submitted(ack, body, client):
        submit_form(ack, body, client, deps, "new_date")

