"""The Block Kit builders (handlers/blocks/kit.py) that build menus, input blocks and modals as plain dicts give
exactly what slack_sdk's models give, and refuse what the models refuse: they are only faster."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from handlers.blocks import kit

TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=120)
VALUE = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=150)
CHOICES = st.lists(st.tuples(TEXT, VALUE), min_size=1, max_size=12, unique_by=lambda c: c[1])
QUICK = settings(max_examples=60, deadline=None, database=None)


def options(choices):
    return [Option(text=PlainTextObject(text=kit.clip(text, 75)), value=value) for text, value in choices]


@QUICK
@given(choices=CHOICES, data=st.data())
def test_menus_are_what_slack_sdk_builds(choices, data):
    initial = data.draw(st.one_of(st.none(), st.sampled_from([v for _, v in choices])))
    built = options(choices)
    chosen = next((o for o in built if o.value == initial), None)
    assert kit.select("pick_input", choices, initial=initial) == StaticSelectElement(
        action_id="pick_input", options=built[:100], initial_option=chosen,
        placeholder=PlainTextObject(text="Choose")).to_dict()
    assert kit.radio("pick_input", choices, initial=initial) == RadioButtonsElement(
        action_id="pick_input", options=built[:10], initial_option=chosen if chosen in built[:10] else None).to_dict()
    ticked = [o for o in built[:10] if o.value == initial]
    assert kit.checkboxes("pick_input", choices, initial=[initial] if initial else []) == CheckboxesElement(
        action_id="pick_input", options=built[:10], initial_options=ticked or None).to_dict()


@QUICK
@given(label=TEXT, hint=st.one_of(st.none(), TEXT), optional=st.booleans(), dispatch=st.booleans())
def test_input_blocks_are_what_slack_sdk_builds(label, hint, optional, dispatch):
    element = kit.plain_input("text_input", multiline=True, max_length=300)
    assert kit.input_block(label, element, block_id="text", optional=optional, hint=hint,
                           dispatch_action=dispatch) == InputBlock(
        label=PlainTextObject(text=kit.clip(label, 2000)), element=element, block_id="text", optional=optional,
        hint=PlainTextObject(text=kit.clip(hint, 2000)) if hint else None, dispatch_action=dispatch or None).to_dict()


@QUICK
@given(title=TEXT, submit=st.one_of(st.none(), TEXT), close=TEXT, notify=st.booleans(),
       metadata=st.dictionaries(st.sampled_from("cmra"), st.integers(0, 10**6), max_size=4))
def test_modals_are_what_slack_sdk_builds(title, submit, close, notify, metadata):
    blocks = [kit.section("Some *text*"), kit.input_block("Why?", kit.plain_input("why_input"), block_id="why"),
              kit.input_block("Which?", kit.select("which_input", [("One", "1"), ("Two", "2")]), block_id="which")]
    assert kit.modal(title=title, blocks=blocks, callback_id="form", submit=submit, close=close,
                     private_metadata=metadata, notify_on_close=notify) == View(
        type="modal", title=PlainTextObject(text=kit.clip(title, 24)),
        submit=PlainTextObject(text=kit.clip(submit, 24)) if submit else None,
        close=PlainTextObject(text=kit.clip(close, 24)), blocks=blocks, callback_id="form",
        private_metadata=json.dumps(metadata, separators=(",", ":")), notify_on_close=notify or None).to_dict()


@QUICK
@given(text=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=3100),
       block_id=st.one_of(st.none(), st.text("abc_123", min_size=1, max_size=40)))
def test_sections_and_context_are_what_slack_sdk_builds(text, block_id):
    accessory = kit.button("Open", "open_it", {"c": 1})
    assert kit.section(text, block_id=block_id) == SectionBlock(
        text=MarkdownTextObject(text=kit.clip(text, 3000)), block_id=block_id).to_dict()
    with_button = SectionBlock(text=MarkdownTextObject(text=kit.clip(text, 3000)), block_id=block_id).to_dict()
    with_button["accessory"] = accessory
    assert kit.section(text, block_id=block_id, accessory=accessory) == with_button
    assert kit.context(text) == ContextBlock(elements=[MarkdownTextObject(text=kit.clip(text, 3000))]).to_dict()


def test_what_slack_would_refuse_is_refused_while_building():
    with pytest.raises(SlackObjectFormationError):
        kit.select("pick_input", [("Too long a value", "v" * 151)])
    with pytest.raises(SlackObjectFormationError):
        kit.modal(title="Form", blocks=[], callback_id="form", private_metadata={"c": "x" * 3000})
    with pytest.raises(SlackObjectFormationError):
        kit.input_block("Label", kit.plain_input("x"), block_id="b" * 256)
