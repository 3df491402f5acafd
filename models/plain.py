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

`spell_out` replaces initials only: it is the plain spelling of what people wrote, as written.

`family_words` is for the family version: initials spelled out as `spell_out` does, and each jargon
phrase written in plain words that fit the sentence around it (the glossary's FAMILY table: "presented
as anxious" -> "seemed anxious", "engaged with the health visitor" -> "worked with the health visitor",
"disguised compliance" -> "appearing to co-operate without real change"). `explanations` gives a short
plain explanation for spelled-out initials whose full name is still not everyday words ("public law
outline: the pre-court process").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.glossary import (
    ALSO_WORDS,
    FAMILY,
    GLOSSARY,
    NEEDLES,
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
    needle: str  # text that every match contains (looked for before the pattern is run) ...
    exact: bool  # ... as written; otherwise in lower case
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
    if term in PATTERNS:
        needle, exact = NEEDLES[term], False
    else:  # initials matched as written ("LA", not "la" in "plan") are looked for as written
        exact = initials and "(?i:" not in pattern.pattern
        needle = term.split()[0] if exact else term.split()[0].lower()
    return _Entry(
        term=term, meaning=meaning, instead=instead, initials=initials, pattern=pattern, needle=needle, exact=exact,
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


# Letters outside ASCII that a case-insensitive pattern takes for an ASCII one ("ſ" for "s", the Kelvin sign
# for "k"): written as that letter before looking for needles, so that no match is passed over.
_FOLDS = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _candidates(text: str) -> list[_Entry]:
    """The entries whose needle is in the text: the only ones that can match. Looking for a piece of text is
    quick; running eighty patterns over every field of a form, before the form is answered, is not."""
    lowered = text.translate(_FOLDS).lower()
    return [entry for entry in ENTRIES if entry.needle in (text if entry.exact else lowered)]


def _matches(text: str, entries: list[_Entry] | None = None) -> list[_Match]:
    """Every known term in the text, without overlaps (the longer wins), in order. `entries` is for the test
    that proves the needles miss nothing: by default, only the candidates are run."""
    if not text:
        return []
    entries = _candidates(text) if entries is None else entries
    if not entries:
        return []
    skipped = [m.span() for m in _SKIP.finditer(text)]
    found: list[_Match] = []
    for entry in entries:
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
    return _suggestions(text, None)


def _suggestions(text: str, entries: list[_Entry] | None) -> list[Suggestion]:
    seen: set[str] = set()
    result: list[Suggestion] = []
    for match in _matches(text, entries):
        entry = match.entry
        if entry.term in seen:
            continue
        seen.add(entry.term)
        result.append(Suggestion(term=text[match.start:match.end], meaning=entry.meaning, instead=entry.instead,
                                 key=entry.term))
    return result


def check_all(texts: list[str]) -> list[Suggestion]:
    """Suggestions across several fields, each term once."""
    # One look for the needles in all the fields (most forms have none); each field then runs only the patterns
    # of the needles found, as no other can match in any of them.
    candidates = _candidates("\n".join(texts))
    if not candidates:
        return []
    seen: set[str] = set()
    result: list[Suggestion] = []
    for text in texts:
        for suggestion in _suggestions(text, candidates):
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


_AFTER_ARTICLE = re.compile(r"(?<![\w'])(?:a|an|the|this|that)\s+$", re.IGNORECASE)
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)$")
_A_OR_AN = re.compile(r"(?<![\w'-])(a|an)\s+$", re.IGNORECASE)


def _initials_words(match: _Match) -> str:
    entry = match.entry
    return PLURALS.get(entry.term, entry.meaning + "s") if match.plural else entry.meaning


def _phrase_words(text: str, match: _Match) -> tuple[str, int]:
    """Plain words for a jargon phrase found in `text`, and where the words they replace end."""
    before = text[:match.start]
    for row in FAMILY.get(match.entry.term, ()):
        form, words = row[0], row[1]
        if len(row) > 2 and not re.search(rf"(?<![\w'])(?:{row[2]})\s+$", before, re.IGNORECASE):
            continue
        if form is None:
            return words, match.end
        found = re.compile(form, re.IGNORECASE).match(text, match.start)
        if found and found.end() >= match.end:
            groups = {name: _family_words(value or "", sentence=False)
                      for name, value in found.groupdict().items()}
            return words.format_map(groups), found.end()
    # Not in the table (a new glossary entry): say what it means beside it rather than leave it unexplained.
    return f"{text[match.start:match.end]} ({match.entry.meaning})", match.end


def family_words(text: str) -> str:
    """The text in the family's words: initials spelled out, jargon phrases in plain words."""
    return _family_words(text, sentence=True)


def _article(before: str, words: str) -> str:
    """"a" or "an" before the new words as they sound ("an HV" -> "a health visitor")."""
    found = _A_OR_AN.search(before)
    if not found:
        return before
    first = words[:1].lower()
    vowel = first in "aeio" or (first == "u" and not words.lower().startswith(("uni", "use", "usu")))
    article = "an" if vowel else "a"
    if found.group(1)[0].isupper():
        article = article.capitalize()
    return before[:found.start(1)] + article + before[found.end(1):]


def _family_words(text: str, *, sentence: bool) -> str:
    if not text:
        return text or ""
    pieces: list[str] = []
    last = 0
    for match in _matches(text):
        if match.start < last:
            continue  # taken in by the phrase before it ("engaged with")
        entry = match.entry
        if entry.term in FAMILY:
            words, end = _phrase_words(text, match)
        else:
            words, end = _initials_words(match), match.end
        head = text[:match.start]
        first_word = words.split(" ", 1)
        if first_word[0].lower() in ("a", "the") and len(first_word) > 1 and _AFTER_ARTICLE.search(head):
            words = first_word[1]  # "the toxic trio" -> "the mix of ...", not "the the mix of ..."
        starts = bool(_SENTENCE_START.search(head)) and (sentence or bool(head))
        if words and starts and (entry.initials or text[match.start].isupper()):
            words = words[0].upper() + words[1:]
        pieces.append(_article(text[last:match.start], words))
        pieces.append(words)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def explanations(texts: list[str]) -> list[tuple[str, str]]:
    """(spelled-out name, what it means in everyday words) for initials in the texts whose full name is not
    plain enough on its own, each once, in the order they first appear."""
    seen: set[str] = set()
    result: list[tuple[str, str]] = []
    for text in texts:
        for match in _matches(text or ""):
            entry = match.entry
            if not entry.initials or entry.term in seen:
                continue
            seen.add(entry.term)
            meaning, plain = entry.meaning, entry.instead
            own = [row[1] for row in FAMILY.get(entry.term, ()) if row[0] is None and len(row) == 2]
            if own:
                meaning = own[0].removeprefix("a ").removeprefix("the ")
            head, _, tail = plain.partition(": ")
            if tail and head.casefold().removeprefix("a ") in meaning.casefold():
                plain = tail  # "parental responsibility: the legal rights ..." -> "the legal rights ..."
            elif plain.casefold() in meaning.casefold() or meaning.casefold() in plain.casefold():
                continue  # the full name already says it ("child in need", "domestic violence" -> "domestic abuse")
            result.append((meaning[0].upper() + meaning[1:], plain))
    return result
