"""Run the real `coregroup` command line with the clock moved to a given moment, for end-to-end tests
of scheduled work that must fall within working hours whenever the tests happen to run.

    python -m tests.apprun 2026-12-02T09:01:00+00:00 run --http --port 8123

time-machine moves the whole process's clock (tick=True: time then runs on as normal); everything
else is `bot.cli.main` exactly as the installed `coregroup` script runs it.
"""

from __future__ import annotations

import sys

import time_machine

from bot.cli import main

if __name__ == "__main__":
    with time_machine.travel(sys.argv[1], tick=True):
        sys.exit(main(sys.argv[2:]))
