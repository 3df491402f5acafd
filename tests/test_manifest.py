"""manifest.yml is a valid Slack app manifest that matches what the app listens for."""

from pathlib import Path

import yaml

from handlers.ids import COMMAND, Shortcut

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


def load():
    return yaml.safe_load(MANIFEST.read_text())


def test_manifest_has_the_parts_slack_needs():
    manifest = load()
    assert manifest["display_information"]["name"] == "CoreGroup"
    assert 174 <= len(manifest["display_information"]["long_description"]) <= 4000
    features = manifest["features"]
    assert features["bot_user"]["display_name"]
    assert features["app_home"]["home_tab_enabled"] is True
    command = features["slash_commands"][0]
    assert command["command"] == COMMAND and command["description"] and command["usage_hint"]
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"]["is_enabled"] is True
    assert {"app_home_opened", "member_left_channel", "member_joined_channel"} <= set(
        settings["event_subscriptions"]["bot_events"])


def test_shortcuts_match_the_app():
    callback_ids = {s["callback_id"] for s in load()["features"]["shortcuts"]}
    assert callback_ids == {s.value for s in Shortcut}
    assert all(s["type"] == "message" for s in load()["features"]["shortcuts"])


def test_every_scope_says_why_it_is_needed():
    lines = MANIFEST.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "bot:")
    scopes = []
    for line in lines[start + 1:]:
        if not line.strip().startswith("- "):
            break
        scopes.append(line)
    assert scopes, "no bot scopes found"
    for line in scopes:
        assert "#" in line and len(line.split("#", 1)[1].strip()) > 10, f"scope without a reason: {line.strip()}"
    assert "channels:history" not in MANIFEST.read_text()  # least privilege: no public channel access
