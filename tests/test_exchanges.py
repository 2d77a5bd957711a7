"""Exchanges at the desk (issue 14) on the device: the rule (`rules.refuse_exchange`, `rules.exchange_refund`), the
facade's `Device.exchange` through the outbox (offline too, sent once), a refusal in "needs attention", and the
returns screen's state (`ReturnForm`) choosing Refund or Exchange, a size and where it comes from, without a browser."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from types import SimpleNamespace

import flet as ft
import pytest
from conftest import demo_centre, free_port

from clienteling import rules
from clienteling.config import Settings
from clienteling.contract import Order, ReplacementRequest, ReturnLineRequest, utc_now
from clienteling.device import Device, OutOfStock, ReturnNotAllowed
from clienteling.device.views import timeline


@pytest.fixture(scope="module")
def centre(tmp_path_factory):
    with demo_centre("sqlite", tmp_path_factory.mktemp("centre"), 400) as server:
        yield server


def open_device(data_dir, url: str, store: str = "AMS01") -> Device:
    return Device(Settings.load(data_dir, central_url=url, device_token=f"demo-{store}", store=store))


@pytest.fixture
def device(centre, tmp_path):
    with open_device(tmp_path / "device", centre.url) as device:
        report = device.sync_now()
        assert report.ok, report.error
        yield device


def offline(device: Device) -> Device:
    return open_device(device.settings.data_dir, f"http://127.0.0.1:{free_port()}", device.store)


TAKEN: set[str] = set()


def exchangeable(device: Device, *, here: bool = True) -> tuple[Order, str]:
    """An order whose first line can go back (a day's margin), each once, and another size or colour of its style
    that is in stock here (`here`) or only elsewhere."""
    for (doc,) in device.cache.query("SELECT doc FROM orders ORDER BY customer_id, id"):
        order = Order.model_validate_json(doc)
        if order.number in TAKEN or order.shipping_address is None:
            continue
        if rules.return_eligibility(order, utc_now() + timedelta(days=1)).lines[0].left < 1:
            continue
        for option in device.exchange_options(order.lines[0].sku):
            if (option.available_here >= 1) == here and (here or option.nearest is not None):
                TAKEN.add(order.number)
                return order, option.variant.sku
    raise AssertionError("no order to exchange")


BACK = {"line_no": 1, "quantity": 1, "reason": "too_small", "condition": "resellable"}


# --------------------------------------------------------------------------- the rule


def test_the_rule_allows_another_size_or_colour_of_the_same_style_only(device):
    order, sku = exchangeable(device)
    eligibility = rules.return_eligibility(order, utc_now())
    line = order.lines[0]
    back = [ReturnLineRequest(**BACK)]

    def why(replacement_sku: str, line_no: int = 1, lines=back):
        replacement = ReplacementRequest(line_no=line_no, sku=replacement_sku, fulfilment="in_store")
        known = {sku, line.sku, "ZZ99-BLK-M"}
        refusal = rules.refuse_exchange(eligibility, lines, [replacement], known)
        return refusal.code if refusal else None

    assert why(sku) is None
    assert why(line.sku) == "same_item"
    assert why("ZZ99-BLK-M") == "other_style"
    assert why("CT01-NOPE-XL") == "unknown_sku"
    assert why(sku, line_no=2) == "not_returned"
    too_many = [ReturnLineRequest(**{**BACK, "quantity": line.quantity - line.returned_quantity + 1})]
    assert why(sku, lines=too_many) == "too_many"
    twice = [
        ReplacementRequest(line_no=1, sku=sku, fulfilment="in_store"),
        ReplacementRequest(line_no=1, sku=sku, fulfilment="delivery"),
    ]
    refusal = rules.refuse_exchange(eligibility, back, twice, {sku})
    assert refusal.code == "not_returned" and refusal.params["twice"] is True
    late = rules.return_eligibility(order, order.delivered_at + rules.RETURN_WINDOW + timedelta(seconds=1))
    assert rules.refuse_exchange(late, back, twice[:1], {sku}).code == "window_closed"
    assert all(v.sku != line.sku for v in rules.exchange_options(device.product(line.sku).product, line.sku))


def test_an_exchange_pays_back_nothing_for_the_exchanged_line_and_the_rest_in_full(device):
    order, _ = exchangeable(device)
    quantities = {line.line_no: 1 for line in order.lines}
    assert rules.exchange_refund(order, quantities, []) == rules.refund(order, quantities)
    everything = rules.exchange_refund(order, quantities, list(quantities))
    assert everything.cents == 0
    first = rules.exchange_refund(order, quantities, [1])
    assert first.cents == rules.refund(order, quantities).cents - order.lines[0].unit_price.cents
    assert rules.replacement_price(order.lines[0]) == order.lines[0].unit_price


# --------------------------------------------------------------------------- the device


def test_an_exchange_made_offline_shows_at_once_and_reaches_the_centre_once(device, centre):
    order, sku = exchangeable(device)
    on_hand = device.stock(sku).here.on_hand
    with offline(device) as cut_off:
        waiting = cut_off.exchange(
            order.number, [BACK], [{"line_no": 1, "sku": sku, "fulfilment": "in_store"}], staff="S0002"
        )
        assert waiting.kind == "exchange" and waiting.state == "waiting" and waiting.number is None
        assert cut_off.sync_state().waiting == 1
        shown = timeline(cut_off.customer_picture(order.customer_id))
        assert [(e.kind, e.state) for e in shown if e.made_here] == [("exchange", "waiting")]
        line = cut_off.return_eligibility(order.number).line(1)
        assert line.left == order.lines[0].quantity - order.lines[0].returned_quantity - 1  # counted as going back
    for _ in range(2):  # a second round must not send it again
        assert device.sync_now().ok
    sent = device.command(waiting.command_id)
    assert sent.state == "sent" and sent.number.startswith("RET-")
    assert sent.answer["refund"]["cents"] == 0 and sent.answer["lines"][0]["exchanged_for"] == sku
    (replacement,) = sent.answer["replacement_orders"]
    made = centre.rows("SELECT count(*) FROM orders WHERE id = ?", (replacement,))[0][0]
    assert made == 1 and centre.rows("SELECT count(*) FROM returns WHERE id = ?", (sent.number,))[0][0] == 1
    picture = device.customer_picture(order.customer_id)
    assert replacement in [o.number for o in picture.orders]
    assert device.order(order.number).lines[0].returned_quantity == order.lines[0].returned_quantity + 1
    assert device.stock(sku).here.on_hand == on_hand - 1  # handed over: the centre's stock, synced back
    assert not [e for e in timeline(picture) if e.made_here]  # now shown by the centre's own documents, once


def test_an_exchange_shipped_from_elsewhere_picks_the_nearest_place_with_stock(device):
    order, sku = exchangeable(device, here=False)
    nearest = next(o for o in device.exchange_options(order.lines[0].sku) if o.variant.sku == sku).nearest
    sent = device.exchange(order.number, [BACK], [{"line_no": 1, "sku": sku, "fulfilment": "delivery"}])
    assert sent.body["replacements"][0]["from_store"] == nearest.store
    assert sent.state == "sent", sent.answer
    replacement = device.order(sent.answer["replacement_orders"][0])
    assert replacement.fulfilment == "delivery" and replacement.fulfilled_by == nearest.store


def test_the_device_refuses_at_once_what_the_centre_would(device):
    order, _ = exchangeable(device)
    with pytest.raises(ReturnNotAllowed) as same:
        device.exchange(order.number, [BACK], [{"line_no": 1, "sku": order.lines[0].sku, "fulfilment": "in_store"}])
    assert same.value.code == "same_item"
    empty = next(o for o in device.exchange_options(order.lines[0].sku) if o.available_here == 0)
    with pytest.raises(OutOfStock):
        device.exchange(order.number, [BACK], [{"line_no": 1, "sku": empty.variant.sku, "fulfilment": "in_store"}])
    assert device.commands(kind="exchange") == []


def test_an_exchange_the_centre_refuses_needs_attention_and_the_item_can_be_refunded_instead(device, centre):
    order, sku = exchangeable(device)
    with offline(device) as cut_off:
        waiting = cut_off.exchange(order.number, [BACK], [{"line_no": 1, "sku": sku, "fulfilment": "in_store"}])
    centre.execute("UPDATE stock SET on_hand = reserved WHERE store = 'AMS01' AND sku = ?", (sku,))  # sold meanwhile
    assert device.sync_now().ok
    refused = device.command(waiting.command_id)
    assert refused.state == "attention" and refused.answer["code"] == "out_of_stock"
    assert [c.command_id for c in device.needs_attention()] == [waiting.command_id]
    assert device.order(order.number).lines[0].returned_quantity == order.lines[0].returned_quantity  # nothing done
    refund = device.register_return(order.number, [BACK])  # the way forward: a refund
    assert refund.state == "sent" and refund.answer["refund"]["cents"] == order.lines[0].unit_price.cents


# --------------------------------------------------------------------------- the returns screen's state


def test_the_form_exchanges_a_size_in_store_with_no_refund(device):
    from clienteling.ui.state import NoReplacementChosen, ReturnForm

    order, sku = exchangeable(device)
    staff = device.staff_list()[0].id
    form = asyncio.run(ReturnForm.open(device, order.number, staff))
    assert sku in [o.variant.sku for o in form.options[1]] and order.lines[0].sku not in form.options[1]
    form.exchange(1)  # "Exchange" on a line with nothing chosen takes one item back
    assert form.chosen[1]["quantity"] == 1 and form.exchanging[1]["sku"] is None
    assert asyncio.run(form.confirm()) is None and isinstance(form.error, NoReplacementChosen)
    with pytest.raises(ReturnNotAllowed) as other:
        form.pick(1, order.lines[0].sku)
    assert other.value.code == "other_style"
    form.pick(1, sku)
    assert form.exchanging[1] == {"sku": sku, "fulfilment": "in_store", "from_store": "AMS01"}
    assert form.refund.cents == 0 and form.chosen_option(1).variant.sku == sku
    assert form.source_name(1) == form.chosen_option(1).here.name
    form.exchange(1, on=False)  # back to a refund
    assert form.exchanging == {} and form.refund == rules.refund(order, {1: 1})
    form.pick(1, sku)
    command = asyncio.run(form.confirm())
    assert command is not None and command.kind == "exchange" and form.done == command
    assert command.body["replacements"] == [{"line_no": 1, "sku": sku, "fulfilment": "in_store", "from_store": None}]
    assert command.body["received_by"] == staff
    assert asyncio.run(form.confirm()) is None  # a second tap makes no second exchange
    assert len([c for c in device.commands(kind="exchange") if c.body["order_number"] == order.number]) == 1


def test_the_form_ships_what_is_not_here_and_refuses_to_hand_it_over(device):
    from clienteling.ui.state import ReturnForm

    order, sku = exchangeable(device, here=False)
    form = asyncio.run(ReturnForm.open(device, order.number))
    with pytest.raises(OutOfStock):
        form.pick(1, sku, "in_store")
    form.pick(1, sku)  # not here: shipped from the nearest place that has it
    option = form.chosen_option(1)
    assert form.exchanging[1] == {"sku": sku, "fulfilment": "delivery", "from_store": option.nearest.store}
    assert form.source_name(1) == option.nearest.name
    form.choose(1, quantity=0)  # nothing of the line goes back: no exchange either
    assert form.exchanging == {} and form.chosen == {}


def identifiers(control) -> list[str]:
    """Every identifier a browser test finds in a tree of controls."""
    found = [control.identifier] if isinstance(control, ft.Semantics) and control.identifier else []
    for child in [getattr(control, "content", None), *(getattr(control, "controls", None) or [])]:
        if isinstance(child, ft.Control):
            found += identifiers(child)
    return found


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_screen_offers_refund_or_exchange_the_sizes_and_the_summary_in_both_languages(device, lang):
    from clienteling.ui import i18n
    from clienteling.ui.screens.returns import exchange_choices, exchange_summary
    from clienteling.ui.state import ReturnForm

    session = SimpleNamespace(lang=lang, t=lambda key, **values: i18n.tr(lang, key, **values))
    order, sku = exchangeable(device)
    TAKEN.discard(order.number)  # only looked at: nothing is made
    form = asyncio.run(ReturnForm.open(device, order.number))
    form.choose(1, quantity=1)
    shown = identifiers(exchange_choices(session, form, 1))
    assert "return-refund-1" in shown and "return-exchange-1" in shown
    assert not any(i.startswith("exchange-option-") for i in shown)
    form.exchange(1)
    shown = identifiers(exchange_choices(session, form, 1))
    assert f"exchange-option-1-{sku}" in shown and "exchange-in-store-1" not in shown
    form.pick(1, sku)
    shown = identifiers(exchange_choices(session, form, 1))
    assert {"exchange-in-store-1", "exchange-delivery-1"} <= set(shown)
    (summary,) = exchange_summary(session, form)
    assert summary.identifier == "exchange-summary-1"
    words = summary.content.value
    assert form.chosen_option(1).variant.size in words and form.source_name(1) in words
    assert ("nu mee" in words) if lang == "nl" else ("now" in words)
