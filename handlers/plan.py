"""`/coregroup plan`: danger statements, safety goals and bottom lines."""

from __future__ import annotations

from slack_bolt import App
from slack_sdk import WebClient

from handlers import access, case_post, forms
from handlers.blocks import kit
from handlers.blocks import members as member_blocks
from handlers.blocks import plan as plan_blocks
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.getting_started import refresh_later as refresh_checklist
from handlers.ids import Action, View
from models import audit, plan
from models.cases import DomainError
from models.tables import CaseStatus


def show_plan(inv: Invocation) -> None:
    with inv.deps.session() as session:
        items = plan.items(session, inv.case.id)
    inv.reply(f"The plan for {inv.case.reference}",
              plan_blocks.plan_blocks(case_id=inv.case.id, reference=inv.case.reference, items=items,
                                      editable=inv.case.status == CaseStatus.OPEN))


def open_editor(deps: Deps, client: WebClient, trigger_id: str, case_id: int) -> None:
    with deps.session() as session:
        items = plan.items(session, case_id)
    client.views_open(trigger_id=trigger_id, view=plan_blocks.plan_modal(case_id=case_id, items=items))


def submit_plan(ack, body: dict, client: WebClient, deps: Deps) -> None:
    checked = access.check_submission(deps, ack, body, title="Edit the plan")
    if checked is None:
        return
    case, editor = checked
    raw = forms.values(body)
    wanted = {kind: plan.split_items(raw.get(block) or "") for kind, block in plan_blocks.KIND_BLOCKS.items()}
    errors: dict[str, str] = {}
    for kind, texts in wanted.items():
        try:
            plan.check_items(kind, texts)
        except DomainError as error:
            errors[plan_blocks.KIND_BLOCKS[kind]] = str(error)
    if errors:
        ack(response_action="errors", errors=errors)
        return
    with deps.session() as session:
        if not audit.claim_once(session, f"view:{body['view']['id']}"):
            ack()
            return
        changed = False
        for kind, texts in wanted.items():
            changed |= plan.replace_items(session, case_id=case.id, kind=kind, texts=texts,
                                          actor=access.actor_of(body))
        keys: list[str] = []
        if changed:
            blocks = [kit.section(f"{member_blocks.who(editor)} updated the plan.")]
            blocks += plan_blocks.plan_blocks(case_id=case.id, reference=case.reference,
                                              items=plan.items(session, case.id))
            keys = case_post.plan(session, deps, key=f"plan:{case.id}:view:{body['view']['id']}", case_id=case.id,
                                  channel=case.channel_id, thread_ts=None, notify=editor.slack_user_id,
                                  message={"text": f"The plan for {case.reference} was updated.",
                                           "blocks": blocks[:50]})
    ack()
    refresh_checklist(deps, client, case.id)
    case_post.send(deps, client, keys)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("plan", "See and edit the danger statements, safety goals and bottom lines",
                                 show_plan, allow_closed=True))

    @app.action(Action.PLAN_EDIT)
    @app.action(Action.HERE_PLAN)
    def edit_clicked(ack, body, client, respond):
        ack()
        checked = access.check_click(deps, body, client, access.button_value(body).get("c"), respond)
        if checked is not None:
            open_editor(deps, client, body["trigger_id"], checked[0].id)

    @app.view(View.PLAN_EDIT)
    def plan_submitted(ack, body, client):
        submit_plan(ack, body, client, deps)
