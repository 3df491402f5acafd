"""The running app stays light: the heavy libraries for charts (matplotlib) and Word documents (python-docx)
are imported only when a chart or a document is made, not when the app starts (bench/idle_memory.py measures
the memory of an idle `coregroup run`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "docx", "lxml", "PIL", "numpy")

START = """
import json, sys
import bot.app, bot.cli, bot.scheduler, handlers
from bot.app import create_app
from bot.settings import Settings
from models.db import make_engine
settings = Settings(bot_token="xoxb-not-used", signing_secret="not-used", slack_api_url="http://127.0.0.1:9/api/",
                    database_url="sqlite://")
app, deps = create_app(settings, engine=make_engine("sqlite://"))
assert app and deps.commands.get("export") is not None
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_starting_the_app_imports_no_chart_or_document_library():
    done = subprocess.run([sys.executable, "-c", START], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "slack_bolt" in loaded and "sqlalchemy" in loaded  # the app itself was loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))
