"""Who may do what, end to end through signed HTTP.

- Every entry point (each sub-command, button, modal, message shortcut and event) refuses someone outside the
  core group and a removed member, and then nothing is stored and nothing is posted for others to see. The
  table below names every id in handlers/ids.py, every registered sub-command and every event: a new one
  fails `test_the_table_names_every_entry_point` until it says how it is protected.
- Tampered private metadata and button values (a record of another case) are refused.
- Mentions and links typed into any free-text field arrive inert in every message the app posts.
- Oversized input gets a clear modal error, never a server error.
"""

from __future__ import annotations

import http.client
import json
import re
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from handlers import access
from handlers.ids import Action, Block, Shortcut, View
from models import cases
from models.audit import Actor
from models.tables import Action as ActionRow
from models.tables import ActionStatus, Member, MemberStatus, Recap, ScalingRound, Score
from tests.case_walk import COUNCIL, TRUST, CaseWalk
from tests.harness import SlackUser, send_event, sign
from tests.helpers import every_row, new_case, opened_view
from tests.recap_world import preview_value, running_meeting

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Refused:
    """A member-only entry point: outsiders and removed members are told why, and nothing happens."""


@dataclass(frozen=True)
class Open:
    """Anyone in the workspace may use it; `why` says why that leaks nothing."""

    why: str


@dataclass(frozen=True)
class Unused:
    """An id with no listener yet: Slack's request is answered 404 and nothing happens."""


REFUSED = Refused()
UNUSED = Unused()
HOME = Open("shows the person's own App Home: only the cases they are an active member of")

