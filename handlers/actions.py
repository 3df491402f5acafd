"""`/coregroup action` and `/coregroup actions`: add an action (also from a message), and the paged list.

The buttons on each action (Done, Add progress, New date) are in handlers/action_buttons.py.
"""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from handlers import access, case_post, forms
from handlers.blocks import actions as action_blocks
from handlers.commands import Invocation, SubCommand, start_from_button
from handlers.deps import Deps
from handlers.ids import Action as ActionId
from handlers.ids import Block, Shortcut, View
from handlers.plain import jargon_gate
from models import actions, audit, cases, current_meeting, dates, plan
from models.actions import MAX_MEASURE, MAX_WHAT
from models.cases import DomainError
from models.names import shown
from models.tables import Case, Member, MemberStatus, PlanItem, PlanItemKind

log = logging.getLogger(__name__)

NOT_A_CASE_CHANNEL = "This works on messages in a core group's channel. Open the case channel and try again."


def action_form(deps: Deps, case_id: int, *, what: str = "", owner_id: int | None = None) -> dict:
    with deps.session() as session:
        people = [m for m in cases.members(session, case_id) if m.status == MemberStatus.ACTIVE]
        goals = plan.items(session, case_id, PlanItemKind.GOAL)
        in_meeting = current_meeting.in_progress(session, case_id) is not None
    return action_blocks.action_modal(case_id=case_id, members=people, goals=goals, today=deps.today(),
                                      in_meeting=in_meeting, what=what, owner_id=owner_id)


def start_action(inv: Invocation) -> None:
    """`/coregroup action [what]`: the form, with anything typed after the command as the action."""
    case_post.open_view(inv.client, inv.body, inv.trigger_id, action_form(inv.deps, inv.case.id, what=inv.args))


def list_page(deps: Deps, case: Case, member: Member, *, page: int = 0, mine: bool = False) -> list[dict]:
    with deps.session() as session:
        found = actions.open_for_member(session, member.id) if mine else actions.open_for_case(session, case.id)
        owners = actions.owners(session, found)
    return action_blocks.actions_list(case_id=case.id, reference=case.reference, actions=found, owners=owners,
                                      today=deps.today(), page=page, mine=mine)


def show_actions(inv: Invocation) -> None:
    """`/coregroup actions` (everyone's open actions) or `/coregroup actions mine`."""
    mine = inv.args.strip().lower() in ("mine", "my", "me")
    blocks = list_page(inv.deps, inv.case, inv.member, mine=mine)
    inv.reply(f"Actions for {inv.case.reference}", blocks)


def show_list(deps: Deps, client: WebClient, body: dict, respond, case: Case, member: Member, *, page: int,
              mine: bool, replace: bool) -> None:
    """Show or refresh a list page where the person is: a modal, or a message only they can see."""
    blocks = list_page(deps, case, member, page=page, mine=mine)
    view = body.get("view") or {}
    if view.get("type") == "modal" and replace:
        client.views_update(view_id=view["id"], view=action_blocks.list_modal(blocks, case_id=case.id))
    elif view.get("type") in ("modal", "home") or not body.get("response_url"):
        case_post.open_view(client, body, body.get("trigger_id"), action_blocks.list_modal(blocks, case_id=case.id))
    else:
        respond(text=f"Actions for {case.reference}", blocks=blocks, response_type="ephemeral",
                replace_original=replace)


def _read(deps: Deps, body: dict, case: Case) -> tuple[dict, dict[str, str]]:
    raw = forms.values(body)
    errors: dict[str, str] = {}
    cleaned: dict = {
        "what": forms.text(raw.get(Block.ACTION_WHAT), Block.ACTION_WHAT, errors, required=True, limit=MAX_WHAT,
                           what="what needs to be done"),
        "measure": forms.text(raw.get(Block.ACTION_MEASURE), Block.ACTION_MEASURE, errors, required=True,
                              limit=MAX_MEASURE, what="how we will know it is done"),
        "owner": access.int_or_none(raw.get(Block.ACTION_OWNER)),
        "goal": access.int_or_none(raw.get(Block.ACTION_GOAL)),
        "due": forms.parse_date(raw.get(Block.ACTION_DUE), Block.ACTION_DUE, errors),
    }
    problem = cleaned["due"] and dates.check_due(cleaned["due"], today=deps.today())
    if problem:
        errors[Block.ACTION_DUE] = problem
    with deps.session() as session:
        for key, block, check in (("owner", Block.ACTION_OWNER, actions.check_owner),
                                  ("goal", Block.ACTION_GOAL, actions.check_goal)):
            if key == "owner" or cleaned[key] is not None:
                try:
                    check(session, case.id, cleaned[key])
                except DomainError as error:
                    errors[block] = str(error)
    return cleaned, errors


