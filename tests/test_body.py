"""Reading a request's body (bot/body.py): whatever Slack sends, the app reads exactly what Bolt would have read,
so a form's words arrive as typed, however they are written."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.request.internals import parse_body as bolt_parse_body
from sqlmodel import select

from bot.body import parse_body, unquote_plus
from handlers.ids import Block, View
from models.tables import Update
from tests.helpers import new_case, opened_view, schedule_meeting
from tests.reads import one

CHECKS = settings(max_examples=600, deadline=None, database=None)
FORM = "application/x-www-form-urlencoded"

# Text made mostly of what decoding gives meaning to: escapes (valid, half, broken), '+', '=', line breaks, '&'.
tricky = st.text(alphabet=st.sampled_from(list("%+=&\r\n \\aF0579zZé€😀")) | st.characters(codec="utf-8"), max_size=60)
escapes = st.lists(st.sampled_from(["%", "%2", "%2B", "%e2%82%ac", "%C3", "%zz", "%%", "=", "+", "&", "a", "\n",
                                    "%0A", "%3D", "%F0%9F%98%80", "%ff", "é"]), max_size=20).map("".join)


@CHECKS
@given(st.one_of(tricky, escapes))
def test_decoding_a_value_gives_what_urllib_gives(value):
    assert unquote_plus(value) == urllib.parse.unquote_plus(value)


def assert_read_as_bolt_reads(body: str, content_type: str | None = FORM) -> None:
    try:
        expected = bolt_parse_body(body, content_type)
    except ValueError as error:  # a payload that is not JSON: refused alike
        with pytest.raises(type(error)):
            parse_body(body, content_type)
        return
    assert repr(parse_body(body, content_type)) == repr(expected)  # repr: "payload=NaN" reads as nan, not equal to nan


words = st.text(alphabet=st.characters(codec="utf-8"))
json_values = st.recursive(st.none() | st.booleans() | st.integers() | words | tricky,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(tricky, inner, max_size=4),
                           max_leaves=20)


@CHECKS
@given(json_values, st.booleans())
def test_a_payload_is_read_as_bolt_reads_it(payload, ascii_only):
    body = urllib.parse.urlencode({"payload": json.dumps({"type": "view_submission", "value": payload},
                                                         ensure_ascii=ascii_only)})
    assert_read_as_bolt_reads(body)
    assert parse_body(body, FORM)["value"] == payload


@CHECKS
@given(st.one_of(tricky, escapes, st.text()).map(lambda rest: "payload=" + rest), st.sampled_from([FORM, None]))
def test_any_body_is_read_as_bolt_reads_it(body, content_type):
    assert_read_as_bolt_reads(body, content_type)
    assert_read_as_bolt_reads(body + "&payload=%7B%7D", content_type)  # several fields: Bolt's own way


def test_commands_and_json_bodies_are_read_as_bolt_reads_them():
    for body, content_type in [
        ("token=x&team_id=T1&user_id=U1&command=%2Fcoregroup&text=update+now", FORM),
        ('{"type": "event_callback", "event": {"type": "member_left_channel"}}', "application/json"),
        ('{"type": "url_verification", "challenge": "c"}', None),
        ("", FORM),
    ]:
        assert_read_as_bolt_reads(body, content_type)


def test_an_update_with_every_kind_of_character_is_saved_as_typed(people, slack, app):
    case = new_case(people, slack)  # on the suite's Monday (tests/conftest.py), a meeting the Monday after
    schedule_meeting(people, slack, case, date="2026-11-30")
    people["hv"].command("update", channel=case.channel_id)
    typed = {
        Block.UPDATE_CHILD_VIEWS: "Child A (7) said: \"I'm 100% happy\" + she'd like 2×2 = 4 biscuits & squash 😀",
        Block.UPDATE_CONTACTS: "Visits on 3/11 & 10/11;\nlines\r\nof notes, 50%+ attendance, café, €20, %zz %",
        Block.UPDATE_WORRIES: "Rent arrears of £300 (%C3 is not a letter); key=value; a\\b",
    }
    reply = people["hv"].submit(opened_view(slack, View.UPDATE), {Block.UPDATE_ATTENDING: "apologies", **typed})
    assert reply.status == 200 and reply.body == ""
    update = one(app, select(Update))
    # Slack turns a typed "\r\n" into "\n"; the stand-in does not, so what arrives is what was sent.
    assert (update.child_views, update.contacts, update.worries) == tuple(typed.values())
