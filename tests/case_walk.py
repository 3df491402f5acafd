"""A whole case, from `/coregroup help` and `/coregroup new` to `/coregroup close`, through every entry point a
person can use: each sub-command, button, modal, message shortcut and event, by signed HTTP.

The hardening tests drive this one walk in different ways:

- `before(entry, send)` runs before each request the walk makes, with a function that sends that same request as
  any `SlackUser`: the security tests send it first as someone outside the core group and as a removed member.
- `text(field, default)` gives the text typed into each free-text field: the tests plant mentions and links, or
  distinctive case text, in every one of them.
- `double=True` sends every view submission three times (twice at once, then again) and every button click
  twice at once, as Slack's retries and people's double clicks do; events are sent again as Slack's retries.

Entries are named "command:<name>", "view:<callback id>", "action:<action id>", "shortcut:<callback id>" and
"event:<type>". The walk records each one it went through in `entries`.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import time_machine
from sqlmodel import Session, select

from handlers.blocks import plan as plan_blocks
from handlers.ids import Action, Block, Shortcut, View
from models import cases
from models.audit import Actor
from models.tables import Case, Child, Meeting, Member, PlanItem, PlanItemKind
from tests.harness import Response, SlackUser, send_event
from tests.helpers import mark_the_rest, opened_view
from tests.slack_standin import SlackStandIn

COUNCIL, TRUST = SlackStandIn.TEAM, SlackStandIn.OTHER_TEAM
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MEETING_DAY = datetime(2026, 11, 27, 10, 5, tzinfo=UTC)  # the meeting was moved to Friday 27 November, 10:00
JOINER = "U0JOINER"  # someone who joins the case channel without being added to the core group
INVITED = {"accepted": ("health.visitor.b@nhstrust.example", "U0NHSHV"),
           "declined": ("school.nurse.b@nhstrust.example", "U0NHSSN"),
           "cancelled": ("officer.b@police.example", None)}

EVENT_IDS = itertools.count(1)
Send = Callable[[SlackUser], Response]
TextFor = Callable[[str, str], str]


def elements(blocks: list[dict] | None):
    for block in blocks or []:
        yield from block.get("elements") or []
        if block.get("accessory"):
            yield block["accessory"]


def find_element(blocks: list[dict] | None, action_id: str) -> dict | None:
    return next((e for e in elements(blocks) if e.get("action_id") == action_id), None)


@dataclass
class CaseWalk:
    people: dict[str, SlackUser]
    slack: SlackStandIn
    app: Any  # tests.harness.RunningApp
    text: TextFor | None = None
    before: Callable[[str, Send], None] | None = None
    double: bool = False
    entries: list[str] = field(default_factory=list)
    case_id: int = 0
    channel: str = ""
    other_case_id: int = 0
    other_channel: str = ""
    removed: SlackUser | None = None
    joiner: SlackUser | None = None

    # --- what is typed, and how requests are sent --------------------------------------------------

    def t(self, name: str, default: str) -> str:
        return self.text(name, default) if self.text else default

    def do(self, entry: str, send: Send, user: SlackUser) -> Response:
        self.entries.append(entry)
        if self.before is not None:
            self.before(entry, send)
        if not self.double or entry.startswith(("command:", "shortcut:")):
            return send(user)
        if entry.startswith("event:"):
            return send(user)  # the event's own send adds Slack's retry in double mode
        times = 2
        with ThreadPoolExecutor(max_workers=times) as pool:
            replies = list(pool.map(lambda _: send(user), range(times)))
        if entry.startswith("view:"):
            replies.append(send(user))  # and once more, after both were answered
        return next((r for r in replies if r.status == 200 and r.body == ""), replies[0])

    def command(self, who: str, text: str, *, channel: str | None = None) -> Response:
        name = text.split()[0] if text.strip() else "help"
        where = channel or self.channel
        return self.do(f"command:{name}", lambda user: user.command(text, channel=where), self.people[who])

    def submit(self, who: str, view: dict, values: dict | None = None) -> Response:
        """Submit a modal as a person would; a deadline warning or the plain-language check is answered by
        saving again, as the form says. Returns the final answer."""
        user = self.people[who]
        view = dict(view)
        for _attempt in range(3):
            current = view
            reply = self.do(f"view:{current['callback_id']}", lambda u, v=current: u.submit(v, values), user)
            answer = reply.json() if reply.body else None
            if not answer:
                return reply
            if answer.get("response_action") == "update" and answer["view"].get("callback_id") == view[
                    "callback_id"]:
                view = {**answer["view"], "id": view["id"]}  # the same modal back, with the check's suggestions
                continue
            if answer.get("response_action") == "errors" and set(answer["errors"]) <= {Block.DATE}:
                continue  # a deadline warning: saving again keeps the date
            return reply
        return reply

    def click(self, who: str, action_id: str, value: Any = None, *, message: dict | None = None,
              view: dict | None = None, selected: str | None = None, channel: str | None = None) -> Response:
        where = channel or self.channel
        if message is None and view is None:
            message = {"ts": "1.0", "text": ""}

        def send(user: SlackUser) -> Response:
            if view is not None:
                return user.click(action_id, value, view=view, selected=selected)
            return user.click(action_id, value, channel=where, message=message, selected=selected)

        return self.do(f"action:{action_id}", send, self.people[who])

    def shortcut(self, who: str, callback_id: str, message: dict) -> Response:
        return self.do(f"shortcut:{callback_id}",
                       lambda user: user.shortcut(callback_id, channel=self.channel, message=message),
                       self.people[who])

    def event(self, kind: str, make: Callable[[SlackUser], dict], user: SlackUser) -> Response:
        def send(actor: SlackUser) -> Response:
            event_id = f"Ev{next(EVENT_IDS):06d}"
            reply = send_event(self.app, make(actor), team_id=COUNCIL, event_id=event_id)
            if self.double:
                send_event(self.app, make(actor), team_id=COUNCIL, event_id=event_id, retry_num=1)
            return reply

        return self.do(f"event:{kind}", send, user)

    # --- finding what the app showed --------------------------------------------------------------

    def channel_button(self, action_id: str, channel: str | None = None) -> tuple[str, dict]:
        """The newest message in the channel with this button: (value, message)."""
        for message in reversed(self.slack.messages(channel or self.channel)):
            element = find_element(message.get("blocks"), action_id)
            if element is not None:
                return element["value"], message
        raise AssertionError(f"no {action_id} button in the channel")

    def private_button(self, action_id: str) -> tuple[str, dict]:
        """The newest ephemeral or response-URL message with this button: (value, message)."""
        for call in reversed(self.slack.calls):
            if call.method in ("chat.postEphemeral", "response_url", "chat.postMessage") and call.status == 200:
                element = find_element(call.args.get("blocks"), action_id)
                if element is not None:
                    message = {"ts": call.response.get("message_ts") or "1.0", "text": call.args.get("text", ""),
                               "blocks": call.args.get("blocks")}
                    return element.get("value") or element["options"][0]["value"], message
        raise AssertionError(f"no private message with a {action_id} button")

    def view(self, callback_id: str) -> dict:
        return opened_view(self.slack, callback_id)

    def rows(self, query) -> list:
        with Session(self.app.engine, expire_on_commit=False) as session:
            return list(session.exec(query).all())

    def member(self, key: str, case_id: int | None = None) -> Member:
        user_id = self.people[key].user_id
        return self.rows(select(Member).where(Member.case_id == (case_id or self.case_id),
                                              Member.slack_user_id == user_id))[0]

    # --- the walk ---------------------------------------------------------------------------------

    def run(self) -> CaseWalk:
        for user_id, name in ((JOINER, "Someone Joining"),):
            self.slack.add_user(user_id, team_id=COUNCIL, name=name)
        self.joiner = SlackUser(self.app, self.slack, JOINER, COUNCIL)
        with time_machine.travel(MONDAY, tick=True):
            self.help()
            self.new_cases()
            self.remove_police()
            self.members()
            self.connect()
            self.plan()
            self.pick_case()
            self.schedule()
            self.actions_before()
            self.replies()
            self.chair_changes()
        with time_machine.travel(MEETING_DAY, tick=True):
            self.start()
            self.scale()
            self.decisions()
            self.actions_in_meeting()
            self.family_views()
            self.end()
            self.family_version()
            self.cancel_next()
            self.home()
            self.channel_events()
            self.close()
            self.export()
        return self

    def help(self) -> None:
        self.command("sw", "")
        self.command("sw", "help")

    def new_case(self, reference: str, children: str, members: tuple[str, ...]) -> tuple[int, str]:
        self.command("sw", "new", channel="C0GENERAL")
        reply = self.submit("sw", self.view(View.NEW_CASE), {
            Block.REFERENCE: reference, Block.CHILDREN: children, Block.INITIAL: "2026-11-16",
            Block.REVIEW: "2027-02-08", Block.FREQUENCY: 6, Block.CREATOR_ROLE: "Social worker",
            Block.PROFESSIONALS: [self.people[k].user_id for k in members], Block.LEAD: self.people["sw"].user_id,
        })
        assert reply.status == 200 and reply.body == "", reply.body
        case = self.rows(select(Case).where(Case.reference == reference))[0]
        return case.id, case.channel_id

    def new_cases(self) -> None:
        children = "\n".join([self.t("children", "Child A (7)"), "Child B (4)"])
        self.case_id, self.channel = self.new_case("CP-TEST-0001", children, ("hv", "teacher", "police"))
        self.other_case_id, self.other_channel = self.new_case("CP-TEST-0002", "Child C (9)", ("hv",))

    def remove_police(self) -> None:
        """The police officer leaves the core group: from now on, a removed member."""
        with Session(self.app.engine, expire_on_commit=False) as session:
            member = session.exec(select(Member).where(Member.case_id == self.case_id,
                                                       Member.slack_user_id == self.people["police"].user_id)).one()
            cases.remove_member(session, member=member, actor=Actor(team_id=COUNCIL, user_id="U0SW"))
            session.commit()
        self.removed = self.people["police"]

    def members_list(self, who: str = "sw", alias: str = "members") -> dict:
        self.command(who, alias)
        return self.view("members_list")

    def members(self) -> None:
        listed = self.members_list()
        value = {"c": self.case_id}
        self.click("sw", Action.MEMBERS_ADD, value, view=listed)
        self.submit("sw", self.view(View.MEMBER_ADD), {
            Block.USER: self.people["gp"].user_id, Block.ROLE: "GP",
            Block.AGENCY: self.t("member.agency", "Riverside Surgery")})
        listed = self.members_list(alias="member")
        self.click("sw", Action.MEMBERS_ADD_OFFLINE, value, view=listed)
        self.submit("sw", self.view(View.MEMBER_ADD_OFFLINE), {
            Block.NAME: self.t("offline.name", "Mother of Child A"), Block.ROLE: "Parent",
            Block.RELATIONSHIP: self.t("offline.relationship", "Mother"),
            Block.AGENCY: self.t("offline.agency", "")})
        hv = self.member("hv")
        listed = self.members_list()
        edit = json.dumps({"c": self.case_id, "m": hv.id, "o": "edit"}, separators=(",", ":"))
        self.click("sw", Action.MEMBERS_EDIT, selected=edit, view=listed)
        self.submit("sw", self.view(View.MEMBER_EDIT), {
            Block.ROLE: "Health visitor", Block.AGENCY: self.t("edit.agency", "Health visiting team")})
        _value, welcome = self.channel_button(Action.HERE_MEMBERS)
        self.click("teacher", Action.HERE_MEMBERS, value, message=welcome)
        self.click("teacher", Action.HERE_MY_DETAILS, value, message=welcome)
        self.submit("teacher", self.view(View.MEMBER_EDIT), {
            Block.ROLE: "Teacher", Block.AGENCY: self.t("details.agency", "Hill Primary School")})

    def invite(self, email: str) -> int:
        listed = self.members_list()
        self.click("sw", Action.MEMBERS_INVITE, {"c": self.case_id}, view=listed)
        reply = self.submit("sw", self.view(View.MEMBER_INVITE), {
            Block.EMAIL: email, Block.ROLE: "Health visitor",
            Block.AGENCY: self.t("invite.agency", f"Trust of {email.split('@')[0]}")})
        assert reply.status == 200 and reply.body == "", reply.body
        return self.rows(select(Member).where(Member.case_id == self.case_id, Member.email == email))[0].id

    def invite_event(self, kind: str, invite_id: str, user_id: str | None, **extra: Any) -> dict:
        event: dict[str, Any] = {
            "type": f"shared_channel_invite_{kind}",
            "invite": {"id": invite_id, "inviting_team": {"id": COUNCIL, "name": "Council"},
                       "inviting_user": {"id": "U0BOT", "team_id": COUNCIL}},
            "channel": {"id": self.channel, "is_private": True, "is_im": False, "name": "cg-cp-test-0001"},
            "event_ts": "1626876010.000100", **extra,
        }
        person = {"id": user_id, "team_id": TRUST, "name": "person",
                  "profile": {"real_name": "Health Visitor B", "display_name": "HV B", "team": TRUST}}
        if kind == "accepted":
            event.update(approval_required=True, accepting_user=person)
        elif kind == "approved":
            event.update(approving_team_id=COUNCIL, approving_user={"id": "U0ADMIN", "team_id": COUNCIL})
        else:
            event.update(declining_user=person)
        return event

    def connect(self) -> None:
        """Slack Connect: invited by work email; accepted and approved; another declined; a third cancelled."""
        email, user_id = INVITED["accepted"]
        self.invite(email)
        invite_id = self.slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
        self.slack.accept_shared_invite(invite_id, user_id)
        trust = SlackUser(self.app, self.slack, user_id, TRUST)
        self.event("shared_channel_invite_accepted",
                   lambda actor: self.invite_event("accepted", invite_id, user_id), trust)
        self.event("shared_channel_invite_approved",
                   lambda actor: self.invite_event("approved", invite_id, user_id), trust)
        email, user_id = INVITED["declined"]
        self.invite(email)
        invite_id = self.slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
        self.event("shared_channel_invite_declined",
                   lambda actor: self.invite_event("declined", invite_id, user_id), trust)
        email, _ = INVITED["cancelled"]
        invited = self.invite(email)
        listed = self.members_list()
        remove = json.dumps({"c": self.case_id, "m": invited, "o": "remove"}, separators=(",", ":"))
        self.click("sw", Action.MEMBERS_EDIT, selected=remove, view=listed)
        self.submit("sw", self.view(View.MEMBER_REMOVE))

    def plan(self) -> None:
        self.command("sw", "plan")
        value, message = self.private_button(Action.PLAN_EDIT)
        self.click("sw", Action.PLAN_EDIT, value, message=message)
        blocks = plan_blocks.KIND_BLOCKS
        self.submit("sw", self.view(View.PLAN_EDIT), {
            blocks[PlanItemKind.DANGER]: self.t("plan.danger", "Child A may be hurt when Dad drinks."),
            blocks[PlanItemKind.GOAL]: self.t("plan.goal", "Child A is safe and goes to school every day."),
            blocks[PlanItemKind.BOTTOM_LINE]: self.t("plan.bottom_line", "Dad does not drink at home.")})
        _value, welcome = self.channel_button(Action.HERE_PLAN)
        self.click("hv", Action.HERE_PLAN, json.dumps({"c": self.case_id}), message=welcome)

    def pick_case(self) -> None:
        """From outside a case channel, someone in two core groups is asked which case they mean."""
        self.command("sw", "plan", channel="C0GENERAL")
        value, message = self.private_button(Action.PICK_CASE)
        chosen = json.loads(value)
        chosen["c"] = self.case_id
        self.click("sw", Action.PICK_CASE, selected=json.dumps(chosen), message=message, channel="C0GENERAL")

    def schedule(self) -> None:
        value, message = self.channel_button(Action.MEETING_BOOK)  # the form from a button, for any organisation
        self.click("teacher", Action.MEETING_BOOK, value, message=message)
        self.command("sw", "schedule")
        hv = self.member("hv")
        self.submit("sw", self.view(View.SCHEDULE), {
            Block.DATE: "2026-11-26", Block.TIME: "10:00", Block.LENGTH: 90, Block.CHAIR: str(hv.id),
            Block.LOCATION: self.t("meeting.location", "Meeting room 2, Civic Centre")})
        self.command("sw", "meeting")  # the meeting is scheduled: its move and cancel buttons
        value, message = self.private_button(Action.MEETING_MOVE)
        self.click("sw", Action.MEETING_MOVE, value, message=message)
        self.submit("sw", self.view(View.MEETING_MOVE), {
            Block.DATE: "2026-11-27", Block.TIME: "10:00",
            Block.LOCATION: self.t("move.location", "Family centre, room 1"),
            Block.REASON: self.t("move.reason", "The room is not free on Thursday.")})

    def actions_before(self) -> None:
        goal = self.rows(select(PlanItem).where(PlanItem.case_id == self.case_id,
                                                PlanItem.kind == PlanItemKind.GOAL))[0]
        for what, owner in (("action.what", "hv"), ("action2.what", "teacher")):
            self.command("sw", "action")
            self.submit("sw", self.view(View.ACTION_ADD), {
                Block.ACTION_WHAT: self.t(what, f"Arrange a home visit ({owner})"),
                Block.ACTION_OWNER: str(self.member(owner).id), Block.ACTION_DUE: "2026-12-04",
                Block.ACTION_MEASURE: self.t(what.replace("what", "measure"), "A visit has taken place."),
                Block.ACTION_GOAL: str(goal.id)})
        self.command("hv", "actions")
        value, message = self.private_button(Action.ACTION_ADD_START)
        self.click("hv", Action.ACTION_ADD_START, value, message=message)
        self.command("hv", "actions mine")
        value, message = self.private_button(Action.ACTION_PROGRESS)
        self.click("hv", Action.ACTION_PROGRESS, value, message=message)
        self.submit("hv", self.view(View.ACTION_PROGRESS), {
            Block.PROGRESS_NOTE: self.t("progress.note", "Visited on Monday; Mum was at home.")})
        self.command("hv", "actions mine")
        value, message = self.private_button(Action.ACTION_NEW_DATE)
        self.click("hv", Action.ACTION_NEW_DATE, value, message=message)
        self.submit("hv", self.view(View.ACTION_NEW_DATE), {
            Block.DATE: "2026-12-11", Block.REASON: self.t("new_date.reason", "The family is away next week.")})
        self.click("hv", Action.ACTIONS_PAGE, {"c": self.case_id, "o": "a", "p": 0}, message=message)
        _value, welcome = self.channel_button(Action.HERE_ACTIONS)
        self.click("teacher", Action.HERE_ACTIONS, json.dumps({"c": self.case_id}), message=welcome)

    def replies(self) -> None:
        """Attending, apologies with an update, an update from the button and from the command."""
        value, message = self.channel_button(Action.ATTENDING)
        self.click("gp", Action.ATTENDING, value, message=message)
        self.click("teacher", Action.SEND_APOLOGIES, value, message=message)
        self.submit("teacher", self.view(View.UPDATE), self.update_values("teacher"))
        self.click("hv", Action.SEND_UPDATE, value, message=message)
        self.submit("hv", self.view(View.UPDATE), self.update_values("hv"))
        _value, welcome = self.channel_button(Action.HERE_UPDATE)
        self.click("gp", Action.HERE_UPDATE, json.dumps({"c": self.case_id}), message=welcome)
        self.command("gp", "update")
        self.submit("gp", self.view(View.UPDATE), {**self.update_values("gp"),
                                                   Block.UPDATE_ATTENDING: "attending"})

    def chair_changes(self) -> None:
        """The chair (hv) sent apologies: the lead social worker takes the chair; hv can come after all, and is
        picked to chair again. The alert to the lead social worker is a scheduled message: the scheduler's run
        sends it."""
        from tests.reminder_world import dispatcher

        dispatcher(self.app.engine, self.slack).run_once()
        value, message = self.private_button(Action.CHAIR_TAKE)
        self.click("sw", Action.CHAIR_TAKE, value, message=message)
        value, message = self.channel_button(Action.ATTENDING)
        self.click("hv", Action.ATTENDING, value, message=message)
        value, message = self.private_button(Action.CHAIR_PICK)
        self.click("sw", Action.CHAIR_PICK, value, message=message)
        self.submit("sw", self.view(View.CHAIR_PICK), {Block.CHAIR: str(self.member("hv").id)})

    def update_values(self, who: str) -> dict:
        values = {
            Block.UPDATE_ATTENDING: "apologies",
            Block.UPDATE_CHILD_VIEWS: self.t("update.child_views", "Child A says school is better now."),
            Block.UPDATE_CONTACTS: self.t("update.contacts", "Two home visits."),
            Block.UPDATE_CHILD_SEEN: "yes", Block.UPDATE_SEEN_ALONE: "no",
            Block.UPDATE_WORKING_WELL: self.t("update.working_well", "Mum takes Child A to school."),
            Block.UPDATE_WORRIES: self.t("update.worries", "Rent arrears."),
            Block.UPDATE_NEEDS: self.t("update.needs", "A referral for money advice."),
        }
        view = self.view(View.UPDATE)
        for block in view["blocks"]:
            block_id = block.get("block_id", "")
            if block_id.startswith(f"{Block.UPDATE_ACTION_STATUS}_"):
                values[block_id] = "delayed"
            elif block_id.startswith(f"{Block.UPDATE_ACTION_NOTE}_"):
                values[block_id] = self.t("update.action_note", "Waiting for a date.")
        return values

    def start(self) -> None:
        self.command("hv", "start")
        value, message = self.channel_button(Action.MEETING_START)
        self.click("hv", Action.MEETING_START, value, message=message)
        view = self.view(View.START)
        self.submit("hv", view, mark_the_rest(view))

    def scale(self) -> None:
        self.command("hv", "scale")
        child = self.rows(select(Child).where(Child.case_id == self.case_id))[0]
        self.submit("hv", self.view(View.SCALE_ASK), {
            Block.SCALE_QUESTION: self.t("scale.question", "How safe is Child A at home?"),
            Block.SCALE_ZERO: self.t("scale.zero", "Child A is not safe at home"),
            Block.SCALE_TEN: self.t("scale.ten", "Everyone is sure Child A is safe at home"),
            Block.SCALE_CHILD: str(child.id)})
        self.click("hv", Action.SCALE_START, {"c": self.case_id})  # no button shows this yet: sent as Slack would
        for who, score in (("hv", 6), ("teacher", 4)):
            value, message = self.channel_button(Action.GIVE_SCORE)
            self.click(who, Action.GIVE_SCORE, value, message=message)
            self.submit(who, self.view(View.SCALE_SCORE), {
                Block.SCORE: str(score), Block.SCORE_REASON: self.t("score.reason", f"Reason of the {who}."),
                Block.SCORE_UP: self.t("score.up", "Regular school attendance.")})
        value, message = self.channel_button(Action.REVEAL)
        self.click("hv", Action.REVEAL, value, message=message)

    def decisions(self) -> None:
        self.command("hv", "decision")
        self.submit("hv", self.view(View.DECISION), {
            Block.DECISION_TEXT: self.t("decision.text", "Child A will go to the after-school club.")})
        self.click("hv", Action.DECISION_START, {"c": self.case_id})  # no button shows this yet
        said = self.slack.add_message(self.channel, self.people["teacher"].user_id,
                                      self.t("message.text", "Dad will not drink at home."))
        self.shortcut("hv", Shortcut.RECORD_DECISION, said)
        self.submit("hv", self.view(View.DECISION))

    def actions_in_meeting(self) -> None:
        said = self.slack.add_message(self.channel, self.people["teacher"].user_id,
                                      self.t("message2.text", "I will check attendance every Friday."))
        self.shortcut("teacher", Shortcut.MAKE_ACTION, said)
        self.submit("teacher", self.view(View.ACTION_ADD), {
            Block.ACTION_DUE: "2026-12-18",
            Block.ACTION_MEASURE: self.t("action3.measure", "Attendance is above nine in ten days.")})
        value, message = self.channel_button(Action.CHAIR_ACTION)
        self.click("hv", Action.CHAIR_ACTION, value, message=message)
        self.command("teacher", "actions mine")
        value, message = self.private_button(Action.ACTION_DONE)
        self.click("teacher", Action.ACTION_DONE, value, message=message)

    def end(self) -> None:
        self.command("hv", "end")
        value, message = self.channel_button(Action.MEETING_END)
        self.click("hv", Action.MEETING_END, value, message=message)
        outcome = {
            Block.RECAP_KEY_POINTS: self.t("recap.key_points", "Good progress at school."),
            Block.RECAP_RISK: "reducing",
            Block.RECAP_CHILD_VIEWS: self.t("recap.child_views", "Child A says they feel happier at home."),
            Block.RECAP_PARENTS_VIEWS: self.t("recap.parents_views", "Mum says the help with mornings works."),
            Block.RECAP_RECOMMENDATION: "continue",
        }
        self.submit("hv", self.view(View.END), outcome)
        value, message = self.private_button(Action.RECAP_EDIT)
        self.click("hv", Action.RECAP_EDIT, value, message=message)
        self.submit("hv", self.view(View.END), outcome)
        value, message = self.private_button(Action.RECAP_POST)
        self.click("hv", Action.RECAP_POST, value, message=message)
        value, message = self.channel_button(Action.RECAP_READ)
        self.click("teacher", Action.RECAP_READ, value, message=message)
        value, message = self.channel_button(Action.RECAP_CORRECT)
        self.click("hv", Action.RECAP_CORRECT, value, message=message)
        self.submit("hv", self.view(View.RECAP_CORRECT), {
            **outcome, Block.RECAP_REASON: self.t("correct.reason", "The parents' views were left out."),
            Block.RECAP_CHILD_MISSING: self.t("recap.child_missing", "")})
        value, message = self.private_button(Action.RECAP_POST)
        self.click("hv", Action.RECAP_POST, value, message=message)

    def family_views(self) -> None:
        """The mother is not on Slack: the lead social worker records her views during the meeting."""
        value, message = self.channel_button(Action.FAMILY_PANEL)  # on the welcome message
        self.click("sw", Action.FAMILY_PANEL, value, message=message)
        self.command("sw", "family")
        value, message = self.private_button(Action.FAMILY_VIEWS)
        self.click("sw", Action.FAMILY_VIEWS, value, message=message)
        mother = self.rows(select(Member).where(Member.case_id == self.case_id, Member.role == "Parent"))[0]
        self.submit("sw", self.view(View.FAMILY_VIEWS), {
            Block.FAMILY_MEMBER: str(mother.id),
            Block.FAMILY_WORRIES: self.t("family.worries", "Money is tight this month.")})

    def family_version(self) -> None:
        """The lead social worker prepares and approves the family version, and records that it was given."""
        value, message = self.private_button(Action.FAMILY_PREPARE)  # the prompt in their direct messages
        self.click("sw", Action.FAMILY_PREPARE, value, message=message)
        self.submit("sw", self.view(View.FAMILY_PREPARE))
        value, message = self.private_button(Action.FAMILY_APPROVE)
        self.click("sw", Action.FAMILY_APPROVE, value, message=message)
        value, message = self.private_button(Action.FAMILY_GIVEN)
        self.click("sw", Action.FAMILY_GIVEN, value, message=message)
        self.submit("sw", self.view(View.FAMILY_GIVEN), {Block.GIVEN_HOW: "post"})

    def cancel_next(self) -> None:
        value, message = self.channel_button(Action.ATTENDING)  # the next meeting, booked by the record
        meeting = json.loads(value)
        self.click("sw", Action.MEETING_CANCEL, value, message=message)
        self.submit("sw", self.view(View.MEETING_CANCEL), {
            Block.REASON: self.t("cancel.reason", "The review conference comes first.")})
        assert self.rows(select(Meeting).where(Meeting.id == meeting["m"]))[0].status == "cancelled"

    def home(self) -> None:
        self.event("app_home_opened", lambda actor: {
            "type": "app_home_opened", "user": actor.user_id, "channel": "D0HOME", "tab": "home",
            "event_ts": "1700000000.000100"}, self.people["hv"])
        home = self.slack.home_views[self.people["hv"].user_id]
        self.click("hv", Action.HOME_PAGE, {"p": 1}, view=home)
        self.click("hv", Action.HOME_PAGE_PREVIOUS, {"p": 0}, view=home)

    def channel_events(self) -> None:
        self.slack.channels[self.channel].members.add(JOINER)
        self.event("member_joined_channel", lambda actor: {
            "type": "member_joined_channel", "user": actor.user_id, "channel": self.channel, "channel_type": "G",
            "team": COUNCIL, "event_ts": "1700000001.000100"}, self.joiner)
        self.event("member_left_channel", lambda actor: {
            "type": "member_left_channel", "user": actor.user_id, "channel": self.channel, "channel_type": "G",
            "team": COUNCIL, "event_ts": "1700000002.000100"}, self.people["gp"])

    def close(self) -> None:
        self.command("sw", "close")
        self.submit("sw", self.view(View.CLOSE), {
            Block.OUTCOME: "plan_ended", Block.REASON: self.t("close.reason", "The review conference ended the plan."),
            Block.DATE: MEETING_DAY.date().isoformat()})

    def export(self) -> None:
        """The record as documents, sent privately; it works for a closed case."""
        self.command("hv", "export")
        meeting = self.rows(select(Meeting).where(Meeting.case_id == self.case_id, Meeting.number == 1))[0]
        self.click("hv", Action.EXPORT_PICK, selected=json.dumps({"c": self.case_id, "m": meeting.id}))


def member_status(app, case_id: int, user_id: str) -> str | None:
    with Session(app.engine) as session:
        member = session.exec(select(Member).where(Member.case_id == case_id, Member.slack_user_id == user_id)).first()
        return member.status if member else None



RECORD_TABLES = ("cases", "children", "members", "plan_items", "actions", "action_events", "meetings",
                 "meeting_changes", "attendance", "updates", "update_action_progress", "scaling_questions",
                 "scaling_rounds", "scores", "decisions", "recaps", "recap_recipients", "recap_acknowledgements")


def record_counts(engine) -> dict[str, int]:
    """How many rows each table of case records holds."""
    from sqlalchemy import text as sql

    with engine.connect() as conn:
        return {name: conn.execute(sql(f'SELECT COUNT(*) FROM "{name}"')).scalar_one() for name in RECORD_TABLES}