def submit_action(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Add an action")
    if checked is None:
        return
    case, by = checked
    cleaned, errors = _read(deps, body, case)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    if not jargon_gate(ack, body, deps, fields=[Block.ACTION_WHAT, Block.ACTION_MEASURE]):
        return
    key = f"view:{body['view']['id']}"
    with deps.session() as session:
        if not audit.claim_once(session, key):
            ack()
            return
        channel, thread, meeting_id = case_post.where(session, case)
        action = actions.create(session, case_id=case.id, what=cleaned["what"], owner_member_id=cleaned["owner"],
                                due_date=cleaned["due"], measure=cleaned["measure"], safety_goal_id=cleaned["goal"],
                                meeting_id=meeting_id, actor=access.actor_of(body), member_id=by.id,
                                now=deps.now(), source_key=key)
        owner = session.get(Member, action.owner_member_id)
        goal = session.get(PlanItem, action.safety_goal_id) if action.safety_goal_id else None
        message = action_blocks.new_action_post(case_id=case.id, action=action, owner=owner, by=by,
                                                today=deps.today(), goal=goal)
        action_id = action.id
    ack()
    log.info("action %s added to case %s (meeting %s)", action_id, case.id, meeting_id)
    case_post.post(client, channel=channel, thread_ts=thread, message=message, what="a new action",
                   notify=access.actor_of(body).user_id)


def shortcut_make_action(ack, body: dict, client: WebClient, respond, deps: Deps) -> None:
    """"Make this an action" on a message: the form, filled in with the message, for its case."""
    ack()
    message = body.get("message") or {}
    with deps.session() as session:
        case = cases.case_for_channel(session, access.channel_of(body))
        if case is None:
            access.tell(client, body, NOT_A_CASE_CHANNEL, respond)
            return
        _case, _member, why_not = access.member_for(session, case.id, access.actor_of(body))
        names = {m.slack_user_id: shown(m) for m in cases.members(session, case.id) if m.slack_user_id}
        author = cases.active_member(session, case.id, message.get("team") or case.team_id, message.get("user"))
        case_id = case.id
    if why_not:
        access.tell(client, body, why_not, respond)
        return
    what = action_blocks.plain_from_message(message.get("text") or "", names)
    view = action_form(deps, case_id, what=what, owner_id=author.id if author else None)
    try:
        client.views_open(trigger_id=body["trigger_id"], view=view)
    except SlackApiError as error:
        log.warning("could not open the action form: %s", error.response.get("error"))


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("action", "Add an action: who will do what, by when, and how we will know",
                                 start_action))
    deps.commands.add(SubCommand("actions", "See open actions and mark them done, add progress or give a new"
                                 " date", show_actions, usage="`/coregroup actions` or `/coregroup actions mine`"))

    @app.view(View.ACTION_ADD)
    def action_submitted(ack, body, client):
        submit_action(ack, body, client, deps)

    @app.shortcut(Shortcut.MAKE_ACTION)
    def make_action(ack, body, client, respond):
        shortcut_make_action(ack, body, client, respond, deps)

    @app.action(ActionId.ACTION_ADD_START)
    def add_clicked(ack, body, client, respond):
        ack()
        start_from_button(deps, "action", body, client, respond, access.button_value(body).get("c"))

    @app.action(ActionId.ACTIONS_PAGE)
    def page_clicked(ack, body, client, respond):
        ack()
        choice = access.button_value(body)
        checked = access.check_click(deps, body, client, choice.get("c"), respond)
        if checked is None:
            return
        case, member = checked
        show_list(deps, client, body, respond, case, member, page=access.int_or_none(choice.get("p")) or 0,
                  mine=choice.get("o") == "m", replace=True)

    @app.action(ActionId.HERE_ACTIONS)
    def my_actions(ack, body, client, respond):
        ack()
        checked = access.check_click(deps, body, client, access.button_value(body).get("c"), respond)
        if checked is None:
            return
        case, member = checked
        show_list(deps, client, body, respond, case, member, page=0, mine=True, replace=False)
