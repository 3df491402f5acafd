"""The recap as Slack messages: built from the stored record only, so every version reads the same forever.

A long record continues in the thread: each message holds at most `PART_BLOCKS` blocks and about
`PART_CHARS` characters (Slack refuses a message whose blocks are much over 13,000 characters, and
any section over 3,000), and long texts are split into several sections. Nothing is cut. The split is
`kit.split_messages`, the one every long message uses.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from handlers.blocks import kit
from handlers.blocks.meetings import book_button
from handlers.ids import Action
from models import minutes
from models.meetings import long_date

PART_BLOCKS = 44  # room left in each message for its heading, read-by line and buttons
PART_CHARS = kit.MESSAGE_CHAR_LIMIT  # well under the ~13,000 characters Slack accepts in one message's blocks
EVENT_TYPE = "coregroup_recap"

RISK = {"reducing": "The risks are reducing.", "no_change": "No change: the risks are about the same.",
        "increasing": "The risks are increasing."}
ATTENDANCE = (("present", "Present"), ("apologies", "Apologies"), ("absent", "Absent"),
              ("attending", "Said they would come, not marked present"), ("not_recorded", "Not recorded"))
STATE = {"overdue": "Overdue", "on_track": "On track", "done": "Done", "dropped": "Dropped"}
SEEN = {"yes": "Yes", "no": "No", "not_applicable": "Does not apply"}
PROGRESS = {"done": "Done", "on_track": "On track", "delayed": "Delayed"}


# --- small pieces ----------------------------------------------------------------------------------------


def _day(iso: str | None) -> str:
    return long_date(date.fromisoformat(iso)) if iso else ""


def _short_day(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%B %Y}"


def when_text(start: str, end: str | None = None, duration: int | None = None) -> str:
    """"Tuesday 8 December 2026, 10:00 to 11:30" from the stored local times."""
    starts = datetime.fromisoformat(start)
    text = f"{long_date(starts.date())}, {starts:%H:%M}"
    if end:
        text += f" to {datetime.fromisoformat(end):%H:%M}"
    elif duration:
        text += f" to {starts + timedelta(minutes=int(duration)):%H:%M}"
    return text


def person(p: dict | None) -> str:
    if not p:
        return "someone no longer recorded"
    return f"{kit.esc(p['name'])} ({kit.esc(p['role'])})"


def _score(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def _labelled(label: str, text: str | None) -> str:
    return f"*{label}:* {kit.esc(text)}" if text else ""


def _part(title: str, text: str) -> list[dict]:
    """A titled part of the record, in as many sections as it needs."""
    return kit.sections(f"*{title}*\n{text}")


# --- the parts of the record, in order ----------------------------------------------------------------


def _attendance(content: dict) -> list[dict]:
    groups = []
    for status, label in ATTENDANCE:
        people = [person(p) for p in content["attendance"] if p["status"] == status]
        if people:
            groups.append(f"*{label}:* " + ", ".join(people))
    return _part("Attendance and apologies", "\n".join(groups) or "Nobody is recorded as a member.")


def given_by_family(recorded_by: dict | None) -> str:
    """" _(given by the family, recorded by Sam Social Worker, social worker)_", or "" for someone's own words."""
    if not recorded_by:
        return ""
    role = recorded_by["role"] or ""
    role = role if role[:2].isupper() else role[:1].lower() + role[1:]
    return f" _(given by the family, recorded by {kit.esc(recorded_by['name'])}, {kit.esc(role)})_"


def _update_text(update: dict) -> str:
    lines = [f"*{kit.esc(update['name'])}* ({kit.esc(update['role'])}){given_by_family(update.get('recorded_by'))}"]
    lines.append(_labelled("Contacts with the family since the last meeting", update["contacts"]))
    if update["child_seen"]:
        seen = f"*Was the child seen?* {SEEN.get(update['child_seen'], kit.esc(update['child_seen']))}."
        if update["seen_alone"]:
            seen += f" *Seen alone?* {SEEN.get(update['seen_alone'], kit.esc(update['seen_alone']))}."
        lines.append(seen)
    lines.append(_labelled("What is working well", update["working_well"]))
    lines.append(_labelled("What we are worried about", update["worries"]))
    lines.append(_labelled("What needs to happen", update["needs_to_happen"]))
    if update["progress"]:
        lines.append("*Progress on their actions:*")
        for line in update["progress"]:
            status = PROGRESS.get(line["status"], kit.esc(line["status"]))
            note = f" {kit.esc(line['note'])}" if line["note"] else ""
            lines.append(f"• {kit.esc(line['what'])}: {status}.{note}")
    return "\n".join(line for line in lines if line)