ACTIONS: dict[Action, Any] = {
    Action.PICK_CASE: REFUSED, Action.HELP_OPEN: UNUSED, Action.MEMBERS_ADD: REFUSED,
    Action.MEMBERS_ADD_OFFLINE: REFUSED, Action.MEMBERS_EDIT: REFUSED, Action.MEMBERS_REMOVE: UNUSED,
    Action.MEMBERS_CANCEL_INVITE: UNUSED, Action.MEMBERS_INVITE: REFUSED, Action.MY_DETAILS: UNUSED,
    Action.PLAN_EDIT: REFUSED, Action.ATTENDING: REFUSED, Action.SEND_APOLOGIES: REFUSED,
    Action.SEND_UPDATE: REFUSED, Action.MEETING_MOVE: REFUSED, Action.MEETING_CANCEL: REFUSED,
    Action.GIVE_SCORE: REFUSED, Action.REVEAL: REFUSED, Action.ACTION_DONE: REFUSED,
    Action.ACTION_PROGRESS: REFUSED, Action.ACTION_NEW_DATE: REFUSED, Action.ACTIONS_PAGE: REFUSED,
    Action.SCALE_START: REFUSED, Action.DECISION_START: REFUSED, Action.ACTION_ADD_START: REFUSED,
    Action.RECAP_POST: REFUSED, Action.RECAP_EDIT: REFUSED, Action.RECAP_READ: REFUSED,
    Action.RECAP_CORRECT: REFUSED, Action.POST_ANYWAY: UNUSED, Action.HOME_PAGE: HOME,
    Action.HOME_PAGE_PREVIOUS: HOME, Action.HOME_OPEN_CASE: UNUSED, Action.HERE_UPDATE: REFUSED,
    Action.HERE_ACTIONS: REFUSED,
    Action.HERE_MY_DETAILS: REFUSED, Action.HERE_PLAN: REFUSED, Action.HERE_MEMBERS: REFUSED,
    Action.EXPORT_PICK: REFUSED, Action.MEETING_START: REFUSED, Action.MEETING_END: REFUSED,
    Action.CHAIR_ACTION: REFUSED, Action.CHAIR_TAKE: REFUSED, Action.CHAIR_PICK: REFUSED, Action.MEETING_BOOK: REFUSED,
    Action.FAMILY_PREPARE: REFUSED, Action.FAMILY_APPROVE: REFUSED, Action.FAMILY_GIVEN: REFUSED,
    Action.FAMILY_VIEWS: REFUSED, Action.FAMILY_PANEL: REFUSED,
}
VIEWS: dict[View, Any] = {
    View.NEW_CASE: Open("sets up a new case; the person becomes its first member (other organisations refused)"),
    View.MEMBER_ADD: REFUSED, View.MEMBER_ADD_OFFLINE: REFUSED, View.MEMBER_EDIT: REFUSED,
    View.MEMBER_REMOVE: REFUSED, View.MEMBER_INVITE: REFUSED, View.MY_DETAILS: UNUSED, View.PLAN_EDIT: REFUSED,
    View.SCHEDULE: REFUSED, View.MEETING_MOVE: REFUSED, View.MEETING_CANCEL: REFUSED, View.UPDATE: REFUSED,
    View.START: REFUSED, View.SCALE_ASK: REFUSED, View.SCALE_SCORE: REFUSED, View.DECISION: REFUSED,
    View.ACTION_ADD: REFUSED, View.ACTION_PROGRESS: REFUSED, View.ACTION_NEW_DATE: REFUSED, View.END: REFUSED,
    View.RECAP_CORRECT: REFUSED, View.CLOSE: REFUSED, View.AWAY: UNUSED, View.CHAIR_PICK: REFUSED,
    View.FAMILY_PREPARE: REFUSED, View.FAMILY_GIVEN: REFUSED, View.FAMILY_VIEWS: REFUSED,
}
SHORTCUTS: dict[Shortcut, Any] = {Shortcut.RECORD_DECISION: REFUSED, Shortcut.MAKE_ACTION: REFUSED}
COMMANDS: dict[str, Any] = {
    "help": Open("lists the sub-commands"), "new": Open("opens the new-case form"),
    **{name: REFUSED for name in ("members", "member", "plan", "schedule", "meeting", "update", "start", "scale",
                                  "decision", "action", "actions", "end", "close", "export",
                                  "family")},
}
EVENTS: dict[str, str] = {
    "member_joined_channel": "someone not in the core group who joins the channel is named in it for the lead"
                             " to act on; they are not added",
    "member_left_channel": "only an active member leaving changes anything",
    "app_home_opened": HOME.why,
    "shared_channel_invite_accepted": "matched to our invitation by Slack's invite id and the case channel",
    "shared_channel_invite_approved": "matched to our invitation by Slack's invite id and the case channel",
    "shared_channel_invite_declined": "matched to our invitation by Slack's invite id and the case channel",
}


def registered_events() -> set[str]:
    found = set()
    for path in (ROOT / "handlers").glob("*.py"):
        found |= set(re.findall(r'@app\.event\("([a-z_]+)"[,)]', path.read_text()))
    return found


def test_the_table_names_every_entry_point(app):
    assert set(ACTIONS) == set(Action), "say how each new button is protected"
    assert set(VIEWS) == set(View), "say how each new modal is protected"
    assert set(SHORTCUTS) == set(Shortcut), "say how each new shortcut is protected"
    assert set(COMMANDS) == set(app.deps.commands.subcommands), "say how each new sub-command is protected"
    assert set(EVENTS) == registered_events(), "say how each new event is protected"


# --- what a refusal looks like ------------------------------------------------------------------------------


def snapshot(engine) -> dict[str, list]:
    """Every row of every table except processed_requests (retried deliveries may be noted there)."""
    return every_row(engine, leaving_out=("processed_requests",))


def changed_tables(before: dict, after: dict) -> list[str]:
    return [name for name in before if before[name] != after[name]]


def private_texts(calls, reply, actor: SlackUser) -> str:
    """What only the person who acted was shown: response URLs, ephemeral messages, a direct message (for a
    click in a modal) and the modal's answer."""
    parts = [json.dumps(c.args) for c in calls if c.method in ("response_url", "chat.postEphemeral")
             or (c.method == "chat.postMessage" and c.args.get("channel") == actor.user_id)]
    return " ".join(parts) + (reply.body or "")


