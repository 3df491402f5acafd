"""The plain-language check: initials and jargon that shut families out, with plain words to use.

Core group records are read by parents. The guidance is plain: "avoid the use of acronyms and
jargon". `check(text)` finds known terms and says what to write instead; the author decides.
`spell_out(text)` writes the meaning beside each known acronym, for the family version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from models.glossary import GLOSSARY


@dataclass(frozen=True)
class Suggestion:
    term: str  # as written in the text
    meaning: str  # what it stands for
    instead: str  # plain words to use


def _pattern(term: str) -> re.Pattern[str]:
    escaped = re.escape(term).replace(r"\ ", r"\s+")
    if term.isupper() or any(ch.isdigit() for ch in term):
        # Initials: match as written (case-sensitive), as a whole word, allowing a plural "s".
        return re.compile(rf"(?<![\w/]){escaped}s?(?![\w/])")
    return re.compile(rf"(?<!\w){escaped}(?!\w)", re.IGNORECASE)


_COMPILED = [(_pattern(term), term, meaning, instead) for term, meaning, instead in GLOSSARY]


def check(text: str) -> list[Suggestion]:
    """Known initials and jargon in `text`, each once, in the order they first appear."""
    found: list[tuple[int, Suggestion]] = []
    seen: set[str] = set()
    for pattern, term, meaning, instead in _COMPILED:
        match = pattern.search(text or "")
        if match and term not in seen:
            seen.add(term)
            found.append((match.start(), Suggestion(term=match.group(0), meaning=meaning, instead=instead)))
    found.sort(key=lambda pair: pair[0])
    return [suggestion for _, suggestion in found]


def check_all(texts: list[str]) -> list[Suggestion]:
    seen: set[str] = set()
    result: list[Suggestion] = []
    for text in texts:
        for suggestion in check(text):
            if suggestion.term.lower() not in seen:
                seen.add(suggestion.term.lower())
                result.append(suggestion)
    return result


def spell_out(text: str) -> str:
    """Write known initials and jargon out in full, for the family's version."""
    result = text or ""
    for pattern, _term, meaning, _instead in _COMPILED:
        result = pattern.sub(meaning, result)
    return result