def _updates(content: dict) -> list[dict]:
    away = [u for u in content["updates"] if not u["attended"]]
    there = [u for u in content["updates"] if u["attended"]]
    blocks = _part("Written views of those unable to attend",
                   "Nobody who was unable to attend sent a written update." if not away else
                   "Sent in writing before the meeting.")
    for update in away:
        blocks += kit.sections(_update_text(update))
    if there:
        blocks += _part("Written updates from those who attended", "Sent in writing before the meeting.")
        for update in there:
            blocks += kit.sections(_update_text(update))
    return blocks


def _child_views(content: dict) -> list[dict]:
    views = content["child_views"]
    lines = []
    if views["text"]:
        lines.append(kit.esc(views["text"]))
    if views["not_obtained"]:
        lines.append(f"*Why the child's views were not obtained:* {kit.esc(views['not_obtained'])}")
    heard = [u for u in content["updates"] if u.get("child_views")]
    if heard:
        lines.append("*As heard by members in their updates:*")
        lines += [f"• {person(u)}: {kit.esc(u['child_views'])}" for u in heard]
    return _part("The child's views", "\n".join(lines))


def _parents_views(content: dict) -> list[dict]:
    text = kit.esc(content["parents_views"]) or "No views from the parents were recorded at this meeting."
    return _part("The parents' views", text)


def _action_line(row: dict) -> str:
    parts = [f"*{STATE[row['state']]}*", kit.esc(row["what"]), person(row["owner"]), f"due {_short_day(row['due'])}"]
    if row["carried_forward"]:
        parts.append(f"carried forward {_times(row['carried_forward'])}")
    lines = ["• " + " · ".join(parts)]
    if row.get("measure"):
        lines.append(f"    _How we will know:_ {kit.esc(row['measure'])}")
    if row.get("note"):
        lines.append(f"    _Latest progress:_ {kit.esc(row['note'])}")
    reported = row.get("reported")
    if reported:
        note = f" {kit.esc(reported['note'])}" if reported["note"] else ""
        lines.append(f"    _In {kit.esc(reported['by'])}'s update:_ "
                     f"{PROGRESS.get(reported['status'], kit.esc(reported['status']))}.{note}")
    return "\n".join(lines)


def _actions(content: dict) -> list[dict]:
    rows = content["actions"]
    if not rows:
        return _part("Progress on actions", "There were no actions from before this meeting.")
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in STATE}
    summary = ", ".join(f"{n} {STATE[s].lower()}" for s, n in counts.items() if n)
    return _part("Progress on actions", f"{summary}.\n" + "\n".join(_action_line(r) for r in rows))


def _question_text(q: dict) -> str:
    about = []
    if q.get("child"):
        about.append(f"about {kit.esc(q['child'])}")
    if q.get("danger"):
        about.append(f"danger statement: {kit.esc(q['danger'])}")
    lines = [f"*{kit.esc(q['question'])}*" + (f" ({'; '.join(about)})" if about else ""),
             f"_0 means {kit.esc(q['zero_means'])}; 10 means {kit.esc(q['ten_means'])}._"]
    if not q["scores"]:
        lines.append("Nobody gave a score.")
        return "\n".join(lines)
    for s in q["scores"]:
        line = f"• *{s['score']}* – {kit.esc(s['name'])} ({kit.esc(s['role'])}): {kit.esc(s['reason'])}"
        if s.get("to_move_up"):
            line += f" _To move it up:_ {kit.esc(s['to_move_up'])}"
        if s.get("in_writing"):
            line += " _(sent in writing)_"
        line += given_by_family(s.get("recorded_by"))
        lines.append(line)
    lines.append(f"Lowest {_score(q['low'])}, highest {_score(q['high'])}, middle score {_score(q['median'])}.")
    if q["differs"]:
        lines.append(f"*The scores differ by {q['spread']} points: a difference of view to talk about.*")
    if len(q["trend"]) > 1:
        steps = " → ".join(f"{_score(t['median'])} ({_short_day(t['date'])})" for t in q["trend"])
        direction = {"up": "up", "down": "down", "same": "no change"}.get(q.get("direction") or "", "")
        lines.append(f"*Trend (middle score):* {steps}" + (f" – {direction} since the last meeting." if direction
                                                         else ""))
    else:
        lines.append("_First time this question was scored: no trend yet._")
    return "\n".join(lines)


