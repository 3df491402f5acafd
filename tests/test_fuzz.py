"""Fuzzing what people type: sub-command text and every modal's values (free text of any length, dates, numbers,
times, menus with options that were never offered, broken private metadata).

Whatever arrives, Slack gets an answer (never a server error) and the person a clear message: the form comes
back with errors on its own fields, is replaced by a notice, or closes because it was saved; a sub-command
replies privately or opens a form. Nothing fails inside the app ("something went wrong" is never needed).
One app and one case per test function; the examples run against it one after another.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import SOMETHING_WENT_WRONG
from handlers.ids import Action, Block, View
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.recap_world import preview_value, running_meeting

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
MONDAY = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
_view_ids = itertools.count(1)

# Text as a crafted request could send it: any characters (NUL and control characters too), any length.
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=("Cs",)), max_size=60),
    st.text(st.characters(exclude_categories=("Cs",)), min_size=2900, max_size=3100),
    st.sampled_from(["", " ", "\x00", "\n\n\n", "<!channel>", "CP-TEST-0001", "Child A (7)", "a" * 10_000,
                     "1" * 50, "-1", "1e9", "０１２", "🙂" * 400, "DROP TABLE cases;", "%s %(x)s {0}"]),
)
DATE = st.one_of(st.dates().map(lambda d: d.isoformat()), st.sampled_from(["", "2026-02-30", "yesterday",
                                                                           "2026-13-01", "0000-00-00"]), TEXT)
TIME = st.one_of(st.times().map(lambda t: t.strftime("%H:%M")), st.sampled_from(["", "25:00", "10:61", "noon"]),
                 TEXT)
NUMBER = st.one_of(st.integers(-10**12, 10**12).map(str), st.sampled_from(["", "6.5", "NaN", "-0", "1e3"]), TEXT)
USER = st.one_of(st.sampled_from(["U0SW", "U0HV", "U0TEACH", "U0OUT", "U0BOT", "W0NOBODY", ""]), TEXT)


def value_for(element: dict) -> st.SearchStrategy:
    """A value for one input: sometimes a proper one, often not."""
    kind = element["type"]
    options = [o["value"] for o in element.get("options") or []]
    if kind in ("plain_text_input", "email_text_input", "url_text_input"):
        return TEXT
    if kind == "number_input":
        return NUMBER
    if kind == "datepicker":
        return DATE
    if kind == "timepicker":
        return TIME
    if kind in ("static_select", "radio_buttons"):
        return st.one_of(st.sampled_from(options) if options else st.nothing(), TEXT, st.none())
    if kind in ("checkboxes", "multi_static_select"):
        return st.lists(st.one_of(st.sampled_from(options) if options else st.nothing(), TEXT), max_size=4)
    if kind == "users_select":
        return st.one_of(USER, st.none())
    if kind == "multi_users_select":
        return st.lists(USER, max_size=5)
    return TEXT


def state_of(element: dict, value) -> dict:
    """What Slack reports for the input holding `value`, whether or not it was one of the options."""
    kind = element["type"]
    state: dict = {"type": kind}
    if kind in ("static_select", "radio_buttons"):
        state["selected_option"] = None if value is None else {"text": {"type": "plain_text", "text": "x"},
                                                                "value": value}
    elif kind in ("checkboxes", "multi_static_select"):
        state["selected_options"] = [{"text": {"type": "plain_text", "text": "x"}, "value": v} for v in value]
    elif kind == "datepicker":
        state["selected_date"] = value or None
    elif kind == "timepicker":
        state["selected_time"] = value or None
    elif kind == "users_select":
        state["selected_user"] = value or None
    elif kind == "multi_users_select":
        state["selected_users"] = value
    else:
        state["value"] = value
    return state


def inputs(view: dict) -> list[dict]:
    return [b for b in view["blocks"] if b.get("type") == "input"]


@st.composite
def submission(draw, view: dict) -> tuple[dict, str]:
    """Values for every input of the form (each may be left as it was), and its private metadata."""
    values = {}
    for block in inputs(view):
        element = block["element"]
        if draw(st.booleans()):
            values[block["block_id"]] = {element["action_id"]: state_of(element, draw(value_for(element)))}
    same = st.just(view["private_metadata"])
    metadata = draw(st.one_of(same, same, same, same,
                              st.sampled_from(["", "{", "[]", "null", '{"c": "x"}', '{"c": 99999}',
                                               '{"c": 1, "m": "1; drop"}', '{"c": 1, "pl": 1}']), TEXT))
    return {"values": values}, metadata


def submit(user, view: dict, state: dict, metadata: str):
    """Send the form as Slack would, with these values, each time as a new form."""
    sent = dict(view, id=f"VFUZZ{next(_view_ids):06d}", state=state, private_metadata=metadata)
    payload = {"type": "view_submission", "team": {"id": user.team_id}, "user": {"id": user.user_id,
                                                                              "team_id": user.team_id},
               "api_app_id": "A0COREGROUP", "trigger_id": user.standin.trigger_id(), "view": sent}
    return user._send_form(payload)


def assert_clear_answer(view: dict, reply) -> None:
    assert reply.status == 200, reply
    if not reply.body:
        return  # saved (or a repeat of one saved): the form closes
    answer = json.loads(reply.body)
    assert SOMETHING_WENT_WRONG not in reply.body, "the app failed inside"
    assert answer["response_action"] in ("errors", "update"), answer
    if answer["response_action"] == "errors":
        fields = {b["block_id"] for b in inputs(view)}
        assert answer["errors"] and set(answer["errors"]) <= fields, (answer["errors"], fields)
        assert all(isinstance(m, str) and 0 < len(m) <= 2000 for m in answer["errors"].values())
    else:
        assert answer["view"]["blocks"], answer


def fuzz_forms(user, views: list[dict], app):
    @settings(FUZZ, max_examples=20 * len(views))
    @given(data=st.data())
    def run(data):
        view = data.draw(st.sampled_from(views), label="form")
        state, metadata = data.draw(submission(view), label="values")
        assert_clear_answer(view, submit(user, view, state, metadata))

    run()
    assert app.executor.errors == []


@pytest.fixture
def monday():
    with time_machine.travel(MONDAY, tick=True):
        yield


# --- sub-commands ------------------------------------------------------------------------------------------


def test_any_sub_command_text_gets_a_private_answer_or_a_form(people, slack, app, monday):
    info = new_case(people, slack, members=("hv", "teacher"))
    names = sorted(app.deps.commands.subcommands)

    @FUZZ
    @given(name=st.one_of(st.sampled_from(names), TEXT), rest=st.one_of(st.just(""), TEXT),
           where=st.sampled_from([info.channel_id, "C0GENERAL"]), who=st.sampled_from(["hv", "outsider"]))
    def run(name, rest, where, who):
        mark = len(slack.calls)
        reply = people[who].command(f"{name} {rest}".strip(), channel=where)
        calls = slack.calls[mark:]
        assert reply.status == 200
        answered = reply.body or [c for c in calls if c.method in ("response_url", "chat.postEphemeral",
                                                                   "views.open") and c.status == 200]
        assert answered, f"no answer to {name!r}"
        assert SOMETHING_WENT_WRONG not in json.dumps([c.args for c in calls])
        assert all(c.response.get("ok") for c in calls if c.method != "response_url"), \
            [(c.method, c.response) for c in calls if not c.response.get("ok")]

    run()
    assert app.executor.errors == []


# --- forms ---------------------------------------------------------------------------------------------------


def open_from(slack, user, command: str, callback: str, channel: str) -> dict:
    user.command(command, channel=channel)
    return opened_view(slack, callback)


def test_forms_of_a_case_without_a_meeting(people, slack, app, monday):
    info = new_case(people, slack, members=("hv", "teacher"))
    sw = people["sw"]
    views = [open_from(slack, sw, "new", View.NEW_CASE, "C0GENERAL"),
             open_from(slack, sw, "schedule", View.SCHEDULE, info.channel_id),
             open_from(slack, sw, "action", View.ACTION_ADD, info.channel_id),
             open_from(slack, sw, "decision", View.DECISION, info.channel_id)]
    sw.click(Action.PLAN_EDIT, {"c": info.case_id}, channel=info.channel_id)
    views.append(opened_view(slack, View.PLAN_EDIT))
    listed = open_from(slack, sw, "members", "members_list", info.channel_id)
    for action_id, callback in ((Action.MEMBERS_ADD, View.MEMBER_ADD), (Action.MEMBERS_ADD_OFFLINE,
                                                                          View.MEMBER_ADD_OFFLINE),
                                (Action.MEMBERS_INVITE, View.MEMBER_INVITE)):
        sw.click(action_id, {"c": info.case_id}, view=listed)
        views.append(opened_view(slack, callback))
    hv = next(b for b in listed["blocks"] if "U0HV" in json.dumps(b.get("text") or {}))
    sw.click(Action.MEMBERS_EDIT, view=listed, selected=hv["accessory"]["options"][0]["value"])
    views.append(opened_view(slack, View.MEMBER_EDIT))
    fuzz_forms(sw, views, app)


def test_forms_around_a_scheduled_meeting(people, slack, app, monday):
    info = new_case(people, slack, members=("hv", "teacher"))
    meeting = schedule_meeting(people, slack, info, chair="sw", date="2026-11-26")
    value = {"c": info.case_id, "m": meeting.id}
    sw = people["sw"]
    views = [open_from(slack, sw, "update", View.UPDATE, info.channel_id)]
    for action_id, callback in ((Action.MEETING_MOVE, View.MEETING_MOVE), (Action.MEETING_CANCEL,
                                                                            View.MEETING_CANCEL)):
        sw.click(action_id, value, channel=info.channel_id)
        views.append(opened_view(slack, callback))
    views.append(open_from(slack, sw, "start", View.START, info.channel_id))
    views.append(open_from(slack, sw, "close", View.CLOSE, info.channel_id))
    fuzz_forms(sw, views, app)


def test_forms_of_a_meeting_in_progress_and_its_record(people, slack, app):
    info = new_case(people, slack, members=("hv", "teacher", "gp", "police"))
    world = running_meeting(app.engine, info, people)
    hv = people["hv"]
    views = [open_from(slack, hv, "scale", View.SCALE_ASK, info.channel_id),
             open_from(slack, hv, "end", View.END, info.channel_id)]
    hv.click(Action.GIVE_SCORE, {"c": info.case_id, "r": _round(app, world.meeting_id)}, channel=info.channel_id)
    views.append(opened_view(slack, View.SCALE_SCORE))
    value = {"c": info.case_id, "a": world.new_action_ids[0]}
    for action_id, callback in ((Action.ACTION_PROGRESS, View.ACTION_PROGRESS),
                                (Action.ACTION_NEW_DATE, View.ACTION_NEW_DATE)):
        hv.click(action_id, value, channel=info.channel_id)
        views.append(opened_view(slack, callback))
    hv.submit(views[1], {Block.RECAP_KEY_POINTS: "Good progress.", Block.RECAP_RISK: "reducing",
                         Block.RECAP_CHILD_VIEWS: "Child A is happy.", Block.RECAP_RECOMMENDATION: "continue"})
    hv.click(Action.RECAP_POST, preview_value(slack), channel=info.channel_id)
    correct = preview_value(slack, Action.RECAP_CORRECT)
    hv.click(Action.RECAP_CORRECT, correct, channel=info.channel_id)
    views.append(opened_view(slack, View.RECAP_CORRECT))
    fuzz_forms(hv, views, app)


def _round(app, meeting_id: int) -> int:
    from sqlmodel import Session, select

    from models.tables import ScalingRound

    with Session(app.engine) as session:
        return session.exec(select(ScalingRound.id).where(ScalingRound.meeting_id == meeting_id)).first()
