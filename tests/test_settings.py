"""Settings: a missing token is one clear message naming it and where to get it; tokens never printed."""

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import Settings, SettingsError


def test_missing_tokens_are_named_with_where_to_get_them():
    settings = Settings.from_env({})
    with pytest.raises(SettingsError) as error:
        settings.require(socket_mode=True)
    message = str(error.value)
    assert "SLACK_BOT_TOKEN" in message and "SLACK_APP_TOKEN" in message
    assert "OAuth & Permissions" in message and "App-Level Tokens" in message
    assert "SLACK_SIGNING_SECRET" not in message  # not needed in Socket Mode


def test_http_mode_needs_the_signing_secret_not_the_app_token():
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    with pytest.raises(SettingsError) as error:
        settings.require(socket_mode=False)
    assert "SLACK_SIGNING_SECRET" in str(error.value) and "SLACK_APP_TOKEN" not in str(error.value)


def test_tokens_are_not_in_repr():
    settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-secret-value", "SLACK_APP_TOKEN": "xapp-secret-value",
                                  "SLACK_SIGNING_SECRET": "signing-secret-value",
                                  "DATABASE_URL": "postgresql://u:dbpassword@h/db"})
    text = repr(settings)
    for secret in ("xoxb-secret-value", "xapp-secret-value", "signing-secret-value", "dbpassword"):
        assert secret not in text


def test_bad_numbers_and_times_are_explained():
    with pytest.raises(SettingsError, match="PORT must be a whole number"):
        Settings.from_env({"PORT": "eighty"})
    with pytest.raises(SettingsError, match="COREGROUP_WORKING_DAY_START must be a time like 09:00"):
        Settings.from_env({"COREGROUP_WORKING_DAY_START": "nine"})


def test_slack_api_url_gets_a_trailing_slash():
    assert Settings.from_env({"SLACK_API_URL": "http://127.0.0.1:9/api"}).slack_api_url == "http://127.0.0.1:9/api/"


def test_run_without_tokens_exits_non_zero_with_the_message(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no .env here
    for name in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "SLACK_SIGNING_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "SLACK_BOT_TOKEN" in err and "Traceback" not in err


def test_console_script_reports_missing_settings(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SLACK_APP_TOKEN": "xapp-1-visible-part"}
    result = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN" in result.stderr
    assert "xapp-1-visible-part" not in result.stderr + result.stdout


def test_placeholders_copied_from_env_example_count_as_missing():
    for socket_mode, needed in ((True, ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")),
                                (False, ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"))):
        settings = Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-...", "SLACK_APP_TOKEN": "xapp-...",
                                      "SLACK_SIGNING_SECRET": "<your signing secret>"})
        with pytest.raises(SettingsError) as error:
            settings.require(socket_mode=socket_mode)
        message = str(error.value)
        assert message.startswith("CoreGroup cannot start: some settings are missing.")
        for name in needed:
            assert f"{name} (it still has the example value from .env.example)" in message
        assert "OAuth & Permissions" in message
    for bare in ("xoxb-", "xoxb-\u2026"):
        with pytest.raises(SettingsError, match="SLACK_BOT_TOKEN"):
            Settings.from_env({"SLACK_BOT_TOKEN": bare, "SLACK_SIGNING_SECRET": "abc123"}).require(socket_mode=False)
    # Real-looking values are accepted.
    Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1-2-abc", "SLACK_APP_TOKEN": "xapp-1-A0-1-abc"}).require(
        socket_mode=True)


def test_running_with_env_example_copied_unfilled_exits_with_the_message_not_a_slack_traceback(tmp_path):
    """Someone copies .env.example to .env and runs the app without filling it in."""
    example = Path(__file__).resolve().parent.parent / ".env.example"
    (tmp_path / ".env").write_text(example.read_text())
    for mode in ([], ["--http"]):
        result = subprocess.run([sys.executable, "-m", "bot.cli", "run", *mode], cwd=tmp_path,
                                env={"PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=60,
                                check=False)
        assert result.returncode == 2, result.stderr
        assert "CoreGroup cannot start: some settings are missing." in result.stderr
        assert "SLACK_BOT_TOKEN (it still has the example value from .env.example)" in result.stderr
        assert "api.slack.com/apps" in result.stderr
        assert "Traceback" not in result.stderr and "invalid_auth" not in result.stderr