def public_calls(calls, actor: SlackUser) -> list:
    """Calls that others could see or that change something in Slack."""
    allowed = {"response_url", "chat.postEphemeral"}
    return [c for c in calls if c.method not in allowed
            and not (c.method == "chat.postMessage" and c.args.get("channel") == actor.user_id)]


class Guard:
    """Before the walk makes a request, the same request is sent by an outsider and by a removed member."""

    def __init__(self, walk: CaseWalk, slack, app, people):
        self.walk, self.slack, self.app, self.people = walk, slack, app, people
        self.guarded: set[str] = set()
        self.failures: list[str] = []

    def __call__(self, entry: str, send) -> None:
        if entry in self.guarded:
            return
        self.guarded.add(entry)
        kind, name = entry.split(":", 1)
        if kind == "event":
            self.event(name, send)
            return
        rule = {"command": COMMANDS, "view": VIEWS, "action": ACTIONS, "shortcut": SHORTCUTS}[kind].get(name)
        if rule is HOME:
            for actor in (self.people["outsider"], self.walk.removed):
                self.try_home(entry, send, actor)
            return
        if entry == f"view:{View.NEW_CASE}":
            self.try_refused(entry, send, SlackUser(self.app, self.slack, "U0NHSTR", TRUST), "council's own")
            return
        if not isinstance(rule, Refused):
            return
        for actor in (self.people["outsider"], self.walk.removed):
            if actor is not None:
                self.try_refused(entry, send, actor, access.NOT_A_MEMBER)

    def attempt(self, send, actor):
        before = snapshot(self.app.engine)
        mark = len(self.slack.calls)
        reply = send(actor)
        calls = self.slack.calls[mark:]
        return reply, calls, changed_tables(before, snapshot(self.app.engine))

    def try_refused(self, entry: str, send, actor: SlackUser, why: str) -> None:
        reply, calls, changed = self.attempt(send, actor)
        who = f"{entry} by {actor.user_id}"
        if reply.status != 200:
            self.failures.append(f"{who}: HTTP {reply.status}")
        if changed:
            self.failures.append(f"{who}: stored {changed}")
        public = public_calls(calls, actor)
        if public:
            self.failures.append(f"{who}: {[c.method for c in public]}")
        if why not in private_texts(calls, reply, actor):
            self.failures.append(f"{who}: was not told why ({private_texts(calls, reply, actor)[:200]})")

    def try_home(self, entry: str, send, actor: SlackUser) -> None:
        reply, calls, changed = self.attempt(send, actor)
        shown = json.dumps([c.args for c in calls if c.method == "views.publish"])
        others = [c.method for c in calls if c.method != "views.publish"]
        if changed or others or reply.status != 200 or "CP-TEST-0001" in shown:
            self.failures.append(f"{entry} by {actor.user_id}: {changed} {others} {reply.status} "
                                 f"case shown: {'CP-TEST-0001' in shown}")

    def event(self, name: str, send) -> None:
        if name.startswith("shared_channel_invite_"):
            return  # Slack's own invitations: tested with ids from another case below
        actors = [self.walk.removed] if name == "member_joined_channel" else [self.people["outsider"],
                                                                              self.walk.removed]
        for actor in actors:
            if name == "app_home_opened":
                self.try_home(f"event:{name}", send, actor)
                continue
            _reply, calls, changed = self.attempt(send, actor)
            posts = [c for c in calls if c.method == "chat.postMessage"]
            expected = 1 if name == "member_joined_channel" else 0
            said = json.dumps([c.args for c in posts])
            # the one thing a join stores: the channel's note of it, kept in the outbox (scheduled_messages) so
            # that Slack refusing it does not lose it
            if expected and list(changed) == ["scheduled_messages"]:
                changed = []
            if changed or len(posts) != expected or (expected and "is not in the core group" not in said):
                self.failures.append(f"event:{name} by {actor.user_id}: stored {changed}, posts {said[:300]}")