def _scaling(content: dict) -> list[dict]:
    if not content["scaling"]:
        return _part("Scaling", "No scaling questions were asked at this meeting.")
    blocks = _part("Scaling", "Each member's score from 0 to 10, lowest first, with their reason.")
    for question in content["scaling"]:
        blocks += kit.sections(_question_text(question))
    return blocks


def _plan(content: dict) -> list[dict]:
    parts = minutes.plan_parts(content)
    if parts is None:  # a record from before the plan was kept in records
        return []
    groups, changes_heading, changes = parts
    lines = ["The plan as it stood at this meeting."]
    for heading, statements in groups:
        lines.append(f"\n_{heading}_")
        lines += [f"• {kit.esc(text)}" for text in statements] or ["None written yet."]
    lines.append(f"\n_{changes_heading}_")
    lines += [f"• {kit.esc(text)}" for text in changes] or ["No changes."]
    return _part("The plan", "\n".join(lines))


def _decisions(content: dict) -> list[dict]:
    lines = [f"• {kit.esc(d['text'])} _(recorded by {person(d['by'])})_" for d in content["decisions"]]
    return _part("Decisions", "\n".join(lines) or "No decisions were recorded.")


def _new_actions(content: dict) -> list[dict]:
    lines = []
    for row in content["new_actions"]:
        line = f"• *{kit.esc(row['what'])}* – who: {person(row['owner'])} – by when: {_short_day(row['due'])}"
        line += f" – how we will know: {kit.esc(row['measure']) if row['measure'] else '_not set_'}"
        lines.append(line)
    return _part("New actions", "\n".join(lines) or "No new actions were agreed.")


NO_NEXT_DATE = ("No date was set. Anyone in the group can arrange the next meeting with *Book the next meeting* on"
                " the record's message.")


def _next(content: dict) -> str:
    wanted = content.get("next_meeting")
    if not wanted:
        return NO_NEXT_DATE
    lines = [when_text(wanted["start"], duration=wanted.get("duration"))]
    if wanted.get("location"):
        lines.append(f"*Where:* {kit.esc(wanted['location'])}")
    lines.append(f"*Chair:* {person(wanted['chair'])}" if wanted.get("chair") else "*Chair:* _not chosen yet_")
    return "\n".join(lines)


def _shared_with(content: dict) -> list[dict]:
    in_channel = [person(p) for p in content["shared_with"] if p["via"] == "channel"]
    outside = [person(p) for p in content["shared_with"] if p["via"] != "channel"]
    lines = []
    if in_channel:
        lines.append("*In the channel:* " + ", ".join(in_channel))
    if outside:
        lines.append("*To be shared outside Slack by the chair:* " + ", ".join(outside))
    return _part("Shared with", "\n".join(lines) or "Nobody.")


def body_blocks(content: dict) -> list[dict]:
    """The whole record, in the order the guidance asks for, as a flat list of blocks."""
    blocks: list[dict] = []
    if content["key_points"]:
        blocks += _part("Main points", kit.esc(content["key_points"]))
    blocks += _attendance(content)
    blocks += _updates(content)
    blocks += _child_views(content)
    blocks += _parents_views(content)
    blocks += _actions(content)
    blocks += _plan(content)
    blocks += _scaling(content)
    blocks += _decisions(content)
    blocks += _new_actions(content)
    blocks += _part("Are the risks reducing or increasing?", RISK.get(content["risk_direction"], "Not recorded."))
    blocks += _part("Recommendation for the review conference", minutes.recommendation(content)
                    + (f"\nThe review conference is on {_day(content['review_conference'])}."
                       if content.get("review_conference") else ""))
    blocks += _part("Next meeting", _next(content))
    blocks += _shared_with(content)
    return blocks


# --- messages --------------------------------------------------------------------------------------------


def title(content: dict) -> str:
    meeting = content["meeting"]
    return f"core group meeting {meeting['number']} on {_day(meeting['start'][:10])}"


def fallback(content: dict) -> str:
    version = content.get("version", 1)
    if version > 1:
        return f"Correction to the record of {title(content)}: version {version} ({content['case']['reference']})"
    return f"Record of {title(content)} ({content['case']['reference']})"


