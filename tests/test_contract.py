"""The shared contract: money in cents, time in UTC, Dutch postcodes; documents read ignore unknown fields,
commands refuse them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from clienteling.contract import AddNoteCommand, Address, Message, Money, ReturnCommand, ShipToHomeOrderCommand

ADDRESS = {"street": "Dam", "house_number": "1", "postcode": "1012NX", "city": "Amsterdam"}


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


def test_documents_read_ignore_fields_they_do_not_know():
    """An older device keeps reading what a newer centre sends."""
    assert Money.model_validate({"cents": 100, "currency": "EUR", "discount": 5}) == Money(cents=100, currency="EUR")
    address = Address.model_validate_json(
        '{"street": "Dam", "house_number": "1", "postcode": "1012NX", "city": "Amsterdam", "county": "NH"}'
    )
    assert address.postcode == "1012 NX" and "county" not in address.model_dump()


@pytest.mark.parametrize(
    "body",
    [
        {"total_price": 1},
        {"shipping_address": {**ADDRESS, "county": "NH"}},  # inside a command, too
        {"lines": [{"sku": "CT01-NVY-M", "quantity": 1, "discount": 5}]},
    ],
)
def test_commands_refuse_fields_they_do_not_know(body):
    command = {"customer_id": "C0000001", "fulfilling_store": "DC01", "lines": [{"sku": "CT01-NVY-M", "quantity": 1}]}
    command["shipping_address"] = ADDRESS
    ShipToHomeOrderCommand.model_validate(command)
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        ShipToHomeOrderCommand.model_validate({**command, **body})
    for strict, extra in (
        (AddNoteCommand, {"text": "hi", "mood": "good"}),
        (
            ReturnCommand,
            {
                "order_number": "ORD-00000001",
                "lines": [{"line_no": 1, "quantity": 1, "reason": "other", "condition": "resellable", "x": 1}],
            },
        ),
    ):
        with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
            strict.model_validate(extra)


def test_a_command_takes_an_address_a_screen_made():
    address = Address(street="Dam", house_number="1", postcode="1012NX", city="Amsterdam")
    command = ShipToHomeOrderCommand(
        customer_id="C0000001",
        fulfilling_store="DC01",
        lines=[{"sku": "CT01-NVY-M", "quantity": 1}],
        shipping_address=address,
    )
    assert command.shipping_address.model_dump() == address.model_dump()
