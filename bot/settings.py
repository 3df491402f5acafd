"""Settings from the environment or a `.env` file (python-dotenv).

Tokens are kept out of `repr()` so that a stray log line or traceback never shows them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from dotenv import load_dotenv

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///coregroup.db"


class SettingsError(Exception):
    """A setting is missing or malformed; the message says what and where to get it."""


WHERE_TO_GET = {
    "SLACK_BOT_TOKEN": (
        "the Bot User OAuth Token (starts xoxb-), from your Slack app's page at api.slack.com/apps"
        " under 'OAuth & Permissions' after installing the app to your workspace"
    ),
    "SLACK_SIGNING_SECRET": (
        "the Signing Secret, from your Slack app's page at api.slack.com/apps under 'Basic Information'"
        " > 'App Credentials'"
    ),
    "SLACK_APP_TOKEN": (
        "an App-Level Token (starts xapp-) with the connections:write scope, from your Slack app's page"
        " under 'Basic Information' > 'App-Level Tokens'; or run with --http instead of Socket Mode"
    ),
}


def is_placeholder(value: str) -> bool:
    """A value left as `.env.example` gives it (`xoxb-...`), or only a token's prefix: not a real setting.
    Slack's tokens and signing secrets are letters, digits and hyphens, so they never contain these."""
    return "..." in value or "\u2026" in value or (value.startswith("<") and value.endswith(">")) \
        or value in ("xoxb-", "xapp-")


def _time(value: str, name: str) -> time:
    try:
        hours, minutes = value.split(":")
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise SettingsError(f"{name} must be a time like 09:00, not {value!r}.") from exc


def _int(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError as exc:
        raise SettingsError(f"{name} must be a whole number, not {value!r}.") from exc


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(default="", repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    timezone: str = "Europe/London"
    port: int = 3000
    working_day_start: time = time(9, 0)
    working_day_end: time = time(17, 0)
    grace_minutes: int = 24 * 60
    scheduler_interval_seconds: int = 30
    instance_name: str = ""
    claim_lease_seconds: int = 300  # how long an instance holds a due message while sending it
    timekeeping_minutes: int = 10  # the chair is prompted this long before a meeting's planned end
    report_channel: str = ""  # where the monthly oversight report is posted (a channel id); none if empty

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, dotenv_path: str | Path | None = ".env") -> Settings:
        """Read settings; a `.env` file fills in what the environment does not set."""
        if env is None:
            if dotenv_path is not None:
                load_dotenv(dotenv_path, override=False)
            env = dict(os.environ)
        api_url = env.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        return cls(
            bot_token=env.get("SLACK_BOT_TOKEN", "").strip(),
            signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=env.get("SLACK_APP_TOKEN", "").strip(),
            slack_api_url=api_url,
            database_url=env.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            timezone=env.get("COREGROUP_TIMEZONE") or "Europe/London",
            port=_int(env.get("PORT") or "3000", "PORT"),
            working_day_start=_time(env.get("COREGROUP_WORKING_DAY_START") or "09:00",
                                    "COREGROUP_WORKING_DAY_START"),
            working_day_end=_time(env.get("COREGROUP_WORKING_DAY_END") or "17:00",
                                  "COREGROUP_WORKING_DAY_END"),
            grace_minutes=_int(env.get("COREGROUP_GRACE_MINUTES") or str(24 * 60), "COREGROUP_GRACE_MINUTES"),
            scheduler_interval_seconds=_int(env.get("COREGROUP_SCHEDULER_INTERVAL") or "30",
                                            "COREGROUP_SCHEDULER_INTERVAL"),
            instance_name=env.get("COREGROUP_INSTANCE") or "",
            claim_lease_seconds=_int(env.get("COREGROUP_CLAIM_LEASE") or "300", "COREGROUP_CLAIM_LEASE"),
            timekeeping_minutes=_int(env.get("COREGROUP_TIMEKEEPING_MINUTES") or "10",
                                     "COREGROUP_TIMEKEEPING_MINUTES"),
            report_channel=(env.get("COREGROUP_REPORT_CHANNEL") or "").strip(),
        )

    def require(self, *, socket_mode: bool) -> None:
        """Raise one SettingsError naming every missing token and where to get it. A placeholder copied
        from `.env.example` without filling it in counts as missing (it would only fail later, at Slack)."""
        needed = {"SLACK_BOT_TOKEN": self.bot_token}
        if socket_mode:
            needed["SLACK_APP_TOKEN"] = self.app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.signing_secret
        missing = [name for name, value in needed.items() if not value or is_placeholder(value)]
        if missing:
            lines = ["CoreGroup cannot start: some settings are missing."]
            for name in missing:
                left = " (it still has the example value from .env.example)" if needed[name] else ""
                lines.append(f"  - {name}{left}: {WHERE_TO_GET[name]}.")
            lines.append("Set them in the environment or in a .env file (see .env.example).")
            raise SettingsError("\n".join(lines))
        if socket_mode and not self.app_token.startswith("xapp-"):
            raise SettingsError(f"SLACK_APP_TOKEN does not look right: {WHERE_TO_GET['SLACK_APP_TOKEN']}.")
