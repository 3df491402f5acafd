"""The family version of the minutes: the same record, in plain words, for the parents and carers.

Short sentences, no initials, no jargon: everything people wrote goes through `models.plain.family_words`,
which writes known initials out in full ("HV" → "health visitor") and puts jargon in plain words
("disguised compliance" → "appearing to co-operate without real change"), and the wording around it uses
neither. Where a spelled-out name is still not everyday words ("public law outline"), the last part says
what it means. The parts are the ones a family asks about: what we are worried about, what is going well,
what needs to happen, who will do what by when (saying plainly what is late), what the child or children
said, what the group will tell the review conference, and when we meet next. "Child" or "children"
follows how many the record is about.
"""

from __future__ import annotations

from datetime import date, datetime

from models.documents import Outline, Record, children_words
from models.meetings import long_date
from models.names import NOT_LOOKED_UP
from models.plain import explanations, family_words

WORRIED = "What we are worried about"
GOING_WELL = "What is going well"
SCORES = "The group's scores"
NEEDS = "What needs to happen"
WHO_WHAT_WHEN = "Who will do what by when"
CHILDREN_SAID = "What the children said"
CHILD_SAID = "What the child said"
PARENTS_SAID = "What the parents told us"
REVIEW = "What the group will tell the review conference"
NEXT = "When we meet next"
WORDS = "Some words in this summary"
SECTIONS = (WORRIED, GOING_WELL, SCORES, NEEDS, WHO_WHAT_WHEN, CHILDREN_SAID, CHILD_SAID, PARENTS_SAID, REVIEW, NEXT,
            WORDS)

RISK = {"reducing": "The group thinks the risks to the {children} are getting smaller.",
        "no_change": "The group thinks the risks to the {children} are about the same as before.",
        "increasing": "The group thinks the risks to the {children} are getting bigger."}
RECOMMENDATION = {
    "continue": "The group thinks the child protection plan should carry on for now.",
    "end": "The group thinks the child protection plan can end.",
    "step_up": ("The group is very worried. It thinks the council should think about going to court to keep the"
                " {children} safe."),
}


def plain(text: str | None) -> str:
    return family_words((text or "").strip())


def _risk(content: dict) -> str:
    return RISK[content["risk_direction"]].format(**children_words(content))


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


def family_title(record: Record) -> str:
    return "Core group meeting: a summary for the family"


def _intro(record: Record) -> Outline:
    content = record.content
    children = " and ".join(content.get("children") or []) or "the children"
    out: Outline = [("title", "Core group meeting: what happened"),
                    ("subtitle", f"A summary for the family of {children}."),
                    ("p", f"This is a short summary of the core group meeting on {_day(content['meeting']['start'])}."
                          " The core group is the group of people who work with your family on the child"
                          " protection plan.")]
    lead = record.lead
    if lead:
        whom = "your social worker" if lead["name"] == NOT_LOOKED_UP else lead["name"]
        out.append(("p", f"The full record is kept by the social worker. If anything here is wrong or hard to"
                         f" understand, please tell {whom}."))
    if content.get("key_points"):
        out.append(("labelled", ("The main points", plain(content["key_points"]))))
    return out


def _from_updates(content: dict, key: str) -> Outline:
    return [("bullet", f"{who(u)}: {_sentence(plain(u[key]))}") for u in content.get("updates") or [] if u.get(key)]


def _worried(content: dict) -> Outline:
    out: Outline = [("h1", WORRIED)]
    if content.get("risk_direction") in ("no_change", "increasing"):
        out.append(("p", _risk(content)))
    out += _from_updates(content, "worries")
    for row in content.get("actions") or []:
        if row.get("state") == "overdue":
            out.append(("bullet", f"{_sentence(plain(row['what']))} This was due by {_day(row['due'])} and is not"
                                  " done yet."))
    for q in content.get("scaling") or []:
        if q.get("direction") == "down":
            out.append(("bullet", f"The score for “{plain(q['question'])}” has gone down."))
    if len(out) == 1:
        out.append(("p", "Nobody wrote down new worries for this meeting."))
    return out


def _going_well(content: dict) -> Outline:
    out: Outline = [("h1", GOING_WELL)]
    if content.get("risk_direction") == "reducing":
        out.append(("p", _risk(content)))
    out += _from_updates(content, "working_well")
    for row in content.get("actions") or []:
        if row.get("state") == "done":
            out.append(("bullet", f"Done: {_sentence(plain(row['what']))}"))
    for q in content.get("scaling") or []:
        if q.get("direction") == "up":
            out.append(("bullet", f"The score for “{plain(q['question'])}” has gone up."))
    if len(out) == 1:
        out.append(("p", "Nobody wrote down what is going well for this meeting."))
    return out