def heading(content: dict) -> list[dict]:
    meeting = content["meeting"]
    version = content.get("version", 1)
    about = [content["case"]["reference"], when_text(meeting["start"], meeting["end"])]
    if content["children"]:
        about.append("for " + ", ".join(kit.esc(c) for c in content["children"]))
    about.append(f"chair: {person(meeting['chair'])}" if meeting.get("chair") else "chair: not recorded")
    if version > 1:
        correction = content.get("correction") or {}
        blocks = [kit.header(f"Correction to the record: version {version}")]
        blocks += kit.sections(f"*Correction to the record of {title(content)}: version {version}.* It replaces"
                               f" version {correction.get('of_version', version - 1)}, which is kept.\n"
                               f"*Why it was corrected:* {kit.esc(correction.get('reason') or '')}")
    else:
        blocks = [kit.header(f"Record of core group meeting {meeting['number']}")]
    blocks.append(kit.context(" · ".join(about)))
    return blocks


def pack(blocks: list[dict], *, max_blocks: int = PART_BLOCKS, max_chars: int = PART_CHARS) -> list[list[dict]]:
    """Blocks in order, grouped into message-sized parts (kit.split_messages, as every long message is)."""
    return kit.split_messages(blocks, max_blocks=max_blocks, max_chars=max_chars)


def read_by_text(readers: list[dict] | None, shared: set[int]) -> str:
    """Who said they read it, counted against the people it was shared with in the channel (as the minutes
    count them); someone who joined the group afterwards and read it is named, not counted."""
    readers = readers or []
    counted = [r for r in readers if r["id"] in shared]
    later = [r for r in readers if r["id"] not in shared]
    text = (f"Read by {len(counted)} of {len(shared)}: " + ", ".join(kit.esc(r["name"]) for r in counted)
            if counted else "Nobody it was shared with has said they have read this yet.")
    if later:
        text += " Also read by " + ", ".join(kit.esc(r["name"]) for r in later) + ", who joined afterwards."
    return text


def recap_messages(content: dict, *, recap_id: int, case_id: int, read_by: list[dict] | None = None) -> list[dict]:
    """chat.postMessage arguments: the first message (in the channel), then its continuations (in its thread).

    Each carries the recap's id in message metadata, so a restarted app can tell whether it was posted.
    """
    parts = pack(heading(content) + body_blocks(content))
    count = len(parts)
    value = {"c": case_id, "r": recap_id}
    in_channel = {p["id"] for p in content["shared_with"] if p["via"] == "channel"}
    messages = []
    for index, part in enumerate(parts):
        blocks = list(part)
        text = fallback(content)
        if index == 0:
            if count > 1:
                blocks.append(kit.context(f"The record continues in the thread ({count - 1} more"
                                          f" message{'s' if count > 2 else ''}). Nothing has been left out."))
            blocks.append(kit.context(read_by_text(read_by, in_channel)))
            book = [] if content.get("next_meeting") else [book_button(case_id)]  # no slash command needed
            blocks.append(kit.actions(
                kit.button("I have read this", Action.RECAP_READ, value, style="primary"),
                kit.button("Correct the record", Action.RECAP_CORRECT, value),
                *book,
                block_id="recap_buttons",
            ))
        else:
            text += f", continued ({index + 1} of {count})"
            blocks.insert(0, kit.context(f"Continued: part {index + 1} of {count} of the record of"
                                         f" {title(content)}."))
        messages.append({**kit.message(text, blocks),
                         "metadata": {"event_type": EVENT_TYPE,
                                      "event_payload": {"recap_id": recap_id, "part": index}}})
    return messages


def preview_messages(content: dict, *, recap_id: int, case_id: int, check: str, note: str | None = None
                     ) -> list[dict]:
    """The record as only the chair sees it, ending with "Post" and "Change something"."""
    version = content.get("version", 1)
    what = "correction" if version > 1 else "recap"
    intro = (f"*Preview: only you can see this.* Please check the {what}. Nothing is posted until you press"
             f" *Post the {what}*.")
    if note:
        intro = f"*{kit.esc(note)}*\n{intro}"
    parts = pack([kit.section(intro), *heading(content), *body_blocks(content)])
    value = {"c": case_id, "r": recap_id, "h": check}
    buttons = kit.actions(
        kit.button(f"Post the {what}", Action.RECAP_POST, value, style="primary"),
        kit.button("Change something", Action.RECAP_EDIT, value),
        block_id="recap_preview_buttons",
    )
    messages = [kit.message(f"Preview of the {what}" + (f" (part {i + 1} of {len(parts)})" if len(parts) > 1 else ""),
                            list(part)) for i, part in enumerate(parts)]
    messages[-1]["blocks"].append(buttons)
    return messages
