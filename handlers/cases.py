"""`/coregroup new`: a private case channel, its members invited, and a pinned welcome."""

from __future__ import annotations

import logging

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import IntegrityError

from handlers import access, connect, forms, getting_started, outbox
from handlers.blocks import cases as case_blocks
from handlers.blocks import help as help_blocks
from handlers.blocks import kit
from handlers.case_post import SLACK_FAILED
from handlers.commands import Invocation, SubCommand
from handlers.deps import Deps
from handlers.ids import Block, View
from handlers.members import INVITE_ERRORS, in_words, name_of
from handlers.people import profile
from models import audit, cases, dates, invites, reminders
from models import outbox as outbox_rows
from models.cases import CaseCreate, DomainError, PersonIn
from models.ledger import Kind
from models.tables import PROFESSIONAL_ROLES

log = logging.getLogger(__name__)

CHANNEL_ERRORS = {
    "name_taken": "A channel called #{name} already exists. Check the reference, or archive or rename"
                  " that channel first.",
    "invalid_name_specials": "The channel name made from this reference is not allowed. Use letters,"
                             " numbers and hyphens.",
    "invalid_name_maxlength": "This reference is too long for a channel name.",
    "restricted_action": "Your workspace does not let CoreGroup create private channels. Ask your Slack"
                         " administrator to allow it.",
}


def open_new_case(inv: Invocation) -> None:
    if not inv.trigger_id:
        return
    view = case_blocks.new_case_modal(creator=inv.actor.user_id or "", today=inv.deps.today())
    inv.client.views_open(trigger_id=inv.trigger_id, view=view)


def read_new_case(body: dict, deps: Deps) -> tuple[dict, dict[str, str]]:
    """Check the form; returns the cleaned values and any field errors."""
    raw = forms.values(body)
    errors: dict[str, str] = {}
    cleaned: dict = {}
    try:
        cleaned["reference"] = cases.check_reference(raw.get(Block.REFERENCE) or "")
    except DomainError as error:
        errors[Block.REFERENCE] = str(error)
    try:
        cleaned["children"] = cases.parse_children(raw.get(Block.CHILDREN) or "")
    except DomainError as error:
        errors[Block.CHILDREN] = str(error)
    initial = forms.parse_date(raw.get(Block.INITIAL), Block.INITIAL, errors)
    review = forms.parse_date(raw.get(Block.REVIEW), Block.REVIEW, errors, required=False)
    frequency = forms.parse_int(raw.get(Block.FREQUENCY), Block.FREQUENCY, errors, low=1, high=12,
                                what="the number of weeks")
    if initial and frequency:
        try:
            cases.check_case_dates(initial, review, frequency)
        except DomainError as error:
            errors[Block.REVIEW if error.field == "review" else Block.FREQUENCY] = str(error)
    problem = initial and dates.check_initial_conference(initial, today=deps.today())
    if problem:
        errors[Block.INITIAL] = problem
    problem = review and dates.check_review_conference(review, today=deps.today(), initial=initial)
    if problem:
        errors[Block.REVIEW] = problem
    role = raw.get(Block.CREATOR_ROLE)
    if role not in PROFESSIONAL_ROLES:
        errors[Block.CREATOR_ROLE] = "Please choose your role."
    lead = raw.get(Block.LEAD)
    if not lead:
        errors[Block.LEAD] = "Please choose the lead social worker."
    try:
        cleaned["emails"] = invites.parse_emails(raw.get(Block.EMAILS) or "", field=Block.EMAILS)
    except DomainError as error:
        errors[Block.EMAILS] = str(error)
    cleaned.update(initial=initial, review=review, frequency=frequency, role=role, lead=lead,
                   professionals=list(raw.get(Block.PROFESSIONALS) or []))
    return cleaned, errors


