"""The plain-language check: initials and jargon that shut families out, with plain words to use.

Core group records are read by parents. The guidance is plain: "avoid the use of acronyms and
jargon". `check(text)` finds known terms and says what to write instead; the author decides.
`spell_out(text)` writes known initials out in full, for the family version.

Matching rules (a false alarm teaches people to ignore the check, so they lean towards quiet):

- Initials (a term with two or more capitals, or a digit: "HV", "CiC", "s47") are matched as
  written, case-sensitively: "Dad" is not "DA", "cap" is not "CP", "hv" is not "HV". Initials of
  four or more letters that are not also words ("CAMHS", "ICPC", "MARAC") are matched in any case,
  because "Camhs" and "Icpc" are common spellings and no English word looks like them.
- Whole words only: not inside a longer word, not joined by a hyphen to a letter or number (so a
  case reference such as "CP-2026-0142" is not "CP"), not inside a link, a mention or a web address.
  A plural or possessive is found ("HVs", "the HV's visit").
- Initials that are also English words ("SEND", "MASH") are not flagged in a sentence written in
  capitals ("PLEASE SEND THE FORM").
- Some initials have an everyday meaning in the same spelling; the glossary lists the words around
  them that give that meaning away ("DNA test", "his DNA", "SW London"), and those are left alone.
- Jargon phrases ("disguised compliance", "meets threshold", "presented as") ignore case. Only the
  jargon use is matched where the word has an ordinary one too ("the threshold of the door" is fine).
- Where two terms overlap, the longer wins ("s47 enquiry" over "s47").

`spell_out` replaces initials only. A jargon phrase cannot be swapped for other words without
breaking the sentence around it ("presented as anxious"), so the check asks the author instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.glossary import (
    ALSO_WORDS,
    GLOSSARY,
    NOT_WHEN_FOLLOWED_BY,
    NOT_WHEN_PRECEDED_BY,
    PATTERNS,
    PLURALS,
)


@dataclass(frozen=True)
class Suggestion:
    term: str  # as written in the text
    meaning: str  # what it stands for
    instead: str  # plain words to use
    key: str = ""  # the glossary's term, the same for "HV" and "HVs"


@dataclass(frozen=True)
class _Entry:
    term: str
    meaning: str
    instead: str
    initials: bool
    pattern: re.Pattern[str]
    not_after: re.Pattern[str] | None  # matched against the text before the term
    not_before: re.Pattern[str] | None  # matched against the text after the term


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    entry: _Entry
    plural: bool


# Web addresses and Slack's own markup (<@U123>, <#C123|name>, <https://x|label>): never checked.
_SKIP = re.compile(r"https?://\S+|www\.\S+|<[@#!]?[^\s<>|]+(?:\|[^<>\n]*)?>")
_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


def is_initials(term: str) -> bool:
    return any(ch.isdigit() for ch in term) or sum(ch.isupper() for ch in term) >= 2


def _pattern(term: str) -> tuple[re.Pattern[str], bool]:
    initials = is_initials(term)
    core = PATTERNS.get(term)
    if core is None:
        core = re.escape(term).replace(r"\ ", r"\s+")
        letters = [ch for ch in term if ch.isalpha()]
        if not initials or (len(letters) >= 4 and term not in ALSO_WORDS):
            core = f"(?i:{core})"
    if initials:
        plural = "" if "(?P<plural>" in core else "(?P<plural>s)?"
        return re.compile(rf"(?<![\w&])(?<!\w-)(?:{core}){plural}(?![\w&])(?!-\w)"), True
    return re.compile(rf"(?<![\w-])(?:{core})(?![\w-])"), False


def _entry(term: str, meaning: str, instead: str) -> _Entry:
    pattern, initials = _pattern(term)
    before = NOT_WHEN_PRECEDED_BY.get(term)
    after = NOT_WHEN_FOLLOWED_BY.get(term)
    return _Entry(
        term=term, meaning=meaning, instead=instead, initials=initials, pattern=pattern,
        not_after=re.compile(rf"(?<![\w'])(?:{before})\s+$", re.IGNORECASE) if before else None,
        not_before=re.compile(rf"^\s+(?:{after})\b", re.IGNORECASE) if after else None,
    )


ENTRIES: list[_Entry] = [_entry(*row) for row in GLOSSARY]
_KNOWN_INITIALS = {entry.term for entry in ENTRIES if entry.initials}


def _shouted(text: str, start: int, end: int) -> bool:
    """True when a neighbouring word is in capitals and is not itself a known term."""
    before = _WORD.findall(text[max(0, start - 40):start])
    after = _WORD.findall(text[end:end + 40])
    neighbours = before[-1:] + after[:1]
    return any(len(word) >= 2 and word.isupper() and word.rstrip("s") not in _KNOWN_INITIALS
               for word in neighbours)


def _allowed(text: str, entry: _Entry, match: re.Match[str]) -> bool:
    if entry.not_after and entry.not_after.search(text[:match.start()]):
        return False
    if entry.not_before and entry.not_before.search(text[match.end():]):
        return False
    return not (entry.term in ALSO_WORDS and _shouted(text, match.start(), match.end()))


def _matches(text: str) -> list[_Match]:
    """Every known term in the text, without overlaps (the longer wins), in order."""
    if not text:
        return []
    skipped = [m.span() for m in _SKIP.finditer(text)]
    found: list[_Match] = []
    for entry in ENTRIES:
        for match in entry.pattern.finditer(text):
            start, end = match.span()
            if any(s < end and start < e for s, e in skipped):
                continue
            if _allowed(text, entry, match):
                found.append(_Match(start, end, entry, bool(match.groupdict().get("plural"))))
    found.sort(key=lambda m: (m.start, -(m.end - m.start)))
    kept: list[_Match] = []
    for match in found:
        if kept and match.start < kept[-1].end:
            continue
        kept.append(match)
    return kept


def check(text: str) -> list[Suggestion]:
    """Known initials and jargon in `text`, each once, in the order they first appear."""
    seen: set[str] = set()
    result: list[Suggestion] = []
    for match in _matches(text):
        entry = match.entry
        if entry.term in seen:
            continue
        seen.add(entry.term)
        result.append(Suggestion(term=text[match.start:match.end], meaning=entry.meaning, instead=entry.instead,
                                 key=entry.term))
    return result


def check_all(texts: list[str]) -> list[Suggestion]:
    """Suggestions across several fields, each term once."""
    seen: set[str] = set()
    result: list[Suggestion] = []
    for text in texts:
        for suggestion in check(text):
            if suggestion.key not in seen:
                seen.add(suggestion.key)
                result.append(suggestion)
    return result


def spell_out(text: str) -> str:
    """Write known initials out in full, for the family's version ("HVs" → "health visitors")."""
    if not text:
        return text or ""
    pieces: list[str] = []
    last = 0
    for match in _matches(text):
        entry = match.entry
        if not entry.initials:
            continue
        words = PLURALS.get(entry.term, entry.meaning + "s") if match.plural else entry.meaning
        pieces.append(text[last:match.start])
        pieces.append(words)
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces)