def test_every_entry_point_refuses_outsiders_and_removed_members_and_stores_nothing(people, slack, app):
    walk = CaseWalk(people, slack, app)
    guard = Guard(walk, slack, app, people)
    walk.before = guard
    walk.run()

    assert guard.failures == [], "\n".join(guard.failures)
    assert app.executor.errors == []
    expected = ({f"action:{a}" for a, rule in ACTIONS.items() if not isinstance(rule, Unused)}
                | {f"view:{v}" for v, rule in VIEWS.items() if not isinstance(rule, Unused)}
                | {f"shortcut:{s}" for s in SHORTCUTS} | {f"command:{c}" for c in COMMANDS}
                | {f"event:{e}" for e in EVENTS})
    assert expected - guard.guarded == set(), "the walk should go through every entry point in the table"
    # The walk itself went as a member would have it: the case is closed, its records complete.
    assert walk.rows(select(Recap).where(Recap.status == "posted"))
    assert {m.slack_user_id for m in walk.rows(select(Member).where(Member.case_id == walk.case_id))
            if m.status == MemberStatus.ACTIVE} >= {"U0SW", "U0HV", "U0TEACH"}


def test_ids_without_a_listener_are_answered_404_and_store_nothing(people, slack, app):
    info = new_case(people, slack)
    before = snapshot(app.engine)
    mark = len(slack.calls)
    for action in (a for a, rule in ACTIONS.items() if isinstance(rule, Unused)):
        reply = people["sw"].click(action, {"c": info.case_id}, channel=info.channel_id)
        assert reply.status == 404, action
    for view in (v for v, rule in VIEWS.items() if isinstance(rule, Unused)):
        reply = people["sw"].submit({"id": "V0UNUSED", "type": "modal", "callback_id": view, "blocks": [],
                                     "private_metadata": json.dumps({"c": info.case_id})})
        assert reply.status == 404, view
    assert slack.calls[mark:] == []
    assert changed_tables(before, snapshot(app.engine)) == []


# --- tampered metadata and button values ---------------------------------------------------------------------


@pytest.fixture
def two_cases(people, slack, app):
    """Two cases in progress with the same social worker and health visitor; the teacher is only in case A.
    Case B has a draft record waiting for the chair's approval."""
    a = new_case(people, slack, reference="CP-TEST-0001", members=("hv", "teacher", "gp", "police"))
    b = new_case(people, slack, reference="CP-TEST-0002", members=("hv", "teacher", "gp", "police"))
    world_a = running_meeting(app.engine, a, people)
    world_b = running_meeting(app.engine, b, people)
    with Session(app.engine) as session:
        teacher_b = session.get(Member, world_b.members["teacher"])
        cases.remove_member(session, member=teacher_b, actor=Actor(team_id=COUNCIL, user_id="U0SW"))
        session.commit()
    people["hv"].command("end", channel=b.channel_id)
    people["hv"].submit(opened_view(slack, View.END), {
        Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
        Block.RECAP_CHILD_VIEWS: "Child A is happy.", Block.RECAP_RECOMMENDATION: "continue"})
    with Session(app.engine) as session:
        recap_b = session.exec(select(Recap).where(Recap.meeting_id == world_b.meeting_id)).one()
    return a, b, world_a, world_b, recap_b.id


def forged(view: dict, block_id: str, value: str) -> dict:
    """The modal as if Slack had offered `value` in the select: what a crafted request can send."""
    view = json.loads(json.dumps(view))
    for block in view["blocks"]:
        if block.get("block_id") == block_id:
            element = block["element"]
            element.setdefault("options", []).append({"text": {"type": "plain_text", "text": "x"}, "value": value})
    return view


