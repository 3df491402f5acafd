"""The minutes for the case record: every part of the posted recap in the recap's order, then who it was
shared with and who said they read it, then its versions and corrections. Plain text (no Slack markup).

The headings and their order are the recap's (handlers/blocks/recap.py); the record is the stored
content of the posted version, so the document says exactly what the group approved.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from models.documents import Outline, Reader, Record, children_words
from models.meetings import long_date

# The recap's parts, in its order (the guidance's order for the record of a core group meeting).
RECAP_ORDER = (
    "Main points", "Attendance and apologies", "Written views of those unable to attend", "The child's views",
    "The parents' views", "Progress on actions", "The plan", "Scaling", "Decisions", "New actions",
    "Are the risks reducing or increasing?", "Recommendation for the review conference", "Next meeting",
    "Shared with",
)
PLAN_HEADINGS = {"danger": "Danger statements: what we are worried will happen",
                 "goal": "Safety goals: what needs to be true for the {children} to be safe",
                 "bottom_line": "Bottom lines: what must happen, whatever else"}
PLAN_KIND = {"danger": "danger statement", "goal": "safety goal", "bottom_line": "bottom line"}
PLAN_CHANGE = {"added": "Added", "removed": "Taken out"}
DISTRIBUTION = "Who the record went to, and who said they read it"
VERSIONS = "Version and corrections"

RISK = {"reducing": "The risks are reducing.", "no_change": "No change: the risks are about the same.",
        "increasing": "The risks are increasing."}
RECOMMENDATION = {
    "continue": "Continue the plan: the {children} {stay} on the child protection plan.",
    "end": "End the plan: the {children} no longer {need} a child protection plan.",
    "step_up": "Step up: consider legal proceedings (going to court) to keep the {children} safe.",
}
ATTENDANCE = {"present": "Present", "apologies": "Apologies", "absent": "Absent",
              "attending": "Said they would come, not marked present", "not_recorded": "Not recorded"}
STATE = {"overdue": "Overdue", "on_track": "On track", "done": "Done", "dropped": "Dropped"}
SEEN = {"yes": "Yes", "no": "No", "not_applicable": "Does not apply"}
PROGRESS = {"done": "Done", "on_track": "On track", "delayed": "Delayed"}
VIA = {"channel": "In the case channel", "outside_slack": "Outside Slack, by the chair"}
NOT_IN_SLACK = "Not recorded: no Slack"


def recommendation(content: dict) -> str:
    wording = RECOMMENDATION.get(content.get("recommendation") or "")
    return wording.format(**children_words(content)) if wording else "Not recorded."


def person(p: dict | None) -> str:
    return f"{p['name']} ({p['role']})" if p else "someone no longer recorded"


def day(iso: str | None) -> str:
    return f"{date.fromisoformat(iso[:10]).day} {date.fromisoformat(iso[:10]):%B %Y}" if iso else ""


def when(start: str, end: str | None = None, duration: int | None = None) -> str:
    """"Tuesday 8 December 2026, 10:00 to 11:30" from the stored local times."""
    starts = datetime.fromisoformat(start)
    text = f"{long_date(starts.date())}, {starts:%H:%M}"
    if end:
        text += f" to {datetime.fromisoformat(end):%H:%M}"
    elif duration:
        text += f" to {starts + timedelta(minutes=int(duration)):%H:%M}"
    return text


def score(value: float | None) -> str:
    if value is None:
        return "none"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _times(count: int) -> str:
    return "once" if count == 1 else "twice" if count == 2 else f"{count} times"


def minutes_title(record: Record) -> str:
    return f"Record of core group meeting {record.content['meeting']['number']} ({record.reference})"


def _heading(record: Record) -> Outline:
    content, meeting = record.content, record.content["meeting"]
    out: Outline = [("title", f"Record of core group meeting {meeting['number']}")]
    rows = [["Case", record.reference], ["When", when(meeting["start"], meeting.get("end"))]]
    if meeting.get("location"):
        rows.append(["Where", meeting["location"]])
    if content.get("children"):
        rows.append(["Child" if len(content["children"]) == 1 else "Children", ", ".join(content["children"])])
    rows.append(["Chair", person(meeting.get("chair")) if meeting.get("chair") else "Not recorded"])
    rows.append(["Version", f"{record.version}" + (f", posted {day(record.local(record.posted).isoformat())}"
                                                    if record.posted else "")])
    out.append(("pairs", rows))
    if record.version > 1:
        correction = content.get("correction") or {}
        out.append(("labelled", (f"This is version {record.version}", f"it corrects version"
                                 f" {correction.get('of_version', record.version - 1)}, which is kept. Why it was"
                                 f" corrected: {correction.get('reason') or 'not recorded'}")))
    out.append(("small", "Confidential: this record holds personal information about children and their family."
                         " Keep it with the case record."))
    return out


def _attendance(content: dict) -> Outline:
    rows = [["Name", "Role", "Agency", "Attendance"]]
    for p in content.get("attendance") or []:
        rows.append([p["name"], p["role"], p.get("agency") or "", ATTENDANCE.get(p["status"], p["status"])])
    if len(rows) == 1:
        return [("p", "Nobody is recorded as a member.")]
    return [("table", rows)]


def _update(update: dict) -> Outline:
    out: Outline = [("h2", person(update))]
    for label, key in (("Contacts with the family since the last meeting", "contacts"),):
        if update.get(key):
            out.append(("labelled", (label, update[key])))
    if update.get("child_seen"):
        seen = SEEN.get(update["child_seen"], update["child_seen"])
        if update.get("seen_alone"):
            seen += f". Seen alone: {SEEN.get(update['seen_alone'], update['seen_alone'])}"
        out.append(("labelled", ("Was the child seen", seen)))
    for label, key in (("What is working well", "working_well"), ("What we are worried about", "worries"),
                       ("What needs to happen", "needs_to_happen"), ("The child's views as they heard them",
                                                                     "child_views")):
        if update.get(key):
            out.append(("labelled", (label, update[key])))
    for line in update.get("progress") or []:
        note = f" {line['note']}" if line.get("note") else ""
        out.append(("bullet", f"Progress on “{line['what']}”: {PROGRESS.get(line['status'], line['status'])}.{note}"))
    return out


def _updates(content: dict) -> Outline:
    away = [u for u in content.get("updates") or [] if not u.get("attended")]
    there = [u for u in content.get("updates") or [] if u.get("attended")]
    out: Outline = [("h1", RECAP_ORDER[2])]
    if not away:
        out.append(("p", "Nobody who was unable to attend sent a written update."))
    for update in away:
        out += _update(update)
    if there:
        out.append(("h1", "Written updates from those who attended"))
        for update in there:
            out += _update(update)
    return out


def _child_views(content: dict) -> Outline:
    views = content.get("child_views") or {}
    out: Outline = [("h1", RECAP_ORDER[3])]
    if views.get("text"):
        out.append(("p", views["text"]))
    if views.get("not_obtained"):
        out.append(("labelled", ("Why the child's views were not obtained", views["not_obtained"])))
    for update in content.get("updates") or []:
        if update.get("child_views"):
            out.append(("bullet", f"As heard by {person(update)}: {update['child_views']}"))
    if len(out) == 1:
        out.append(("p", "Not recorded."))
    return out


def _actions(content: dict) -> Outline:
    rows = content.get("actions") or []
    out: Outline = [("h1", RECAP_ORDER[5])]
    if not rows:
        return [*out, ("p", "There were no actions from before this meeting.")]
    counts = {state: sum(1 for r in rows if r["state"] == state) for state in STATE}
    out.append(("p", ", ".join(f"{n} {STATE[s].lower()}" for s, n in counts.items() if n) + "."))
    for row in rows:
        text = f"{STATE[row['state']]}: {row['what']}. {person(row['owner'])}, due {day(row['due'])}."
        if row.get("carried_forward"):
            text += f" Carried forward {_times(row['carried_forward'])}."
        if row.get("measure"):
            text += f" How we will know: {row['measure']}."
        if row.get("note"):
            text += f" Latest progress: {row['note']}"
        reported = row.get("reported")
        if reported:
            text += (f" In {reported['by']}'s update: {PROGRESS.get(reported['status'], reported['status'])}."
                     + (f" {reported['note']}" if reported.get("note") else ""))
        out.append(("bullet", text))
    return out


def plan_parts(content: dict) -> tuple[list[tuple[str, list[str]]], str, list[str]] | None:
    """The plan in the record, as plain words: [(heading, [statements])], the changes' heading, [changes].
    None for a record made before the plan was kept in records."""
    found = content.get("plan")
    if found is None:
        return None
    words = children_words(content)
    groups = [(heading.format(**words), [i["text"] for i in found["items"] if i["kind"] == kind])
              for kind, heading in PLAN_HEADINGS.items()]
    when = "at this meeting" if found.get("changes_since") == "this_meeting" else "since the last meeting"
    changes = [f"{PLAN_CHANGE.get(c['change'], c['change'])} ({PLAN_KIND.get(c['kind'], c['kind'])}): {c['text']}"
               for c in found.get("changes") or []]
    return groups, f"Changes to the plan {when}", changes


def _plan(content: dict) -> Outline:
    parts = plan_parts(content)
    if parts is None:
        return []
    groups, changes_heading, changes = parts
    out: Outline = [("h1", RECAP_ORDER[6]), ("p", "The plan as it stood at this meeting.")]
    for heading, statements in groups:
        out.append(("h2", heading))
        out += [("bullet", text) for text in statements] or [("p", "None written yet.")]
    out.append(("h2", changes_heading))
    out += [("bullet", text) for text in changes] or [("p", "No changes.")]
    return out


def _scaling(content: dict) -> Outline:
    out: Outline = [("h1", RECAP_ORDER[7])]
    if not content.get("scaling"):
        return [*out, ("p", "No scaling questions were asked at this meeting.")]
    out.append(("p", "Each member's score from 0 to 10, lowest first, with their reason."))
    for q in content["scaling"]:
        about = [f"about {q['child']}"] if q.get("child") else []
        if q.get("danger"):
            about.append(f"danger statement: {q['danger']}")
        out.append(("h2", q["question"] + (f" ({'; '.join(about)})" if about else "")))
        out.append(("p", f"0 means {q['zero_means']}; 10 means {q['ten_means']}."))
        if not q.get("scores"):
            out.append(("p", "Nobody gave a score."))
            continue
        for s in q["scores"]:
            text = f"{s['score']}: {s['name']} ({s['role']}). {s['reason']}"
            if s.get("to_move_up"):
                text += f" To move it up: {s['to_move_up']}"
            if s.get("in_writing"):
                text += " (sent in writing)"
            out.append(("bullet", text))
        out.append(("p", f"Lowest {score(q['low'])}, highest {score(q['high'])}, middle score {score(q['median'])}."))
        if q.get("differs"):
            out.append(("p", f"The scores differ by {q['spread']} points: a difference of view to talk about."))
        if len(q.get("trend") or []) > 1:
            steps = ", then ".join(f"{score(t['median'])} ({day(t['date'])})" for t in q["trend"])
            out.append(("labelled", ("Trend (middle score)", steps + ".")))
    return out


def _new_actions(content: dict) -> Outline:
    rows = content.get("new_actions") or []
    if not rows:
        return [("h1", RECAP_ORDER[9]), ("p", "No new actions were agreed.")]
    table = [["What", "Who", "By when", "How we will know"]]
    table += [[r["what"], person(r["owner"]), day(r["due"]), r.get("measure") or "Not set"] for r in rows]
    return [("h1", RECAP_ORDER[9]), ("table", table)]


def _next(content: dict) -> Outline:
    wanted = content.get("next_meeting")
    out: Outline = [("h1", RECAP_ORDER[12])]
    if not wanted:
        return [*out, ("p", "No date was set.")]
    out.append(("p", when(wanted["start"], duration=wanted.get("duration"))))
    if wanted.get("location"):
        out.append(("labelled", ("Where", wanted["location"])))
    out.append(("labelled", ("Chair", person(wanted["chair"]) if wanted.get("chair") else "not chosen yet")))
    return out


def _shared_with(content: dict) -> Outline:
    people = content.get("shared_with") or []
    in_channel = [person(p) for p in people if p["via"] == "channel"]
    outside = [person(p) for p in people if p["via"] != "channel"]
    out: Outline = [("h1", RECAP_ORDER[13])]
    if in_channel:
        out.append(("labelled", ("In the channel", ", ".join(in_channel))))
    if outside:
        out.append(("labelled", ("To be shared outside Slack by the chair", ", ".join(outside))))
    return out if len(out) > 1 else [*out, ("p", "Nobody.")]


def _names(readers: list[Reader]) -> str:
    return ", ".join(f"{r.name} ({r.role})" for r in readers)


def read_count(read: int, shared: int) -> str:
    """"1 of 4 has said they read this version.": the people it was shared with in Slack, as its message counts."""
    if not shared:
        return "It was not shared with anyone in Slack."
    people = "person" if shared == 1 else "people"
    said = "Nobody has said they read it yet." if not read else (
        f"{read} of {shared} {'has' if read == 1 else 'have'} said they read this version.")
    return f"It was shared in Slack with {shared} {people}. {said}"


def _distribution(record: Record) -> Outline:
    rows = [["Name", "Role", "How it was shared", "Said they read it"]]
    for reader in record.distribution:
        read = record.local(reader.read_at)
        said = f"{read.day} {read:%B %Y}, {read:%H:%M}" if read else (
            "Not yet" if reader.via == "channel" else NOT_IN_SLACK)
        rows.append([reader.name, reader.role, VIA.get(reader.via, reader.via), said])
    if len(rows) == 1:
        return [("h1", DISTRIBUTION), ("p", "Not recorded.")]
    in_slack = [r for r in record.distribution if r.via == "channel" and r.shared]
    later = [r for r in record.distribution if r.via == "channel" and not r.shared and r.read_at]
    outside = [r for r in record.distribution if r.via != "channel"]
    out: Outline = [("h1", DISTRIBUTION), ("p", read_count(sum(1 for r in in_slack if r.read_at), len(in_slack)))]
    if later:
        out.append(("p", f"Also said they read it, after joining the group later: {_names(later)}."))
    if outside:
        out.append(("p", f"Given outside Slack by the chair, because they do not use Slack: {_names(outside)}."))
    return [*out, ("table", rows)]


def _versions(record: Record) -> Outline:
    out: Outline = [("h1", VERSIONS)]
    for version in record.versions:
        posted = record.local(version.posted)
        text = f"Version {version.number}" + (f", posted {posted.day} {posted:%B %Y} at {posted:%H:%M}"
                                              if posted else ", not yet posted")
        text += f". Corrects version {version.number - 1}: {version.reason}" if version.number > 1 else "."
        out.append(("bullet", text + (" (this document)" if version.number == record.version else "")))
    if len(out) == 1:
        out.append(("p", f"Version {record.version}."))
    return out


def minutes_outline(record: Record) -> Outline:
    """The whole minutes, in the recap's order, then distribution and versions."""
    content = record.content
    out = _heading(record)
    out += [("h1", RECAP_ORDER[0]), ("p", content.get("key_points") or "Not recorded.")]
    out += [("h1", RECAP_ORDER[1]), *_attendance(content)]
    out += _updates(content)
    out += _child_views(content)
    out += [("h1", RECAP_ORDER[4]), ("p", content.get("parents_views")
                                     or "No views from the parents were recorded at this meeting.")]
    out += _actions(content)
    out += _plan(content)
    out += _scaling(content)
    decisions = [("bullet", f"{d['text']} (recorded by {person(d.get('by'))})") for d in content.get("decisions") or []]
    out += [("h1", RECAP_ORDER[8]), *(decisions or [("p", "No decisions were recorded.")])]
    out += _new_actions(content)
    out += [("h1", RECAP_ORDER[10]), ("p", RISK.get(content.get("risk_direction") or "", "Not recorded."))]
    out += [("h1", RECAP_ORDER[11]), ("p", recommendation(content))]
    out += _next(content)
    out += _shared_with(content)
    out += _distribution(record)
    out += _versions(record)
    return out
