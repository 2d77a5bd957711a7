"""Loyalty card numbers: the GS1 check digit, and messages that say what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clienteling.codes import CodeError, gs1_check_digit, make_card_number, parse_card_number


@pytest.mark.parametrize(
    ("body", "check"), [("400638133393", 1), ("501234567890", 0), ("03600029145", 2), ("270000000001", 4)]
)
def test_known_check_digits(body, check):
    assert gs1_check_digit(body) == check


@given(st.integers(min_value=0, max_value=10**10 - 1))
def test_every_made_card_parses_back(serial):
    number = make_card_number(serial)
    assert parse_card_number(number) == number
    assert parse_card_number(f" {number[:4]} {number[4:8]}-{number[8:]} ") == number


@given(st.integers(min_value=0, max_value=10**10 - 1), st.integers(min_value=1, max_value=9))
def test_a_changed_check_digit_is_caught(serial, change):
    number = make_card_number(serial)
    wrong = number[:12] + str((int(number[12]) + change) % 10)
    with pytest.raises(CodeError, match="check digit"):
        parse_card_number(wrong)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no card number"),
        ("27000000000a4", "only digits"),
        ("270000000001", "12 digits"),
        ("4006381333931", "start with 2"),
    ],
)
def test_refusals_say_why(text, reason):
    with pytest.raises(CodeError, match=reason):
        parse_card_number(text)
