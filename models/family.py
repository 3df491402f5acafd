"""The family version of a meeting's record: prepared from the record, checked and approved by a person.

It is never a copy of the record. `prefill(record)` drafts each section in plain words for the lead social
worker (or the chair) to check and change in a form; only what they approve (`models.family_versions`)
reaches the family, and `family_outline(content)` lays out exactly that approved content.

What the draft leaves out unless the person preparing it ticks a box:

- the child's own words (what the child said, and what anyone heard the child say): what a child said can
  reach the adult it is about;
- what other agencies wrote in their updates, word for word: what one agency wrote about an adult, or about
  anyone else named, stays with the professionals. In its place the draft uses the lead social worker's own
  update and the group's decisions, actions and scores, with a line saying who else gave an update.

Sections hold what their headings say: worries under "What we are worried about", things going well under
"What is going well", jobs (on time or late) under "Who will do what by when". Everything people wrote goes
through `models.plain.family_words` (initials and jargon in plain words). Short sentences throughout: the
readability of every family document is measured (`models.readability`).
"""

from __future__ import annotations

from datetime import date, datetime

from models.documents import Outline, Record, children_words
from models.meetings import long_date
from models.names import NOT_LOOKED_UP
from models.plain import explanations, family_words

SCHEMA = 1
MAIN = "The main points"
WORRIED = "What we are worried about"
GOING_WELL = "What is going well"
SCORES = "The group's scores"
NEEDS = "What needs to happen"
WHO_WHAT_WHEN = "Who will do what by when"
FAMILY_SAID = "What you told us"
CHILDREN_SAID = "What the children said"
CHILD_SAID = "What the child said"
OTHERS = "What other people in the group wrote"
REVIEW = "What happens next"
NEXT = "When we meet next"
WORDS = "Some words in this summary"

# The sections the person preparing it can change, in the order the family reads them: (key, heading).
EDITABLE = (("main", MAIN), ("worried", WORRIED), ("going_well", GOING_WELL), ("needs", NEEDS),
            ("who_what_when", WHO_WHAT_WHEN), ("family_said", FAMILY_SAID), ("review", REVIEW), ("next", NEXT))
SECTIONS = (MAIN, WORRIED, GOING_WELL, SCORES, NEEDS, WHO_WHAT_WHEN, FAMILY_SAID, CHILD_SAID, CHILDREN_SAID,
            OTHERS, REVIEW, NEXT, WORDS)
MAX_SECTION = 3000

RISK = {"reducing": "The group thinks the risks to the {children} are getting smaller.",
        "no_change": "The group thinks the risks are about the same as last time.",
        "increasing": "The group thinks the risks to the {children} are getting bigger."}
# What the recommendation means for the family, what happens next, and who to ask: in words a parent can act on.
RECOMMENDATION = {
    "continue": ("The group thinks the child protection plan should carry on for now.\n"
                 "The plan stays the same until the review conference.\n"
                 "Keep doing your part of the plan. If something gets in the way, tell {lead} soon."),
    "end": ("The group thinks the child protection plan can end.\n"
            "The review conference makes the final choice.\n"
            "If the plan ends, you may still get help from family support. {lead} will talk to you about it.\n"
            "Until then, the plan carries on as it is."),
    "step_up": ("The group is very worried. Things have not got better enough.\n"
                "The council may ask for a meeting about going to court. This is called a legal planning"
                " meeting.\n"
                "If that happens, you will get a letter. The letter tells you about a meeting with the council.\n"
                "You can take a solicitor to that meeting. You will not have to pay for the solicitor.\n"
                "Please talk to {lead} soon. They will tell you what happens next and how to get help."),
}
REVIEW_MEANS = "The review conference is a meeting that decides if the child protection plan should carry on."
NO_LEAD = "your social worker"


def plain(text: str | None) -> str:
    return family_words((text or "").strip())


def role_words(role: str) -> str:
    """"Health visitor" → "health visitor"; initials a family knows ("GP") stay as they are."""
    if not role or role[:2].isupper():
        return role
    return role[0].lower() + role[1:]


