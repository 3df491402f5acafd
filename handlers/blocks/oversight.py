"""The Oversight section of the App Home, for people with an oversight role (models/staff.py).

Team managers and conference chairs see their cases needing attention first, each with a link to its channel;
everyone with a role sees the month-by-month chart (a Block Kit image block showing a private Slack file).
Service managers and analysts see figures only: no case reference, child's label or text.
"""

from __future__ import annotations

from handlers.blocks import kit
from models.oversight import Attention, Figures

ATTENTION_SHOWN = 10


def _percent(part: int, whole: int) -> str:
    return f"{round(100 * part / whole)}%" if whole else "none due"


def section(*, roles: list[str], sees_cases: bool, attention: list[Attention], attention_total: int,
            figures: Figures, chart_file_id: str | None, alt_text: str, room: int = 20) -> list[dict]:
    """The section's blocks, at most `room` of them (the App Home holds 100 blocks in all)."""
    blocks = [kit.header("Oversight"),
              kit.context(f"You see this as {' and '.join(roles)}. Every look at it is recorded.")]
    if sees_cases:
        if not attention:
            blocks.append(kit.section("None of your cases needs attention now."))
        else:
            blocks.append(kit.section(f"*Cases needing attention* ({attention_total})"))
        shown = attention[:max(0, min(ATTENTION_SHOWN, room - 7))]
        for item in shown:
            channel = f" <#{item.channel_id}>" if item.channel_id else ""
            blocks.append(kit.section(f"*{kit.esc(item.reference)}*{channel}: {kit.esc('; '.join(item.reasons))}."))
        if attention_total > len(shown):
            blocks.append(kit.context(f"And {attention_total - len(shown)} more, less pressing."))
    due = sum(figures.on_time) + sum(figures.late)
    summary = (f"*Last 12 months*: {sum(figures.on_time)} of {due} core groups due were held on time"
               f" ({_percent(sum(figures.on_time), due)}).")
    without = [f"{kit.esc(row['organisation'])} {row['apologies_only']}" for row in figures.attendance
               if row["apologies_only"]]
    if without:
        summary += " Apologies without a written update: " + ", ".join(without) + "."
    blocks.append(kit.section(summary))
    if chart_file_id:
        blocks.append({"type": "image", "slack_file": {"id": chart_file_id}, "alt_text": kit.clip(alt_text, 2000),
                       "title": {"type": "plain_text", "text": "Core groups on time, and who attends"}})
    else:
        blocks.append(kit.context("The chart could not be shown just now; it will be there next time."))
    blocks.append(kit.context("For every measure by month, organisation or team, an administrator can run"
                              " `coregroup report`."))
    return blocks[:room]
