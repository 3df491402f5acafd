"""Memory of the running app when idle: `coregroup run --http` against the local Slack stand-in.

Reads the resident set size from /proc after start-up has settled, and whether heavy libraries
(matplotlib, python-docx) were loaded, from the process's memory maps and open modules.

    .venv/bin/python -m bench.idle_memory
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from tests.slack_standin import SlackStandIn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> None:
    standin = SlackStandIn().start()
    port = free_port()
    folder = tempfile.mkdtemp()
    env = dict(os.environ, SLACK_BOT_TOKEN=SlackStandIn.BOT_TOKEN, SLACK_SIGNING_SECRET="bench-secret",
               SLACK_API_URL=standin.url, DATABASE_URL=f"sqlite:///{folder}/idle.db")
    log = Path(folder) / "idle.log"
    output = log.open("w")
    process = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--http", "--port", str(port)],
                               env=env, cwd=folder, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # Idle: serving, and the scheduler's first run (everything due at start) finished; then a moment more.
        while "scheduled work: first run done" not in log.read_text():
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"the app did not finish its first scheduled run; see {log}")
            time.sleep(0.2)
        time.sleep(2)  # nothing left to wait for: the memory of an app at rest, not one just done starting
        maps = Path(f"/proc/{process.pid}/maps").read_text()
        print(f"idle resident memory: {rss_mb(process.pid):.1f} MB")
        # Pure-Python modules do not show in the memory maps: their compiled libraries do (python-docx's is lxml).
        print(f"matplotlib loaded: {'matplotlib' in maps}; python-docx (lxml) loaded: {'lxml' in maps}")
    finally:
        process.terminate()
        process.wait(10)
        output.close()
        standin.stop()


if __name__ == "__main__":
    main()