def who(p: dict | None) -> str:
    if not p:
        return "Someone who has left the group"
    return f"{p['name']} ({plain(role_words(p['role']))})"


def _day(iso: str) -> str:
    return long_date(date.fromisoformat(iso[:10]))


def _sentence(text: str) -> str:
    text = text.rstrip()
    return text if not text or text[-1] in ".!?”\"'" else text + "."


def _lines(items: list[str]) -> str:
    return "\n".join(f"- {item}" for item in items if item)


def _lead_name(record: Record) -> str:
    """The lead social worker's name, or "your social worker" while Slack has not given it."""
    return record.lead["name"] if record.lead and record.lead["name"] != NOT_LOOKED_UP else NO_LEAD


def lead_update(record: Record) -> dict | None:
    """The lead social worker's own update, the one professional update the draft uses as written."""
    if not record.lead:
        return None
    return next((u for u in record.content.get("updates") or []
                 if u.get("name") == record.lead["name"] and u.get("role") == record.lead["role"]), None)


def family_updates(content: dict) -> list[dict]:
    """Views given by the family (recorded on their behalf by the social worker or the chair)."""
    return [u for u in content.get("updates") or [] if u.get("recorded_by")]


def agency_updates(record: Record) -> list[dict]:
    """Updates written by professionals other than the lead social worker."""
    lead = lead_update(record)
    return [u for u in record.content.get("updates") or [] if not u.get("recorded_by") and u is not lead]


def child_words(content: dict) -> str:
    """The child's own words as the record holds them (the chair's note and what anyone heard), or ""."""
    views = content.get("child_views") or {}
    lines = [plain(views.get("text"))]
    lines += [f"{who(u)} heard this: {_sentence(plain(u['child_views']))}"
              for u in content.get("updates") or [] if u.get("child_views")]
    return "\n".join(line for line in lines if line)


def agency_words(record: Record) -> str:
    """What other agencies wrote, word for word (plain words), or ""."""
    lines = []
    for u in agency_updates(record):
        for key, label in (("working_well", "going well"), ("worries", "worried about"),
                           ("needs_to_happen", "needs to happen")):
            if u.get(key):
                lines.append(f"{who(u)}, {label}: {_sentence(plain(u[key]))}")
    return "\n".join(lines)


# --- the draft -----------------------------------------------------------------------------------------------


def _worried(record: Record) -> str:
    content, mine = record.content, lead_update(record)
    items = []
    if content.get("risk_direction") in ("no_change", "increasing"):
        items.append(RISK[content["risk_direction"]].format(**children_words(content)))
    if mine and mine.get("worries"):
        items.append(_sentence(plain(mine["worries"])))
    for q in content.get("scaling") or []:
        if q.get("direction") == "down":
            items.append(f"The score for “{plain(q['question'])}” has gone down.")
    return _lines(items) or "Nobody wrote down new worries for this meeting."


def _going_well(record: Record) -> str:
    content, mine = record.content, lead_update(record)
    items = []
    if content.get("risk_direction") == "reducing":
        items.append(RISK["reducing"].format(**children_words(content)))
    if mine and mine.get("working_well"):
        items.append(_sentence(plain(mine["working_well"])))
    items += [f"Done: {_sentence(plain(row['what']))}" for row in content.get("actions") or []
              if row.get("state") == "done"]
    for q in content.get("scaling") or []:
        if q.get("direction") == "up":
            items.append(f"The score for “{plain(q['question'])}” has gone up.")
    return _lines(items) or "Nobody wrote down what is going well for this meeting."


def _needs(record: Record) -> str:
    content, mine = record.content, lead_update(record)
    items = []
    if mine and mine.get("needs_to_happen"):
        items.append(_sentence(plain(mine["needs_to_happen"])))
    items += [f"The group decided: {_sentence(plain(d['text']))}" for d in content.get("decisions") or []]
    return _lines(items) or "Nothing new was written down. The plan carries on as before."