def submit_new_case(ack, body: dict, client: WebClient, deps: Deps, bot_user_id: str | None,
                    home_team: str | None = None) -> None:
    actor = access.actor_of(body)
    # The workspace the app is installed in (from auth.test); a payload's own team is the person's team.
    team_id = home_team or (body.get("team") or {}).get("id") or actor.team_id
    if actor.team_id != team_id:
        ack(response_action="update", view=access.notice_view(
            "New core group", "Only people in the council's own workspace can set up a core group."))
        return
    cleaned, errors = read_new_case(body, deps)
    if not errors:
        with deps.session() as session:
            if cases.reference_in_use(session, cleaned["reference"]):
                errors[Block.REFERENCE] = "There is already a core group for this case reference."
    if errors:
        ack(response_action="errors", errors=errors)
        return
    name = cases.channel_name_for(cleaned["reference"])
    try:
        created = client.conversations_create(name=name, is_private=True)
    except SlackApiError as error:
        code = error.response.get("error", "")
        log.info("could not create the channel for a new case: %s", code)
        message = in_words(code, CHANNEL_ERRORS, "Slack would not create the channel. Please try again, or ask"
                                                 " your Slack administrator if it keeps happening.")
        ack(response_action="errors", errors={Block.REFERENCE: message.format(name=name)})
        return
    channel_id = created["channel"]["id"]
    lead_id = cleaned["lead"]
    people = [PersonIn(team_id=team_id, user_id=actor.user_id, name=actor.user_id, role=cleaned["role"],
                       is_lead=actor.user_id == lead_id)]
    if lead_id != actor.user_id:
        people.append(PersonIn(team_id=team_id, user_id=lead_id, name=lead_id, role="Social worker",
                               is_lead=True))
    for user_id in cleaned["professionals"]:
        if user_id not in (actor.user_id, lead_id):
            people.append(PersonIn(team_id=team_id, user_id=user_id, name=user_id))
    people = [p for p in people if p.user_id != bot_user_id]
    case_in = CaseCreate(
        reference=cleaned["reference"], children=cleaned["children"],
        initial_conference_date=cleaned["initial"], review_conference_date=cleaned["review"],
        frequency_weeks=cleaned["frequency"], team_id=team_id, channel_id=channel_id, channel_name=name,
        people=people,
    )
    try:
        with deps.session() as session:
            if not audit.claim_once(session, f"view:{body['view']['id']}"):
                ack()
                return
            case = cases.create_case(session, case_in=case_in, actor=actor)
            case_id = case.id
            reminders.case_opened(session, case=case, now=deps.now())
            welcome_key = outbox_rows.welcome(session, case_id=case_id, now=deps.now())
    except IntegrityError:
        _archive_quietly(client, channel_id)
        ack(response_action="errors", errors={Block.REFERENCE: "There is already a core group for this case"
                                                               " reference."})
        return
    except Exception:
        _archive_quietly(client, channel_id)
        raise
    ack()
    log.info("case %s created in %s by %s/%s", case_id, channel_id, actor.team_id, actor.user_id)
    finish_new_case(client, deps, case_id=case_id, channel_id=channel_id, people=people, actor=actor,
                    emails=cleaned.get("emails") or [], welcome_key=welcome_key)


def _archive_quietly(client: WebClient, channel_id: str) -> None:
    try:
        client.conversations_archive(channel=channel_id)
    except SlackApiError as error:
        log.warning("could not archive channel %s after a failed create: %s", channel_id,
                    error.response.get("error"))


def finish_new_case(client: WebClient, deps: Deps, *, case_id: int, channel_id: str, people: list[PersonIn],
                    actor, emails: list[str] | None = None, welcome_key: str | None = None) -> None:
    """After the modal has closed: record everyone as Slack knows them, invite them, post and pin the welcome
    (written to the outbox with the case: `post_welcome`)."""
    _record_as_slack_knows_them(client, deps, case_id, actor)  # before the invitations, so their join events find them
    invitees = sorted({p.user_id for p in people if p.user_id != actor.user_id})
    not_invited: list[str] = []
    reasons: dict[str, str] = {}
    if invitees:
        try:
            client.conversations_invite(channel=channel_id, users=",".join(invitees))
        except SlackApiError as error:
            log.warning("invite to %s failed: %s", channel_id, error.response.get("error"))
            # One refusal (a single-channel guest already elsewhere, say) fails the whole list: go one by one.
            not_invited, reasons = _invite_one_by_one(client, channel_id, invitees)
            _remove_not_invited(deps, case_id, not_invited, actor)
        except SLACK_FAILED as error:  # no answer in time: Slack may well have added them
            log.warning("invite to %s not confirmed: %s", channel_id, type(error).__name__)
    try:
        client.conversations_invite(channel=channel_id, users=actor.user_id)
    except SlackApiError as error:
        if error.response.get("error") != "already_in_channel":
            log.warning("could not add the creator to %s: %s", channel_id, error.response.get("error"))
    except SLACK_FAILED as error:
        log.warning("could not add the creator to %s: %s", channel_id, type(error).__name__)
    if welcome_key:
        outbox.send_all_now(deps, client, [welcome_key])
    with deps.reading() as session:
        case = cases.get_case(session, case_id)
        reference, welcome = case.reference, case.welcome_ts
    getting_started.post_checklist(client, deps, case_id=case_id, channel_id=channel_id)
    text = f"The core group channel for {reference} is ready: <#{channel_id}>."
    if not welcome:
        text += (" Slack did not confirm the welcome message with the buttons for everyone, so please check the"
                 " channel; `/coregroup help` lists what everyone can do.")
    if not_invited:
        text += " I could not add " + "; ".join(
            f"<@{u}>" + (f" ({reasons[u]})" if reasons.get(u) else "") for u in not_invited
        ) + ". Please sort that out, then add them with `/coregroup members`."
    if emails:
        text += " " + _invite_emails(client, deps, case_id=case_id, emails=emails, actor=actor)
    access.tell_in_channel(client, channel_id, actor.user_id, text)


