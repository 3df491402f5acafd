"""Processing the submission journal (models/journal.py): forms answered as saved, saved from their entry.

Each kind of form registers how its entry is processed (`processor`). An entry is processed right after the answer
(on the pool for work after an answer), and whatever is left unprocessed — the process died after the answer, or
the database failed while saving — by `process_pending`, which the scheduler's run calls at start and every
interval. A processor takes its entry (`models.journal.take`) in the transaction that saves it, so each entry is
saved exactly once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

from slack_sdk import WebClient

from handlers.deps import Deps
from models import journal

log = logging.getLogger(__name__)

PROCESSORS: dict[str, Callable[[WebClient, Deps, str], bool]] = {}


def processor(kind: str):
    def register(fn: Callable[[WebClient, Deps, str], bool]) -> Callable[[WebClient, Deps, str], bool]:
        PROCESSORS[kind] = fn
        return fn
    return register


def process_pending(deps: Deps, client: WebClient) -> int:
    """Process every entry not processed yet (at start, and as a safety net on each scheduler run)."""
    with deps.reading() as session:
        keys = journal.unprocessed(session)
        kinds = {key: kind for key, kind in journal.kinds_of(session, keys)}
    done = 0
    for key in keys:
        handle = PROCESSORS.get(kinds.get(key, ""))
        if handle is None:
            continue
        try:
            done += bool(handle(client, deps, key))
        except Exception as exc:  # one entry must not stop the others; it stays for the next run
            log.error("journal entry not processed: %s\n%s", type(exc).__name__,
                      "".join(traceback.format_tb(exc.__traceback__)))
    if done:
        log.info("journal: %s entr%s processed after the answer's own work did not", done, "y" if done == 1 else "ies")
    return done
