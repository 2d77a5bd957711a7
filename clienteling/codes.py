"""Codes that staff scan: loyalty card numbers (and, later, product codes).

A loyalty card number is 13 digits in the GS1 restricted-circulation range (first
digit 2) whose last digit is the EAN-13 check digit of the first twelve.
"""

from __future__ import annotations

import re


class CodeError(ValueError):
    """A scanned or typed code that is not what it claims to be; the message says why."""


def gs1_check_digit(body: str) -> int:
    """The GS1 (EAN/UPC/GTIN) check digit for the digits in `body`.

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the
    weighted sum up to a multiple of ten.
    """
    if not body.isdigit() or not body.isascii():
        raise CodeError(f"{body!r} is not a string of digits")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def make_card_number(serial: int) -> str:
    """The card number for a serial (0 <= serial < 10**10): `27`, ten digits, check digit."""
    if not 0 <= serial < 10**10:
        raise CodeError(f"card serial {serial} is out of range")
    body = f"27{serial:010d}"
    return body + str(gs1_check_digit(body))


_SEPARATORS = re.compile(r"[\s-]+")


def parse_card_number(text: str) -> str:
    """The 13-digit card number in `text` (spaces and dashes allowed), or a `CodeError` saying why not."""
    shown = text.strip()
    digits = _SEPARATORS.sub("", shown)
    if not digits:
        raise CodeError("no card number was given")
    if not (digits.isdigit() and digits.isascii()):
        raise CodeError(f"{shown!r} is not a card number: a card number has only digits")
    if len(digits) != 13:
        raise CodeError(f"{shown!r} is not a card number: it has {len(digits)} digits, a card number has 13")
    if digits[0] != "2":
        raise CodeError(f"{shown!r} is not a loyalty card number: loyalty card numbers start with 2")
    expected = gs1_check_digit(digits[:12])
    if int(digits[12]) != expected:
        raise CodeError(
            f"{shown!r} is not a valid card number: the check digit is {digits[12]}, "
            f"it should be {expected}; the number may have been mistyped"
        )
    return digits
