"""Fast tests of the Slack Web API stand-in itself, through a real slack_sdk WebClient."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry import default_retry_handlers
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler, ServerErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.slack_standin import SlackStandIn

HV_A = "U0HVA"  # Health Visitor A (NHS trust, Slack Connect)
SW_B = "U0SWB"  # Social Worker B (council)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    stand_in = SlackStandIn().start()
    stand_in.add_user(SW_B, name="Social Worker B", email="sw.b@council.example")
    stand_in.add_user(HV_A, team_id=SlackStandIn.OTHER_TEAM, name="Health Visitor A", email="hv.a@nhs-trust.example")
    yield stand_in
    stand_in.stop()


@pytest.fixture
def client(standin: SlackStandIn) -> WebClient:
    handlers = [
        *default_retry_handlers(),
        RateLimitErrorRetryHandler(max_retry_count=2),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return WebClient(token=SlackStandIn.BOT_TOKEN, base_url=standin.url, timeout=5, retry_handlers=handlers)


def section(text: str, **extra) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


MODAL = {
    "type": "modal",
    "callback_id": "new_case",
    "title": {"type": "plain_text", "text": "New core group"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [
        {
            "type": "input",
            "block_id": "reference",
            "label": {"type": "plain_text", "text": "Case reference"},
            "element": {"type": "plain_text_input", "action_id": "value"},
        }
    ],
}


def channel_with_bot(client: WebClient, name: str = "cg-0001") -> str:
    return client.conversations_create(name=name, is_private=True)["channel"]["id"]


# ---- auth and messages ----------------------------------------------------------------


def test_auth_test_and_bad_tokens(standin: SlackStandIn, client: WebClient) -> None:
    assert client.auth_test()["user_id"] == SlackStandIn.BOT_USER
    for token, error in (("xoxb-wrong", "invalid_auth"), (None, "not_authed")):
        anonymous = WebClient(token=token, base_url=standin.url)
        with pytest.raises(SlackApiError) as caught:
            anonymous.auth_test()
        assert caught.value.response["error"] == error
    assert standin.calls[0].token == SlackStandIn.BOT_TOKEN


def test_unknown_method(client: WebClient) -> None:
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.postMessagee", json={"channel": "C1", "text": "x"})
    assert caught.value.response.status_code == 200
    assert caught.value.response["error"] == "unknown_method"


def test_post_message_ok_and_ts_increasing(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    first = client.chat_postMessage(channel=channel, text="Core group created", blocks=[section("Created")])
    second = client.chat_postMessage(channel=channel, text="Reply", thread_ts=first["ts"], unfurl_links=False)
    assert first["channel"] == channel and first["message"]["text"] == "Core group created"
    assert float(second["ts"]) > float(first["ts"])
    call = standin.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == [section("Created")] and call.token == SlackStandIn.BOT_TOKEN
    assert standin.calls_to("chat.postMessage")[1].args["unfurl_links"] is False
    assert [m["ts"] for m in standin.messages(channel)] == [first["ts"], second["ts"]]
    assert standin.messages(channel)[1]["thread_ts"] == first["ts"]


def test_post_message_errors(standin: SlackStandIn, client: WebClient) -> None:
    outside = standin.add_channel("elsewhere")
    outside.members.discard(SlackStandIn.BOT_USER)
    channel = channel_with_bot(client)
    cases = [
        ({"channel": "C0NOPE", "text": "x"}, "channel_not_found"),
        ({"channel": outside.id, "text": "x"}, "not_in_channel"),
        ({"channel": channel}, "no_text"),
        ({"channel": channel, "text": "x" * 40_001}, "msg_too_long"),
    ]
    for kwargs, error in cases:
        with pytest.raises(SlackApiError) as caught, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # slack_sdk nags about the missing text
            client.chat_postMessage(**kwargs)
        assert caught.value.response["error"] == error
    client.conversations_archive(channel=channel)
    with pytest.raises(SlackApiError, match="is_archived"):
        client.chat_postMessage(channel=channel, text="x")


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ([{"type": "sectionn", "text": {"type": "mrkdwn", "text": "x"}}], "unsupported type: sectionn"),
        ([section(f"item {i}") for i in range(51)], "no more than 50 items"),
        ([section("x" * 3001)], "must be less than 3001 characters [json-pointer:/blocks/0/text/text]"),
        ([{"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}], "less than 151"),
        ([section("a", block_id="same"), section("b", block_id="same")], "duplicate block_id"),
    ],
)
def test_invalid_blocks(client: WebClient, blocks: list, expected: str) -> None:
    channel = channel_with_bot(client)
    with pytest.raises(SlackApiError) as caught:
        client.chat_postMessage(channel=channel, text="fallback", blocks=blocks)
    response = caught.value.response
    assert response["error"] == "invalid_blocks"
    assert any(expected in e for e in response["errors"]), response["errors"]
    assert all(m.startswith("[ERROR] ") for m in response["response_metadata"]["messages"])


def test_blocks_too_large_in_total_are_refused_as_slack_does(standin: SlackStandIn, client: WebClient) -> None:
    """Five full sections are each valid, but together over Slack's limit on a message's size."""
    channel = channel_with_bot(client)
    client.conversations_invite(channel=channel, users=SW_B)
    for method in (client.chat_postMessage, client.chat_postEphemeral):
        with pytest.raises(SlackApiError) as caught:
            method(channel=channel, user=SW_B, text="fallback", blocks=[section("x" * 3000) for _ in range(5)])
        assert caught.value.response["error"] == "msg_blocks_too_long"
    posted = client.chat_postMessage(channel=channel, text="fallback", blocks=[section("x" * 3000) for _ in range(4)])
    with pytest.raises(SlackApiError, match="msg_blocks_too_long"):
        client.chat_update(channel=channel, ts=posted["ts"], text="fallback",
                           blocks=[section("x" * 3000) for _ in range(5)])
    assert [len(m["blocks"]) for m in standin.messages(channel)] == [4]


def test_blocks_as_json_string_and_duplicate_action_ids(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    buttons = {"type": "actions", "elements": [
        {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "A"}},
        {"type": "button", "action_id": "go", "text": {"type": "plain_text", "text": "B"}},
    ]}  # fmt: skip
    with pytest.raises(SlackApiError) as caught:
        client.api_call("chat.postMessage", params={"channel": channel, "text": "t", "blocks": json.dumps([buttons])})
    assert "duplicate action_id" in caught.value.response["errors"][0]
    assert standin.calls[-1].args["blocks"] == [buttons]


# ---- DMs, ephemeral, updates --------------------------------------------------------------


def test_dm_by_user_id_and_refuse_dm(standin: SlackStandIn, client: WebClient) -> None:
    posted = client.chat_postMessage(channel=SW_B, text="You were added to a core group")
    opened = client.conversations_open(users=SW_B)
    assert posted["channel"] == opened["channel"]["id"] and posted["channel"].startswith("D")
    assert standin.messages(SW_B)[0]["text"] == "You were added to a core group"

    standin.refuse_dm(SlackStandIn.TEAM, SW_B, error="messages_tab_disabled")
    for call in (lambda: client.chat_postMessage(channel=SW_B, text="x"),
                 lambda: client.chat_postMessage(channel=posted["channel"], text="x"),
                 lambda: client.conversations_open(users=SW_B)):  # fmt: skip
        with pytest.raises(SlackApiError) as caught:
            call()
        assert caught.value.response["error"] == "messages_tab_disabled"

    standin.add_user("U0HVC", team_id=SlackStandIn.OTHER_TEAM, name="Health Visitor C", visible=True)
    standin.refuse_dm(SlackStandIn.OTHER_TEAM, "U0HVC")
    with pytest.raises(SlackApiError, match="invalid_user_combination"):
        client.conversations_open(users="U0HVC")


def test_ephemeral_update_delete_permalink_pins(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    with pytest.raises(SlackApiError, match="user_not_in_channel"):
        client.chat_postEphemeral(channel=channel, user=SW_B, text="only you")
    client.conversations_invite(channel=channel, users=SW_B)
    assert client.chat_postEphemeral(channel=channel, user=SW_B, text="only you")["message_ts"]

    ts = client.chat_postMessage(channel=channel, text="Plan v1")["ts"]
    updated = client.chat_update(channel=channel, ts=ts, text="Plan v2", blocks=[section("v2")])
    assert updated["text"] == "Plan v2" and standin.messages(channel)[0]["blocks"] == [section("v2")]
    assert client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"].endswith(ts.replace(".", ""))
    client.pins_add(channel=channel, timestamp=ts)
    with pytest.raises(SlackApiError, match="already_pinned"):
        client.pins_add(channel=channel, timestamp=ts)
    client.chat_delete(channel=channel, ts=ts)
    with pytest.raises(SlackApiError, match="message_not_found"):
        client.chat_update(channel=channel, ts=ts, text="gone")


# ---- conversations --------------------------------------------------------------------------


def test_conversations_create_rules(client: WebClient) -> None:
    created = client.conversations_create(name="cg-2024-0042", is_private=True)["channel"]
    assert created["is_private"] is True and created["is_member"] is True
    for name, error in (("cg-2024-0042", "name_taken"), ("CG Upper", "invalid_name_specials"),
                        ("c" * 81, "invalid_name_maxlength")):  # fmt: skip
        with pytest.raises(SlackApiError) as caught:
            client.conversations_create(name=name)
        assert caught.value.response["error"] == error


def test_invite_kick_members_archive(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    assert client.conversations_invite(channel=channel, users=[SW_B])["channel"]["id"] == channel
    for users, error in ((SW_B, "already_in_channel"), ("U0NOBODY", "user_not_found"),
                         (SlackStandIn.BOT_USER, "cant_invite_self")):  # fmt: skip
        with pytest.raises(SlackApiError) as caught:
            client.conversations_invite(channel=channel, users=users)
        assert caught.value.response["error"] == error
    assert set(client.conversations_members(channel=channel)["members"]) == {SlackStandIn.BOT_USER, SW_B}
    client.conversations_kick(channel=channel, user=SW_B)
    assert SW_B not in standin.channels[channel].members
    client.conversations_archive(channel=channel)
    with pytest.raises(SlackApiError, match="already_archived"):
        client.conversations_archive(channel=channel)
    assert client.conversations_info(channel=channel)["channel"]["is_archived"] is True


def test_history_newest_first_with_metadata(client: WebClient) -> None:
    channel = channel_with_bot(client)
    metadata = {"event_type": "case_created", "event_payload": {"case": "0042"}}
    first = client.chat_postMessage(channel=channel, text="one", metadata=metadata)["ts"]
    client.chat_postMessage(channel=channel, text="reply", thread_ts=first)
    second = client.chat_postMessage(channel=channel, text="two")["ts"]
    history = client.conversations_history(channel=channel, include_all_metadata=True)["messages"]
    assert [m["ts"] for m in history] == [second, first]
    assert history[1]["metadata"] == metadata
    assert "metadata" not in client.conversations_history(channel=channel)["messages"][1]


def test_invite_shared_then_accept(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    with pytest.raises(SlackApiError, match="user_not_found"):
        client.users_info(user=HV_A)  # another organisation, not yet sharing a channel
    answer = client.conversations_inviteShared(channel=channel, emails=["hv.a@nhs-trust.example"])
    assert answer["invite_id"].startswith("I") and answer["is_legacy_shared_channel"] is False
    assert standin.calls_to("conversations.inviteShared")[0].args["emails"] == "hv.a@nhs-trust.example"

    user = standin.accept_shared_invite(answer["invite_id"], HV_A)
    assert user["team_id"] == SlackStandIn.OTHER_TEAM
    assert HV_A in standin.channels[channel].members
    assert client.conversations_info(channel=channel)["channel"]["is_ext_shared"] is True
    assert client.users_info(user=HV_A)["user"]["real_name"] == "Health Visitor A"


def test_users_lookup_by_email(client: WebClient) -> None:
    assert client.users_lookupByEmail(email="sw.b@council.example")["user"]["id"] == SW_B
    for email in ("hv.a@nhs-trust.example", "nobody@council.example"):
        with pytest.raises(SlackApiError, match="users_not_found"):
            client.users_lookupByEmail(email=email)


# ---- views ------------------------------------------------------------------------------------


def test_views_open_trigger_rules(standin: SlackStandIn, client: WebClient) -> None:
    trigger = standin.trigger_id()
    view = client.views_open(trigger_id=trigger, view=MODAL)["view"]
    assert view["id"].startswith("V") and view["hash"] and view["callback_id"] == "new_case"

    with pytest.raises(SlackApiError) as caught:
        client.views_open(trigger_id=trigger, view=MODAL)
    assert caught.value.response["error"] == SlackStandIn.TRIGGER_REUSE_ERROR

    stale = standin.trigger_id()
    standin.expire_trigger(stale)
    for trigger_id in (stale, "1700000000.1.abcdef0123"):
        with pytest.raises(SlackApiError) as caught:
            client.views_open(trigger_id=trigger_id, view=MODAL)
        assert caught.value.response["error"] == "expired_trigger_id"

    standin.TRIGGER_TTL = 0.05  # the real 3 s, shortened
    late = standin.trigger_id()
    time.sleep(0.1)
    with pytest.raises(SlackApiError, match="expired_trigger_id"):
        client.views_push(trigger_id=late, view=MODAL)


def test_views_validation_update_and_publish(standin: SlackStandIn, client: WebClient) -> None:
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "A title far too long for Slack"}}
    no_submit = {key: value for key, value in MODAL.items() if key != "submit"}
    for bad, expected in ((long_title, "/view/title/text"), (no_submit, "submit is required")):
        with pytest.raises(SlackApiError) as caught:
            client.views_open(trigger_id=standin.trigger_id(), view=bad)
        assert caught.value.response["error"] == "invalid_arguments"
        assert expected in caught.value.response["response_metadata"]["messages"][0]

    opened = client.views_open(trigger_id=standin.trigger_id(), view=MODAL)["view"]
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)["view"]
    assert updated["id"] == opened["id"]
    with pytest.raises(SlackApiError, match="not_found"):
        client.views_update(view_id="V0MISSING", view=MODAL)
    home = {"type": "home", "blocks": [section("Your core groups")]}
    assert client.views_publish(user_id=SW_B, view=home)["view"]["type"] == "home"
    assert standin.home_views[SW_B]["blocks"] == home["blocks"]


# ---- faults -----------------------------------------------------------------------------------


def test_rate_limit_then_ok(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_next("auth.test", retry_after=0)
    assert client.auth_test()["ok"] is True
    calls = standin.calls_to("auth.test")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response == {"ok": False, "error": "ratelimited"}


def test_rate_limit_header_and_body(standin: SlackStandIn) -> None:
    standin.fail_next("chat.postMessage", retry_after=7)
    request = urllib.request.Request(standin.url + "chat.postMessage", data=b"channel=C1&text=x")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 429 and caught.value.headers["Retry-After"] == "7"
    assert json.loads(caught.value.read()) == {"ok": False, "error": "ratelimited"}


def test_server_error_then_ok(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    standin.fail_next("chat.postMessage", status=500)
    assert client.chat_postMessage(channel=channel, text="after a blip")["ok"] is True
    calls = standin.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [500, 200] and calls[0].response["error"] == "internal_error"
    assert len(standin.messages(channel)) == 1


def test_fail_with_ok_false_and_delay(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail_next("auth.test", status=200, error="team_access_not_granted")
    with pytest.raises(SlackApiError, match="team_access_not_granted"):
        client.auth_test()
    standin.delay_next("auth.test", 0.3)
    started = time.monotonic()
    client.auth_test()
    assert time.monotonic() - started >= 0.3


def test_wait_for_and_its_message(standin: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    assert len(standin.wait_for("auth.test", where=lambda c: c.status == 200)) == 1
    with pytest.raises(AssertionError, match=r"auth.test.*1"):
        standin.wait_for("chat.postMessage", timeout=0.1)
    standin.reset()
    assert standin.calls == []


# ---- files and response URLs ------------------------------------------------------------------


def test_files_upload_v2_round_trip(standin: SlackStandIn, client: WebClient) -> None:
    channel = channel_with_bot(client)
    parent = client.chat_postMessage(channel=channel, text="Chronology")["ts"]
    done = client.files_upload_v2(channel=channel, content=b"\x89PNG chart", filename="x.png", thread_ts=parent,
                                  title="Chronology chart", initial_comment="Chart attached")  # fmt: skip
    file_id = done["file"]["id"]
    assert standin.uploaded_files[file_id] == ("x.png", b"\x89PNG chart", "Chronology chart")
    reply = standin.messages(channel)[-1]
    assert reply["thread_ts"] == parent and reply["files"][0]["id"] == file_id
    assert [c.method for c in standin.calls[-3:]] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]  # fmt: skip
    with pytest.raises(SlackApiError, match="file_not_found"):
        client.files_completeUploadExternal(files=[{"id": "F0NEVER"}], channel_id=channel)


def test_response_url(standin: SlackStandIn) -> None:
    url = standin.response_url()
    ok = WebhookClient(url).send(text="Done", response_type="ephemeral")
    assert (ok.status_code, ok.body) == (200, "ok")
    bad = WebhookClient(url).send(text="x", blocks=[{"type": "nonsense"}])
    assert (bad.status_code, bad.body) == (400, "invalid_blocks")
    calls = standin.wait_for("response_url", count=2)
    assert calls[0].args["text"] == "Done" and calls[0].url == url


def test_conversations_members_pages_as_slack_does(standin: SlackStandIn, client: WebClient):
    users = [f"U0MEMBER{n:02d}" for n in range(5)]
    for user in users:
        standin.add_user(user, name=user)
    channel = standin.add_channel("cp-test-members", is_private=True, members=users).id
    seen, cursor, pages = [], "", 0
    while True:
        page = client.conversations_members(channel=channel, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += page["members"]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted([*users, SlackStandIn.BOT_USER]) and len(seen) == len(set(seen)) and pages == 3
    with pytest.raises(SlackApiError) as bad_cursor:
        client.conversations_members(channel=channel, cursor="not-a-cursor")
    assert bad_cursor.value.response["error"] == "invalid_cursor"
    standin.channels[channel].members.discard(SlackStandIn.BOT_USER)
    with pytest.raises(SlackApiError) as not_in:
        client.conversations_members(channel=channel)
    assert not_in.value.response["error"] == "channel_not_found"
