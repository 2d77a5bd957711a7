"""The shared contract: money in cents, time in UTC, Dutch postcodes, no unknown fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from clienteling.contract import Address, Message, Money


def test_timestamps_are_kept_and_written_in_utc():
    amsterdam = timezone(timedelta(hours=1))
    message = Message(author="agent", text="Hoi!", at=datetime(2026, 11, 23, 10, 30, tzinfo=amsterdam))
    assert message.at == datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    assert '"at":"2026-11-23T09:30:00+00:00"' in message.model_dump_json()


def test_a_timestamp_without_offset_is_refused():
    with pytest.raises(ValidationError):
        Message(author="agent", text="Hoi!", at=datetime(2026, 11, 23, 10, 30))


@pytest.mark.parametrize("amount", [12.5, "12,50", 1e12])
def test_money_is_whole_cents_only(amount):
    with pytest.raises(ValidationError):
        Money(cents=amount)


@pytest.mark.parametrize(("given", "kept"), [("1012AB", "1012 AB"), ("1012 AB", "1012 AB")])
def test_postcodes_are_normalised(given, kept):
    assert Address(street="Dam", house_number="1", postcode=given, city="Amsterdam").postcode == kept


@pytest.mark.parametrize("postcode", ["0123 AB", "1012 SS", "1012 sa", "1012", "NL-1012"])
def test_impossible_postcodes_are_refused(postcode):
    with pytest.raises(ValidationError):
        Address(street="Dam", house_number="1", postcode=postcode, city="Amsterdam")


def test_unknown_fields_are_refused_not_ignored():
    with pytest.raises(ValidationError):
        Money(cents=100, currency="EUR", discount=5)
