"""The plain-language check finds initials and jargon, and the family version spells them out."""

from models.plain import check, check_all, spell_out


def test_finds_initials_and_jargon_in_order():
    found = check("Discussed at the ICPC; the HV saw signs of disguised compliance. DSL aware.")
    assert [s.term for s in found] == ["ICPC", "HV", "disguised compliance", "DSL"]
    assert found[0].meaning == "initial child protection conference"


def test_ignores_ordinary_words_that_contain_initials():
    assert check("The cap was on the desk; she hovered; Dad said so.") == []


def test_plural_initials_are_found():
    assert [s.term for s in check("Two HVs visited")] == ["HVs"]


def test_each_term_once_across_fields():
    assert [s.term for s in check_all(["CAMHS referral", "CAMHS again", "PLO letter"])] == ["CAMHS", "PLO"]


def test_spell_out_for_the_family():
    assert spell_out("The DSL will call CAMHS.") == (
        "The designated safeguarding lead will call child and adolescent mental health services.")
