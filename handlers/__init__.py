"""Slack in and out: one module per feature, each with register(app, deps)."""

from __future__ import annotations

import importlib

from slack_bolt import App

from handlers.deps import Deps

# Feature modules in the order their sub-commands are listed; `commands` goes first (it owns the router).
FEATURES = [
    "handlers.commands",
    "handlers.cases",
    "handlers.members",
    "handlers.connect",
    "handlers.connect_events",
    "handlers.plan",
    "handlers.meetings",
    "handlers.updates",
    "handlers.start",
    "handlers.scaling",
    "handlers.decisions",
    "handlers.actions",
    "handlers.action_buttons",
    "handlers.recap",
    "handlers.export",
    "handlers.home",
    "handlers.events",
    "handlers.reminders",
    "handlers.lifecycle",
]


def register_all(app: App, deps: Deps) -> None:
    for name in FEATURES:
        importlib.import_module(name).register(app, deps)
