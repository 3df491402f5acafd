"""Slack in and out: one module per feature, each with register(app, deps)."""

from __future__ import annotations

import importlib

from slack_bolt import App

from handlers.deps import Deps

# Feature modules. `commands` goes first: it owns the sub-command router the others add to (help lists them in
# handlers.blocks.help.ORDER). Bolt tries listeners in the order they were added until one matches, so the
# features people use most, often many at once (updates before a meeting, scores in it, the App Home), come next.
FEATURES = [
    "handlers.commands",
    "handlers.updates",
    "handlers.scaling",
    "handlers.home",
    "handlers.action_buttons",
    "handlers.meetings",
    "handlers.start",
    "handlers.chair",
    "handlers.decisions",
    "handlers.actions",
    "handlers.recap",
    "handlers.events",
    "handlers.cases",
    "handlers.members",
    "handlers.connect",
    "handlers.connect_events",
    "handlers.plan",
    "handlers.export",
    "handlers.family",
    "handlers.reminders",
    "handlers.lifecycle",
]


def register_all(app: App, deps: Deps) -> None:
    for name in FEATURES:
        importlib.import_module(name).register(app, deps)