def test_button_values_naming_another_cases_records_are_refused(people, slack, app, two_cases):
    a, b, _world_a, world_b, recap_b = two_cases
    hv = people["hv"]
    before = snapshot(app.engine)
    mark = len(slack.calls)
    clicks = [
        (Action.ACTION_DONE, {"c": a.case_id, "a": world_b.new_action_ids[0]}),
        (Action.ACTION_PROGRESS, {"c": a.case_id, "a": world_b.new_action_ids[0]}),
        (Action.ACTION_NEW_DATE, {"c": a.case_id, "a": world_b.new_action_ids[0]}),
        (Action.ATTENDING, {"c": a.case_id, "m": world_b.meeting_id}),
        (Action.SEND_UPDATE, {"c": a.case_id, "m": world_b.meeting_id}),
        (Action.MEETING_MOVE, {"c": a.case_id, "m": world_b.meeting_id}),
        (Action.MEETING_CANCEL, {"c": a.case_id, "m": world_b.meeting_id}),
        (Action.RECAP_POST, {"c": a.case_id, "r": recap_b, "h": preview_value(slack)["h"]}),
        (Action.RECAP_EDIT, {"c": a.case_id, "r": recap_b}),
        (Action.RECAP_READ, {"c": a.case_id, "r": recap_b}),
        (Action.RECAP_CORRECT, {"c": a.case_id, "r": recap_b}),
    ]
    for action_id, value in clicks:
        reply = hv.click(action_id, value, channel=a.channel_id)
        assert reply.status == 200, action_id
    with Session(app.engine) as session:
        rounds_b = session.exec(select(Score.round_id).join(Member, Member.id == Score.member_id)
                                .where(Member.case_id == b.case_id)).all()
    for action_id in (Action.GIVE_SCORE, Action.REVEAL):
        hv.click(action_id, {"c": a.case_id, "r": rounds_b[0]}, channel=a.channel_id)
    members_view_value = {"c": a.case_id, "m": world_b.members["gp"], "o": "remove"}
    people["sw"].click(Action.MEMBERS_EDIT, view={"id": "V0LIST", "type": "modal", "callback_id": "members_list"},
                       selected=json.dumps(members_view_value))
    # The teacher is not in case B: naming it is refused however the rest of the value reads.
    people["teacher"].click(Action.ACTION_DONE, {"c": b.case_id, "a": world_b.new_action_ids[0]},
                            channel=a.channel_id)

    assert changed_tables(before, snapshot(app.engine)) == []
    calls = slack.calls[mark:]
    assert [(c.method, c.args) for c in calls if c.method not in ("response_url", "chat.postEphemeral")
            and not (c.method == "views.open" and c.args["view"]["callback_id"] == "notice")] == []
    told = " ".join(json.dumps(c.args) for c in calls)
    assert told.count("no longer on this case") >= 3 and access.NOT_A_MEMBER in told
    assert app.executor.errors == []


