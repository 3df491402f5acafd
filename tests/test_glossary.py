"""The curated glossary, and the matching rules' tricky cases: found where a parent would stumble,
quiet where the same letters mean something ordinary."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.glossary import FAMILY, GLOSSARY, NEEDLES, NOT_WHEN_FOLLOWED_BY, NOT_WHEN_PRECEDED_BY, PATTERNS, PLURALS
from models.plain import (
    _FOLDS,
    ENTRIES,
    _matches,
    check,
    check_all,
    explanations,
    family_words,
    is_initials,
    spell_out,
)


def terms(text: str) -> list[str]:
    return [s.term for s in check(text)]


def keys(text: str) -> list[str]:
    return [s.key for s in check(text)]


# --- the glossary itself ---------------------------------------------------------------------


def test_glossary_is_curated_and_complete():
    assert len(GLOSSARY) >= 60
    names = [term for term, _, _ in GLOSSARY]
    assert len(names) == len(set(names)), "a term is listed twice"
    for term in ("CIN", "CP", "ICPC", "RCPC", "PLO", "DSL", "HV", "CAMHS", "EHCP", "LAC", "CLA", "MASH", "DA",
                 "s47", "s17", "disguised compliance", "SW", "TM", "IRO", "LADO", "SEN", "SEND", "SENCO", "FGC",
                 "PEP", "CSE", "CCE", "NFA", "DNA", "threshold", "presenting as", "engagement",
                 "contextual safeguarding", "toxic trio", "significant harm"):
        assert term in names, term
    for term, meaning, instead in GLOSSARY:
        assert meaning.strip() and instead.strip(), term
        assert meaning == meaning.strip() and not meaning.endswith("."), term


@pytest.mark.parametrize("term", ["GP", "core group", "neglect", "safety plan", "NHS"])
def test_words_a_parent_knows_are_left_out(term):
    assert term not in [t for t, _, _ in GLOSSARY]
    assert check(f"The {term} is involved.") == []


def test_side_tables_only_name_glossary_terms():
    names = {term for term, _, _ in GLOSSARY}
    for table in (PATTERNS, NOT_WHEN_FOLLOWED_BY, NOT_WHEN_PRECEDED_BY, PLURALS):
        assert set(table) <= names
    for pattern in PATTERNS.values():
        re.compile(pattern)


def test_every_term_is_found_as_usually_written():
    """Each entry is found in an ordinary sentence, written the way the glossary writes it."""
    for term, meaning, _ in GLOSSARY:
        sample = {"threshold": "meets threshold", "presenting as": "presenting as", "engagement": "engagement",
                  "step down": "step down", "s47": "s47", "strategy discussion": "strategy discussion"}.get(term, term)
        found = check(f"We talked about {sample} today.")
        assert [s.key for s in found] == [term], term
        assert found[0].meaning == meaning


# --- no false alarms on ordinary words --------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Dad said so.",                          # DA
    "The cap was on the desk.",              # CP
    "She hovered by the door; shv and hv.",  # HV inside words, and lower case
    "It's fine; that's it; let's go.",       # apostrophes
    "Mum made a pep talk.",                  # PEP in lower case
    "The sw corner of the park.",            # SW in lower case
    "Please mash the potatoes.",             # MASH as a word
    "PLEASE SEND THE FORM TODAY.",           # SEND shouted
    "ACE WORK EVERYONE.",                    # ACE shouted
    "The threshold of the front door was loose.",
    "The phone line was engaged all morning.",
    "Mum is engaged to her partner.",
    "The case reference is CP-2026-0142.",   # CP joined by a hyphen
    "Cliff said the cinema was shut.",       # CIN inside a word
    "Their office is in SW London.",
    "The paternity DNA test came back.",
    "DNA results are due next week.",
    "His DNA matched.",
    "The PR team wrote to the paper.",
])
def test_no_false_positives(text):
    assert check(text) == []


def test_links_mentions_and_web_addresses_are_not_checked():
    text = "See https://example.org/CP/ICPC, <@U0HV>, <#C0CP|cg-cp> and <https://x.example|the HV page>."
    assert check(text) == []
    assert terms("score < 5 and the HV > 3") == ["HV"]


# --- what is found --------------------------------------------------------------------------


def test_plurals_and_possessives():
    assert terms("The CPs were reviewed.") == ["CPs"]
    assert keys("Two HVs visited; the HV's notes.") == ["HV"]
    assert terms("ACEs were discussed.") == ["ACEs"]


def test_initials_joined_by_a_slash_are_both_found():
    assert terms("LAC/CLA review") == ["LAC", "CLA"]
    assert terms("EHCP/SEND review") == ["EHCP", "SEND"]


def test_long_initials_in_any_case_short_ones_as_written():
    assert keys("Camhs referral; Icpc next week; marac held") == ["CAMHS", "ICPC", "MARAC"]
    assert check("the cin plan") == []


def test_did_not_attend_and_its_verb_forms():
    assert terms("Mum DNA'd the appointment.") == ["DNA'd"]
    assert terms("Two DNAs since June.") == ["DNAs"]
    assert terms("Dad DNAed again.") == ["DNAed"]


def test_section_numbers_in_their_spellings():
    for text in ("the s47", "the S47", "the s.47", "the s 47", "the section 47", "the Section 47 enquiry"):
        assert keys(text) == ["s47"], text
    assert terms("The s47 enquiry ended.") == ["s47 enquiry"]
    assert keys("He is on s17 support and was in s20.") == ["s17", "s20"]


def test_jargon_phrases_in_their_forms():
    assert terms("This meets the CP threshold.") == ["meets the CP threshold"]
    assert keys("The threshold for a plan.") == ["threshold"]
    assert terms("Mum presented as anxious.") == ["presented as"]
    assert terms("Dad is not engaging.") == ["engaging"]
    assert terms("Non-engagement was noted.") == ["Non-engagement"]
    assert terms("Mum has not engaged to date.") == ["engaged"]
    assert terms("The plan was stepped down.") == ["stepped down"]
    assert terms("A strategy meeting was held.") == ["strategy meeting"]
    assert terms("Disguised Compliance again") == ["Disguised Compliance"]


def test_the_longer_term_wins_where_they_overlap():
    assert keys("at risk of significant harm; the s47 enquiry") == ["significant harm", "s47"]


def test_each_term_once_in_order_of_first_appearance():
    assert keys("HV then DSL then HV again and HVs") == ["HV", "DSL"]
    assert [s.key for s in check_all(["HV visit", "HVs again", "PLO"])] == ["HV", "PLO"]


# --- spelling out, for the family version ------------------------------------------------------


def test_spell_out_reads_as_a_sentence():
    assert spell_out("Two HVs and the CIN plan.") == "Two health visitors and the child in need plan."
    assert spell_out("Mum DNA'd; 3 DNAs.") == "Mum did not attend; 3 missed appointments."
    assert spell_out("The s47 enquiry ended.") == "The child protection enquiry (section 47) ended."
    assert spell_out("The HV's visit and LACs.") == "The health visitor's visit and looked after children."


def test_spell_out_leaves_ordinary_words_and_phrases_alone():
    text = "Dad presented as calm at the cap shop in SW London; DNA test due; CP-2026-0142."
    assert spell_out(text) == text
    assert spell_out("") == ""


# --- the family's words: initials spelled out and jargon phrases in plain words -------------------


def _sentence_with(term: str) -> str:
    special = {"threshold": "It meets the threshold for help.", "presenting as": "Mum is presenting as calm.",
               "engagement": "Dad's engagement is better.", "step down": "The plan will step down next month."}
    return special.get(term, f"We talked about {term} at the visit.")


def test_every_glossary_term_has_plain_words_for_the_family():
    for term, _meaning, _instead in GLOSSARY:
        if not is_initials(term):
            assert FAMILY.get(term), f"{term} has no plain words for the family version"
        text = _sentence_with(term)
        assert check(text), term
        plain = family_words(text)
        assert check(plain) == [], (term, plain)


@pytest.mark.parametrize(("written", "plain"), [
    ("There are worries about disguised compliance.",
     "There are worries about appearing to co-operate without real change."),
    ("Disguised compliance remains a worry.", "Appearing to co-operate without real change remains a worry."),
    ("Dad presented as calm; Mum is presenting as anxious. She presents as tired.",
     "Dad seemed calm; Mum is coming across as anxious. She seems tired."),
    ("Mum engaged with the HV and engaged in the course. Non-engagement with school. Disengaged from CAMHS.",
     "Mum worked with the health visitor and joined in the course. A lack of involvement with school. Pulled away"
     " from child and adolescent mental health services."),
    ("The concerns meet the threshold for a CP plan. Below threshold. Meets the CP threshold.",
     "The concerns meet the level of worry needed for a child protection plan. Below the level of worry needed."
     " Meets the level of worry needed for child protection."),
    ("The case will step down to CIN. A step-down plan.",
     "The case will move down to the lighter support of child in need. A lighter support plan."),
    ("A strategy discussion was held.", "A meeting of the council, police and health to decide whether to look into"
                                        " the worries about a child was held."),
    ("The toxic trio is present. Protective factors include Grandma.",
     "The mix of domestic abuse, mental ill health and drug or alcohol misuse is present. Things that help keep the"
     " child safe include Grandma."),
    ("Child A's lived experience. A hard-to-reach family. At risk of significant harm.",
     "Child A's daily life. A hard-to-contact family. At risk of serious harm."),
    ("The s47 enquiry ended. The Cafcass officer called.",
     "The child protection enquiry ended. The family court officer called."),
    ("HV visited. An HV and a EHCP.", "Health visitor visited. A health visitor and an education, health and care"
                                      " plan."),
])
def test_family_words_read_as_a_sentence(written, plain):
    assert family_words(written) == plain


def test_family_words_leave_ordinary_words_alone():
    text = "The threshold of the door; a DNA test in SW London; CP-2026-0142; she is engaged to be married."
    assert family_words(text) == text
    assert family_words("") == ""


def test_names_that_are_still_not_everyday_words_are_explained():
    assert explanations(["The PLO letter, the LA and the CIN plan", "PLO again; s31"]) == [
        ("Public law outline", "the pre-court process"), ("Local authority", "the council"),
        ("Care order", "the court gives the council parental responsibility")]


# --- looking for needles first misses nothing ---------------------------------------------------


def test_every_pattern_has_a_needle_in_lower_case():
    assert set(NEEDLES) == set(PATTERNS)
    assert all(needle == needle.lower() and needle.strip() == needle for needle in NEEDLES.values())


def test_letters_a_case_blind_pattern_takes_for_ascii_are_all_folded():
    """Python's patterns that ignore case take a few letters outside ASCII for ASCII ones ("ſ" for "s"): every
    one of them is written as that ASCII letter before needles are looked for."""
    ascii_alike = re.compile("(?i)[a-z]")
    taken = {chr(code) for code in range(0x80, sys.maxunicode + 1) if ascii_alike.fullmatch(chr(code))}
    assert taken
    for letter in taken:
        folded = letter.translate(_FOLDS).lower()
        assert folded.isascii() and ascii_alike.fullmatch(folded), hex(ord(letter))


_SPELLINGS = [term for term, _, _ in GLOSSARY] + [
    "meets threshold", "below the threshold", "thresholds for", "stepped it down", "step-down", "disengaged",
    "non-engagement", "noncompliant", "presented as", "strat meeting", "hard-to-reach", "pre proceedings",
    "SENDCO", "Senco", "Significant  Harm", "DNA'd", "DNAs", "S.47", "section 47 enquiries", "s 17", "S20",
    "Section 31", "HVs", "the HV's", "camhs", "Icpc", "cafcass", "ſignificant harm", "\u212aids", "İCPC",
    "DSL/SENCO", "toxic  trio", "Lived Experience", "SW London", "his DNA", "PLEASE SEND", "CP-2026-0142",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_SPELLINGS), st.sampled_from([" ", ". ", ", ", "\n", "-", "/", "'s "]),
                          st.text(alphabet="aAsSdDeEhHiInNpPtT47 .-'", max_size=6)), max_size=12))
def test_needles_find_every_term_the_patterns_find(pieces):
    text = "".join(pieces)
    assert _matches(text) == _matches(text, ENTRIES)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.lists(st.sampled_from([*_SPELLINGS, " ", ". ", "plan", "help"]), max_size=5).map(" ".join),
                max_size=5))
def test_several_fields_find_what_each_field_would_on_its_own(fields):
    """check_all looks for the needles once in all the fields; it finds what checking each field alone does."""
    alone, seen = [], set()
    for text in fields:
        for suggestion in check(text):
            if suggestion.key not in seen:
                seen.add(suggestion.key)
                alone.append(suggestion)
    assert check_all(fields) == alone