def _scores(content: dict) -> Outline:
    questions = [q for q in content.get("scaling") or [] if q.get("scores")]
    if not questions:
        return []
    out: Outline = [("h1", SCORES), ("p", "Each person gave a score from 0 to 10. People do not have to agree.")]
    for q in questions:
        text = (f"“{_sentence(plain(q['question']))}” 0 means {_sentence(plain(q['zero_means']))}"
                f" 10 means {_sentence(plain(q['ten_means']))}")
        if q["low"] == q["high"]:
            text += f" Everyone gave {q['low']}."
        else:
            text += f" The scores went from {q['low']} to {q['high']}. The middle score was {_number(q['median'])}."
        if q.get("previous_median") is not None:
            text += f" Last time it was {_number(q['previous_median'])}."
        out.append(("bullet", text))
    return out


def _number(value: float | None) -> str:
    if value is None:
        return "not given"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _needs(content: dict) -> Outline:
    out: Outline = [("h1", NEEDS)]
    out += _from_updates(content, "needs_to_happen")
    out += [("bullet", f"The group decided: {_sentence(plain(d['text']))}") for d in content.get("decisions") or []]
    if len(out) == 1:
        out.append(("p", "Nothing new was written down. The plan carries on as before."))
    return out


def _who_what_when(content: dict) -> Outline:
    out: Outline = [("h1", WHO_WHAT_WHEN)]
    rows = [r for r in content.get("new_actions") or []]
    rows += [r for r in content.get("actions") or [] if r.get("state") in ("on_track", "overdue")]
    for row in rows:
        text = f"{who(row.get('owner'))} will do this: {_sentence(plain(row['what']))}"
        if row.get("state") == "overdue":
            text += f" This was due by {_day(row['due'])} and is not done yet."
        else:
            text += f" By {_day(row['due'])}."
        if row.get("measure"):
            text += f" How we will know it is done: {_sentence(plain(row['measure']))}"
        out.append(("bullet", text))
    if len(out) == 1:
        out.append(("p", "No one has anything new to do."))
    return out


def _children_said(content: dict) -> Outline:
    views = content.get("child_views") or {}
    words = children_words(content)
    whose = "child's" if words["children"] == "child" else "children's"
    out: Outline = [("h1", CHILD_SAID if words["children"] == "child" else CHILDREN_SAID)]
    if views.get("text"):
        out.append(("p", plain(views["text"])))
    out += [("bullet", f"{who(u)} heard this: {_sentence(plain(u['child_views']))}")
            for u in content.get("updates") or [] if u.get("child_views")]
    if views.get("not_obtained"):
        out.append(("p", f"We did not hear the {whose} views this time. This is why: "
                         f"{_sentence(plain(views['not_obtained']))}"))
    if len(out) == 1:
        out.append(("p", f"The {whose} views were not written down this time."))
    return out


def _review(record: Record) -> Outline:
    content = record.content
    out: Outline = [("h1", REVIEW),
                    ("p", RECOMMENDATION.get(content.get("recommendation") or "",
                                             "The group has not agreed what to say yet.").format(
                                                 **children_words(content))),
                    ("p", "The review conference is a meeting that decides if the child protection plan should"
                          " carry on.")]
    review = record.review_date
    if isinstance(review, date):
        out.append(("p", f"It is on {long_date(review)}."))
    return out


def _next(content: dict) -> Outline:
    wanted = content.get("next_meeting")
    if not wanted or not wanted.get("start"):
        return [("h1", NEXT), ("p", "The date of the next meeting has not been set yet. Your social worker will"
                                    " tell you when it is.")]
    starts = datetime.fromisoformat(wanted["start"])
    out: Outline = [("h1", NEXT), ("p", f"The next core group meeting is on {long_date(starts.date())}"
                                        f" at {starts:%H:%M}.")]
    if wanted.get("location"):
        out.append(("p", f"It will be at {_sentence(plain(wanted['location']))}"))
    return out


def _shown_texts(record: Record) -> list[str]:
    """What people wrote that the family version shows, for the words it explains."""
    content = record.content
    texts = [content.get("key_points"), content.get("parents_views"),
             (content.get("next_meeting") or {}).get("location")]
    views = content.get("child_views") or {}
    texts += [views.get("text"), views.get("not_obtained")]
    for update in content.get("updates") or []:
        texts += [update.get(key) for key in ("worries", "working_well", "needs_to_happen", "child_views", "role")]
    for row in [*(content.get("actions") or []), *(content.get("new_actions") or [])]:
        texts += [row.get("what"), row.get("measure"), (row.get("owner") or {}).get("role")]
    for q in content.get("scaling") or []:
        texts += [q.get("question"), q.get("zero_means"), q.get("ten_means")]
    texts += [d.get("text") for d in content.get("decisions") or []]
    return [t for t in texts if isinstance(t, str) and t]


def _words(record: Record) -> Outline:
    explained = explanations(_shown_texts(record))
    if not explained:
        return []
    return [("h1", WORDS), *[("bullet", f"{name}: {_sentence(meaning)}") for name, meaning in explained]]


def family_outline(record: Record) -> Outline:
    content = record.content
    out = _intro(record)
    out += _worried(content)
    out += _going_well(content)
    out += _scores(content)
    out += _needs(content)
    out += _who_what_when(content)
    out += _children_said(content)
    if content.get("parents_views"):
        out += [("h1", PARENTS_SAID), ("p", plain(content["parents_views"]))]
    out += _review(record)
    out += _next(content)
    out += _words(record)
    return out