def test_private_metadata_naming_another_cases_records_is_refused(people, slack, app, two_cases):
    a, b, world_a, world_b, recap_b = two_cases
    hv, sw = people["hv"], people["sw"]
    before = snapshot(app.engine)
    meta = lambda **ids: json.dumps({"c": a.case_id, **ids})  # noqa: E731

    hv.command("update", channel=a.channel_id)  # no meeting is scheduled in A: the form says so
    sw.command("end", channel=a.channel_id)  # the lead social worker may end a meeting in A
    end_a = opened_view(slack, View.END)
    replies = {
        "end": sw.submit(end_a, {Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
                                 Block.RECAP_CHILD_VIEWS: "Child A is happy.",
                                 Block.RECAP_RECOMMENDATION: "continue"},
                         private_metadata=meta(m=world_b.meeting_id)),
    }
    sw.command("decision", channel=a.channel_id)
    hv.command("scale", channel=a.channel_id)
    ask_a = opened_view(slack, View.SCALE_ASK)
    replies["scale"] = hv.submit(ask_a, {Block.SCALE_QUESTION: "How safe is Child A?", Block.SCALE_ZERO: "not",
                                         Block.SCALE_TEN: "safe"}, private_metadata=meta(m=world_b.meeting_id))
    sw.command("members", channel=a.channel_id)
    listed = opened_view(slack, "members_list")
    sw.click(Action.MEMBERS_EDIT, view=listed,
             selected=json.dumps({"c": a.case_id, "m": world_a.members["teacher"], "o": "remove"}))
    remove_view = opened_view(slack, View.MEMBER_REMOVE)
    replies["remove"] = sw.submit(remove_view, private_metadata=meta(m=world_b.members["gp"]))
    sw.click(Action.MEMBERS_EDIT, view=listed,
             selected=json.dumps({"c": a.case_id, "m": world_a.members["teacher"], "o": "edit"}))
    edit_view = opened_view(slack, View.MEMBER_EDIT)
    replies["edit"] = sw.submit(edit_view, {Block.ROLE: "Teacher"}, private_metadata=meta(m=world_b.members["gp"]))
    hv.command("actions", channel=a.channel_id)
    hv.click(Action.ACTION_PROGRESS, {"c": a.case_id, "a": world_a.new_action_ids[0]}, channel=a.channel_id)
    progress_view = opened_view(slack, View.ACTION_PROGRESS)
    replies["progress"] = hv.submit(progress_view, {Block.PROGRESS_NOTE: "Visited."},
                                    private_metadata=meta(a=world_b.new_action_ids[0]))
    score_meta = meta(r=_round_of(app, world_b.meeting_id))
    replies["score"] = hv.submit({"id": "V0SCORE", "type": "modal", "callback_id": View.SCALE_SCORE, "blocks": [
        {"type": "input", "block_id": Block.SCORE, "element": {
            "type": "static_select", "action_id": "s", "options": [
                {"text": {"type": "plain_text", "text": "5"}, "value": "5"}]}, "label": {"type": "plain_text",
                                                                                        "text": "x"}},
        {"type": "input", "block_id": Block.SCORE_REASON, "element": {"type": "plain_text_input", "action_id": "r"},
         "label": {"type": "plain_text", "text": "x"}}]},
        {Block.SCORE: "5", Block.SCORE_REASON: "Because."}, private_metadata=score_meta)
    hv.click(Action.RECAP_CORRECT, {"c": b.case_id, "r": recap_b}, channel=b.channel_id)

    for name, reply in replies.items():
        assert reply.status == 200, name
        answer = reply.json()
        assert answer and answer.get("response_action") in ("update", "errors"), (name, reply.body)
    assert changed_tables(before, snapshot(app.engine)) == []
    with Session(app.engine) as session:
        assert session.get(Member, world_b.members["gp"]).status == MemberStatus.ACTIVE
        assert session.exec(select(Recap).where(Recap.meeting_id == world_a.meeting_id)).all() == []
        assert session.get(ActionRow, world_b.new_action_ids[0]).status == ActionStatus.OPEN
    assert app.executor.errors == []


def _round_of(app, meeting_id: int) -> int:
    with Session(app.engine) as session:
        return session.exec(select(ScalingRound.id).where(ScalingRound.meeting_id == meeting_id)).first()


def test_select_values_naming_another_cases_people_and_plan_are_refused(people, slack, app, two_cases):
    a, _b, _world_a, world_b, _recap_b = two_cases
    sw, hv = people["sw"], people["hv"]
    before = snapshot(app.engine)
    gp_b = str(world_b.members["gp"])

    sw.command("action", channel=a.channel_id)
    view = forged(opened_view(slack, View.ACTION_ADD), Block.ACTION_OWNER, gp_b)
    reply = sw.submit(view, {Block.ACTION_WHAT: "Visit.", Block.ACTION_OWNER: gp_b, Block.ACTION_DUE: "2099-01-01",
                             Block.ACTION_MEASURE: "Visited."})
    assert reply.json()["response_action"] == "errors" and Block.ACTION_OWNER in reply.json()["errors"]

    hv.command("end", channel=a.channel_id)
    end = opened_view(slack, View.END)
    end = forged(end, Block.RECAP_NEXT_CHAIR, gp_b)
    reply = hv.submit(end, {Block.RECAP_KEY_POINTS: "Good.", Block.RECAP_RISK: "reducing",
                            Block.RECAP_CHILD_VIEWS: "Happy.", Block.RECAP_RECOMMENDATION: "continue",
                            Block.RECAP_NEXT_CHAIR: gp_b})
    assert reply.json()["response_action"] == "errors", reply.body
    assert Block.RECAP_NEXT_CHAIR in reply.json()["errors"]

    with Session(app.engine) as session:
        question_b = session.exec(select(ScalingRound.question_id).where(
            ScalingRound.meeting_id == world_b.meeting_id)).first()
    hv.command("scale", channel=a.channel_id)
    ask = opened_view(slack, View.SCALE_ASK)
    ask = forged(ask, Block.SCALE_EXISTING, str(question_b))
    reply = hv.submit(ask, {Block.SCALE_EXISTING: str(question_b), Block.SCALE_QUESTION: None,
                            Block.SCALE_ZERO: None, Block.SCALE_TEN: None})
    assert reply.json()["response_action"] == "errors", reply.body

    assert changed_tables(before, snapshot(app.engine)) == []
    assert app.executor.errors == []


