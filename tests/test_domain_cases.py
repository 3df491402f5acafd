"""Parsing and naming rules for new cases."""

import pytest

from models.cases import DomainError, channel_name_for, check_reference, parse_children


def test_children_are_read_as_label_and_age():
    assert parse_children("Child A (7)\n\nChild B, 4\nChild C 12") == [
        ("Child A", 7), ("Child B", 4), ("Child C", 12)]


@pytest.mark.parametrize("text", ["", "   \n ", "Child A", "(7)"])
def test_children_need_a_label_and_an_age(text):
    with pytest.raises(DomainError) as error:
        parse_children(text)
    assert error.value.field == "children"


def test_reference_is_normalised_and_checked():
    assert check_reference(" cp-test-0001 ") == "CP-TEST-0001"
    with pytest.raises(DomainError):
        check_reference("CP TEST 0001!")
    with pytest.raises(DomainError):
        check_reference("C")


def test_channel_name_comes_from_the_reference_only():
    assert channel_name_for("CP-TEST-0001") == "cg-cp-test-0001"
    assert len(channel_name_for("X" * 40)) <= 80