def _who_what_when(record: Record) -> str:
    content = record.content
    rows = list(content.get("new_actions") or [])
    rows += [r for r in content.get("actions") or [] if r.get("state") in ("on_track", "overdue")]
    items = []
    for row in rows:
        text = f"{who(row.get('owner'))}: {_sentence(plain(row['what']))}"
        if row.get("state") == "overdue":
            text += f" This is late. It was due by {_day(row['due'])}."
        else:
            text += f" Due by {_day(row['due'])}."
        items.append(text)
    return _lines(items) or "No one has anything new to do."


def _family_said(record: Record) -> str:
    content = record.content
    items = []
    if content.get("parents_views"):
        items.append(_sentence(plain(content["parents_views"])))
    for u in family_updates(content):
        for key, label in (("working_well", "What is going well"), ("worries", "What worries you"),
                           ("needs_to_happen", "What would help")):
            if u.get(key):
                items.append(f"{u['name']}. {label}: {_sentence(plain(u[key]))}")
    for q in content.get("scaling") or []:
        for s in q.get("scores") or []:
            if s.get("recorded_by"):
                items.append(f"{s['name']} gave a score of {s['score']} for “{_sentence(plain(q['question']))}”")
    return _lines(items) or "Your views were not written down this time. You can tell your social worker at any time."


def _review(record: Record) -> str:
    content = record.content
    text = RECOMMENDATION.get(content.get("recommendation") or "",
                              "The group has not agreed what to say yet.").format(lead=_lead_name(record))
    text += "\n" + REVIEW_MEANS
    review = content.get("review_conference") or record.review_date
    if isinstance(review, str):
        review = date.fromisoformat(review[:10])
    if isinstance(review, date):
        text += f"\nThe review conference is on {long_date(review)}."
    return text


def _next(record: Record) -> str:
    wanted = record.content.get("next_meeting")
    if not wanted or not wanted.get("start"):
        return "The date of the next meeting is not set yet. Your social worker will tell you when it is."
    starts = datetime.fromisoformat(wanted["start"])
    text = f"The next meeting is on {long_date(starts.date())} at {starts:%H:%M}."
    if wanted.get("location"):
        text += f"\nIt will be at {_sentence(plain(wanted['location']))}"
    return text


def others_note(record: Record) -> str:
    """The line that stands in for other agencies' updates when they are left out."""
    roles = []
    for u in agency_updates(record):
        role = plain(role_words(u.get("role") or ""))
        if role and role not in roles:
            roles.append(role)
    if not roles:
        return ""
    listed = roles[0] if len(roles) == 1 else ", ".join(roles[:-1]) + " and " + roles[-1]
    return f"The {listed} also gave updates. Ask {_lead_name(record)} if you want to know more."


def prefill(record: Record) -> dict[str, str]:
    """Section key -> the drafted text, for the form (child's words and other agencies' words left out)."""
    main = plain(record.content.get("key_points"))
    note = others_note(record)
    return {"main": "\n".join(t for t in (main, note) if t), "worried": _worried(record),
            "going_well": _going_well(record), "needs": _needs(record), "who_what_when": _who_what_when(record),
            "family_said": _family_said(record), "review": _review(record), "next": _next(record)}


def build(record: Record, texts: dict[str, str], *, child: bool, others: bool) -> dict:
    """What the family reads, as stored in a family version: the sections as approved, and the ticked extras."""
    content = record.content
    # What the person typed is put in plain words too (initials written out, jargon in everyday words); the
    # spelled-out names that still need explaining are found in the words before that.
    raw = [texts.get(key) or "" for key, _ in EDITABLE] + _source_texts(record)
    sections = [{"key": key, "heading": heading, "text": _plain_lines(texts.get(key) or "")}
                for key, heading in EDITABLE]
    extras = []
    if child and child_words(content):
        heading = CHILD_SAID if children_words(content)["children"] == "child" else CHILDREN_SAID
        extras.append({"key": "child_said", "heading": heading, "text": child_words(content)})
    if others and agency_words(record):
        extras.append({"key": "others", "heading": OTHERS, "text": agency_words(record)})
    # The extras go after what the family told us, before what happens next.
    at = next(i for i, s in enumerate(sections) if s["key"] == "review")
    sections[at:at] = extras
    return {"schema": SCHEMA, "reference": record.reference, "meeting": {
        "number": content["meeting"]["number"], "start": content["meeting"]["start"]},
        "children": list(content.get("children") or []), "lead": record.lead, "scores": _score_lines(content),
        "sections": sections, "includes_child_words": any(e["key"] == "child_said" for e in extras),
        "includes_other_agencies": any(e["key"] == "others" for e in extras),
        "words": [[name, meaning] for name, meaning in explanations(raw)]}