def test_slack_connect_events_naming_another_cases_channel_change_nothing(people, slack, app, two_cases):
    a, b, *_ = two_cases
    reply = people["sw"].command("members", channel=a.channel_id)
    assert reply.status == 200
    people["sw"].click(Action.MEMBERS_INVITE, {"c": a.case_id}, view=opened_view(slack, "members_list"))
    people["sw"].submit(opened_view(slack, View.MEMBER_INVITE), {
        Block.EMAIL: "health.visitor.b@nhstrust.example", Block.ROLE: "Health visitor"})
    invite_id = slack.calls_to("conversations.inviteShared")[-1].response["invite_id"]
    before = snapshot(app.engine)
    mark = len(slack.calls)
    person = {"id": "U0NHSHV", "team_id": TRUST, "name": "x", "profile": {"real_name": "Someone", "team": TRUST}}
    for kind, extra in (("accepted", {"accepting_user": person, "approval_required": False}),
                        ("approved", {"approving_user": {"id": "U0ADMIN"}}),
                        ("declined", {"declining_user": person})):
        for invite, channel in ((invite_id, b.channel_id), ("I0NOTOURS", a.channel_id)):
            send_event(app, {"type": f"shared_channel_invite_{kind}", "invite": {"id": invite},
                             "channel": {"id": channel}, **extra}, team_id=COUNCIL)
    assert changed_tables(before, snapshot(app.engine)) == []
    assert [c for c in slack.calls[mark:] if c.method == "chat.postMessage"] == []


# --- mentions and links typed into forms arrive inert ------------------------------------------------------------

INJECTION = "<!channel><!here><@U0INJ><http://e.io|y>"
RAW = ("<!channel>", "<!here>", "<@U0INJ>", "<http://e.io|y>", "<!")
ESCAPED = "&lt;!channel&gt;&lt;!here&gt;&lt;@U0INJ&gt;&lt;http://e.io|y&gt;"
NOT_POSTED = {  # fields whose text is only ever shown back in the form it was typed into
    "message.text", "message2.text",  # what a person wrote in Slack, read by a message shortcut
}


def injected(field: str, default: str) -> str:
    if field == "children":
        return f"Child A {INJECTION} (7)"
    tag = "".join(ch for ch in field if ch.isalpha())
    return f"{tag} {INJECTION}"


def mrkdwn_texts(obj: Any, *, top: bool = False) -> list[str]:
    """Every string Slack reads as mrkdwn: message fallback text, mrkdwn text objects and fields."""
    found: list[str] = []
    if isinstance(obj, dict):
        if top and isinstance(obj.get("text"), str) and obj.get("mrkdwn") is not False:
            found.append(obj["text"])
        if obj.get("type") == "mrkdwn" and isinstance(obj.get("text"), str):
            found.append(obj["text"])
        for key, value in obj.items():
            if key != "text" or not isinstance(value, str):
                found += mrkdwn_texts(value)
    elif isinstance(obj, list):
        for item in obj:
            found += mrkdwn_texts(item)
    return found