@outbox.sender(Kind.WELCOME)
def post_welcome(job: outbox.Job) -> None:
    """A new case's welcome in its channel (the buttons everyone uses), once; pinned, and its timestamp kept."""
    deps, case_id = job.deps, job.row.case_id
    with deps.reading() as session:
        case = cases.get_case(session, case_id)
        if case is None or not case.channel_id:
            raise outbox.Skipped("no_channel")
        lead = cases.lead_member(session, case_id)
        blocks = help_blocks.welcome_blocks(
            reference=case.reference,
            children=[(c.label, c.age) for c in cases.children(session, case_id)],
            frequency_weeks=case.frequency_weeks,
            lead_user=(lead.slack_team_id, lead.slack_user_id) if lead and lead.slack_user_id else None,
            case_id=case_id,
        )
        channel_id, reference = case.channel_id, case.reference
    channel_id, welcome = job.post(channel=channel_id, message={"text": f"Core group for {reference}",
                                                                "blocks": blocks})
    try:
        job.client.pins_add(channel=channel_id, timestamp=welcome)
    except SlackApiError as error:
        log.warning("could not pin the welcome in %s: %s", channel_id, error.response.get("error"))
    except SLACK_FAILED as error:
        log.warning("could not pin the welcome in %s: %s", channel_id, type(error).__name__)
    with deps.session() as session:
        case = cases.get_case(session, case_id)
        case.welcome_ts = welcome
        session.add(case)


def _record_as_slack_knows_them(client: WebClient, deps: Deps, case_id: int, actor) -> None:
    """Each Slack member's name and organisation from one users.info look-up: someone picked from a channel
    shared with another organisation is recorded as (their team, their user), not the council's. Where Slack
    will not say, what was recorded stays. Each change is audited, with ids only, as part of what the
    person setting up the case did."""
    with deps.session() as session:
        people = [(m.id, m.slack_user_id) for m in cases.members(session, case_id) if m.slack_user_id]
    found = {member_id: profile(client, user_id) for member_id, user_id in people}  # no session held meanwhile
    with deps.session() as session:
        for member in cases.members(session, case_id):
            user = found.get(member.id)
            if not user:
                continue
            name = name_of(user, fallback=member.name)
            team = user.get("team_id") or member.slack_team_id
            changed = [what for what, old, new in (("name", member.name, name), ("team", member.slack_team_id, team))
                       if old != new]
            if not changed:
                continue
            member.name, member.slack_team_id = name, team
            session.add(member)
            audit.record(session, actor=actor, action="member.details_from_slack", record_type="member",
                         record_id=member.id, case_id=case_id, changed=",".join(changed))


def _invite_one_by_one(client: WebClient, channel_id: str, users: list[str]) -> tuple[list[str], dict[str, str]]:
    """Invite each person on their own; returns who Slack refused, with the reason in words."""
    refused: list[str] = []
    reasons: dict[str, str] = {}
    for user_id in users:
        try:
            client.conversations_invite(channel=channel_id, users=user_id)
        except SlackApiError as error:
            code = error.response.get("error", "")
            if code == "already_in_channel":
                continue
            log.info("could not invite %s to %s: %s", user_id, channel_id, code)
            refused.append(user_id)
            reasons[user_id] = in_words(code, INVITE_ERRORS, "Slack would not add them to the channel").rstrip(".")
    return refused, reasons


def _remove_not_invited(deps: Deps, case_id: int, user_ids: list[str], actor) -> None:
    """People Slack would not add to the channel are not left recorded as members of the core group."""
    if not user_ids:
        return
    with deps.session() as session:
        for member in cases.members(session, case_id):  # whichever organisation they are from
            if member.slack_user_id in user_ids and not member.is_lead:
                cases.remove_member(session, member=member, actor=actor)


def _invite_emails(client: WebClient, deps: Deps, *, case_id: int, emails: list[str], actor) -> str:
    """Add or invite the professionals given by work email; returns what happened, for the creator."""
    with deps.session() as session:
        case = cases.get_case(session, case_id)
    added = invited = 0
    problems: list[str] = []
    for email in emails:
        outcome = connect.invite_email(deps, client, case=case, email=email, role="Other professional",
                                       agency=None, manager=None, actor=actor)
        if outcome.kind == "added":
            added += 1
        elif outcome.kind == "invited":
            invited += 1
        else:
            problems.append(f"{kit.esc(email)}: {outcome.error}")
    parts = []
    if added:
        parts.append(f"I added {added} {'person' if added == 1 else 'people'} found in this workspace by email.")
    if invited:
        parts.append(f"Slack has emailed an invitation to {invited} {'person' if invited == 1 else 'people'}"
                     " from other organisations; I will say in the channel when they join.")
    if added or invited:
        parts.append("Set their roles with `/coregroup members`.")
    if problems:
        parts.append("I could not invite " + "; ".join(problems))
    return " ".join(parts)


def register(app: App, deps: Deps) -> None:
    deps.commands.add(SubCommand("new", "Set up a core group for a case, with its own private channel",
                                 open_new_case, needs_case=False))

    @app.view(View.NEW_CASE)
    def new_case_submitted(ack, body, client, context):
        installed = context.authorize_result.team_id if context.authorize_result else None
        submit_new_case(ack, body, client, deps, context.bot_user_id, installed)