def _plain_lines(text: str) -> str:
    return "\n".join(family_words(line) for line in text.strip().splitlines())


def _source_texts(record: Record) -> list[str]:
    """What people wrote that the draft was made from, for the spelled-out names it explains."""
    content = record.content
    texts = [content.get("key_points"), content.get("parents_views"),
             (content.get("next_meeting") or {}).get("location")]
    for row in [*(content.get("actions") or []), *(content.get("new_actions") or [])]:
        texts += [row.get("what"), (row.get("owner") or {}).get("role")]
    texts += [d.get("text") for d in content.get("decisions") or []]
    for u in content.get("updates") or []:
        texts += [u.get("working_well"), u.get("worries"), u.get("needs_to_happen")]
    return [t for t in texts if isinstance(t, str) and t]


def _score_lines(content: dict) -> list[str]:
    lines = []
    for q in content.get("scaling") or []:
        if not q.get("scores"):
            continue
        text = f"“{_sentence(plain(q['question']))}” 0 means {_sentence(plain(q['zero_means']))}"
        text += f" 10 means {_sentence(plain(q['ten_means']))}"
        if q["low"] == q["high"]:
            text += f" Everyone gave {q['low']}."
        else:
            text += f" The scores went from {q['low']} to {q['high']}. The middle score was {_number(q['median'])}."
        if q.get("previous_median") is not None:
            text += f" Last time it was {_number(q['previous_median'])}."
        lines.append(text)
    return lines


def _number(value: float | None) -> str:
    if value is None:
        return "not given"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


# --- the document ------------------------------------------------------------------------------------------


def family_title(content: dict) -> str:
    return "Core group meeting: a summary for the family"


def _text_items(text: str) -> Outline:
    out: Outline = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line[:2] in ("- ", "• ", "* "):
            out.append(("bullet", line[2:].strip()))
        else:
            out.append(("p", line))
    return out


def family_outline(content: dict) -> Outline:
    """The approved family version as a document outline: exactly the approved sections, nothing else."""
    children = " and ".join(content.get("children") or []) or "the children"
    out: Outline = [("title", "Core group meeting: what happened"),
                    ("subtitle", f"A summary for the family of {children}."),
                    ("p", f"This is a short summary of the meeting on {_day(content['meeting']['start'])}."),
                    ("p", "The core group is the group of people who work with your family on the plan.")]
    lead = content.get("lead")
    if lead and lead.get("name") != NOT_LOOKED_UP:
        out.append(("p", f"Your social worker is {lead['name']}. If anything here is wrong or hard to understand,"
                         " please tell them."))
    shown = "\n".join(section.get("text") or "" for section in content.get("sections") or []).casefold()
    for section in content.get("sections") or []:
        if not section.get("text"):
            continue
        out.append(("h1", section["heading"]))
        out += _text_items(section["text"])
        if section["key"] == "going_well" and content.get("scores"):
            out.append(("h1", SCORES))
            out.append(("p", "Each person gave a score from 0 to 10. People do not have to agree."))
            out += [("bullet", line) for line in content["scores"]]
    explained = [(name, meaning) for name, meaning in content.get("words") or [] if name.casefold() in shown]
    if explained:
        out += [("h1", WORDS), *[("bullet", f"{name}: {_sentence(meaning)}") for name, meaning in explained]]
    return out