def test_mentions_and_links_typed_into_every_field_arrive_inert(people, slack, app):
    fields: list[str] = []

    def text(field: str, default: str) -> str:
        fields.append(field)
        return injected(field, default)

    CaseWalk(people, slack, app, text=text).run()
    assert app.executor.errors == []

    shown: list[str] = []
    for call in slack.calls:
        texts = mrkdwn_texts(call.args, top=call.method != "views.publish")
        for piece in texts:
            leaked = [raw for raw in RAW if raw in piece and raw != "<!"]
            assert not leaked, f"{call.method} carried {leaked}: {piece[:300]}"
            assert not re.search(r"<![a-z]", piece), f"{call.method}: {piece[:300]}"
        shown += texts
    everything = "\n".join(shown)
    assert ESCAPED in everything
    missing = [f for f in dict.fromkeys(fields) if f not in NOT_POSTED
               and f"{''.join(ch for ch in f if ch.isalpha())} {ESCAPED}" not in everything
               and f != "children"]
    assert missing == [], "these fields never reached a message, so their escaping was not checked"
    assert f"Child A {ESCAPED}" in everything


# --- oversized input -----------------------------------------------------------------------------------------


def test_text_beyond_each_fields_limit_gets_a_clear_modal_error(people, slack, app):
    """Slack enforces max_length in its own client; a crafted request can still send more."""
    info = new_case(people, slack, members=("hv", "teacher"))
    sw = people["sw"]
    before = snapshot(app.engine)

    def too_long(view: dict) -> dict:
        values = {}
        for block in view["blocks"]:
            element = block.get("element") or {}
            if block.get("type") == "input" and element.get("type") == "plain_text_input":
                values[block["block_id"]] = "a" * ((element.get("max_length") or 3000) + 1)
        return values

    checked = []
    for command, callback in (("plan", View.PLAN_EDIT), ("schedule", View.SCHEDULE), ("action", View.ACTION_ADD),
                              ("close", View.CLOSE)):
        if command == "plan":
            sw.click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
        else:
            sw.command(command, channel=info.channel_id)
        view = opened_view(slack, callback)
        values = too_long(view)
        reply = sw.submit(view, values)
        assert reply.status == 200, (callback, reply.status)
        answer = reply.json()
        assert answer["response_action"] == "errors", (callback, answer)
        for block_id in values:
            assert "characters" in answer["errors"].get(block_id, ""), (callback, block_id, answer["errors"])
        checked.append(callback)
    sw.command("members", channel=info.channel_id)
    sw.click(Action.MEMBERS_ADD_OFFLINE, {"c": info.case_id}, view=opened_view(slack, "members_list"))
    view = opened_view(slack, View.MEMBER_ADD_OFFLINE)
    values = too_long(view)
    answer = sw.submit(view, {**values, Block.ROLE: "Parent"}).json()
    assert answer["response_action"] == "errors"
    assert all("characters" in answer["errors"].get(block_id, "") for block_id in values), answer["errors"]
    assert changed_tables(before, snapshot(app.engine)) == []
    assert app.executor.errors == []


def test_a_body_beyond_a_megabyte_is_refused_before_it_is_read(app, slack):
    """The server answers 413 on the declared length alone: the test sends the headers and the first kilobyte
    only, and the answer comes without the rest (sending it all would race the server closing the socket)."""
    body = "payload=" + "a" * (1024 * 1024 + 10)
    timestamp = int(time.time())
    connection = http.client.HTTPConnection("127.0.0.1", urllib.parse.urlsplit(app.url).port, timeout=15)
    try:
        connection.putrequest("POST", "/slack/events")
        connection.putheader("Content-Type", "application/x-www-form-urlencoded")
        connection.putheader("Content-Length", str(len(body)))
        connection.putheader("X-Slack-Request-Timestamp", str(timestamp))
        connection.putheader("X-Slack-Signature", sign(body, timestamp))
        connection.endheaders(body[:1024].encode())
        status = connection.getresponse().status
    finally:
        connection.close()
    assert status == 413
    assert slack.calls == []
