"""The screens' state objects, driven without a page: what a scanner's keys become, an order placed and followed."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from conftest import start_central

from clienteling.config import Settings
from clienteling.contract import Order
from clienteling.device import ReturnNotAllowed
from clienteling.ui.state import ScanKeys, ShipToHomeOrder


def typed(keys: ScanKeys, text: str) -> None:
    for char in text:
        keys.key(char.upper() if char.isalpha() else char)


def test_keys_before_the_field_has_focus_complete_the_scan_the_field_missed():
    keys = ScanKeys()
    keys.expect()
    typed(keys, "2700")  # the field is not there yet
    keys.focused(True)
    typed(keys, "000000014")  # the page hears these too
    assert keys.take("000000014") == "2700000000014"
    assert keys.buffer == ""


def test_an_enter_before_the_field_has_focus_completes_the_scan_by_itself():
    keys = ScanKeys()
    keys.expect()
    typed(keys, "2700000000021")
    keys.key("Enter")
    assert keys.take_completed() == "2700000000021"
    assert keys.take_completed() is None  # taken once


def test_the_field_wins_where_it_was_edited_and_keys_are_kept_only_while_listening():
    keys = ScanKeys()
    typed(keys, "2700")  # no look-up screen on its way: nobody's keys
    assert keys.buffer == ""
    keys.expect()
    keys.focused(True)
    typed(keys, "sanne")
    keys.key("Backspace")
    assert keys.buffer == "sann"
    assert keys.take("sanne de v") == "sanne de v"  # a soft keyboard or a paste: the field's own text
    keys.key("Enter")
    assert keys.completed is None  # with the field focused, its own submit handles Enter
    keys.closed()
    typed(keys, "1")
    assert keys.buffer == ""


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    from clienteling.device import Device

    centre = start_central(tmp_path_factory.mktemp("state-centre") / "central.db", "--demo", "--customers", "60")
    settings = Settings.load(
        tmp_path_factory.mktemp("state-device"), central_url=centre.url, device_token="demo-AMS01", store="AMS01"
    )
    with Device(settings) as device:
        assert device.sync_now().ok
        yield device
    centre.stop()


def test_an_order_is_placed_without_waiting_for_the_centre_and_followed_until_it_has_a_number(device):
    sku = device.stock("CT01-NVY-M").sku
    order = ShipToHomeOrder(device, "C0000001", sku, staff_id=None)
    device.start_background_sync(interval=30)  # the app's sender: a new command only wakes it

    async def place_and_follow():
        placed = await order.place(1, "DC01", None)
        assert placed is not None and order.step == "done"
        await asyncio.wait_for(order.follow(every=0.05), 30)
        return placed

    placed = asyncio.run(place_and_follow())
    assert order.placed.command_id == placed.command_id
    assert order.placed.state == "sent" and order.placed.number.startswith("ORD-")


def test_a_refused_order_goes_back_to_the_form_with_the_reason(device):
    order = ShipToHomeOrder(device, "C0000001", "NO-SUCH-SKU")
    assert asyncio.run(order.place(1, "DC01", None)) is None
    assert order.step == "form" and "NO-SUCH-SKU" in str(order.error)


def test_initials_skip_dutch_surname_prefixes():
    from clienteling.ui.i18n import initials

    assert initials("Sanne", "de Vries") == "SV"
    assert initials("Jan", "van der Berg") == "JB"
    assert initials("zoë", "çelik") == "ZÇ"
    assert initials("Daan", "Jansen") == "DJ"
    assert initials("Mo", "") == "M"


def orders_where(device, wanted) -> Order:
    for (doc,) in device.cache.query("SELECT doc FROM orders WHERE customer_id > 'C0000010' ORDER BY customer_id, id"):
        order = Order.model_validate_json(doc)
        if wanted(order, device.return_eligibility(order)):
            return order
    raise AssertionError("no such order")


def test_a_return_chosen_and_confirmed_reaches_the_journal_with_the_rules_refund(device):
    from clienteling import rules
    from clienteling.ui.state import ReturnForm

    order = orders_where(
        device, lambda o, e: sum(line.returnable for line in e.lines) >= 1 and e.lines[0].left >= 1 and e.returnable
    )
    staff = device.staff_list()[0].id
    form = asyncio.run(ReturnForm.open(device, order.number, staff))
    assert form.customer.id == order.customer_id and form.eligibility.returnable
    first = form.eligibility.lines[0]
    form.choose(1, quantity=first.left, reason="too_large")
    form.choose(1, condition="damaged")
    assert form.chosen == {1: {"quantity": first.left, "reason": "too_large", "condition": "damaged"}}
    assert form.refund == rules.refund(order, {1: first.left}) and form.refund.cents > 0
    with pytest.raises(ReturnNotAllowed) as too_many:
        form.choose(1, quantity=first.left + 1)
    assert too_many.value.code == "too_many" and too_many.value.params["left"] == first.left
    with pytest.raises(ValueError):
        form.choose(1, reason="bored")

    command = asyncio.run(form.confirm())
    assert command is not None and form.done == command and form.error is None
    kept = device.command(command.command_id)
    assert kept.kind == "return" and kept.body["order_number"] == order.number and kept.body["received_by"] == staff
    assert [(line["line_no"], line["quantity"], line["reason"], line["condition"]) for line in kept.body["lines"]] == [
        (1, first.left, "too_large", "damaged")
    ]
    assert asyncio.run(form.confirm()) is None  # a second tap makes no second return
    assert len([c for c in device.commands(kind="return") if c.body["order_number"] == order.number]) == 1
    asyncio.run(form.reload())  # the same order again: what went back counts as returned or waiting
    assert form.done is None and form.chosen == {}
    assert form.eligibility.line(1).left == 0
    with pytest.raises(ReturnNotAllowed) as again:
        form.choose(1, quantity=1)
    assert again.value.code in ("return_waiting", "nothing_left")


def test_a_line_outside_the_window_cannot_be_chosen_and_nothing_chosen_is_an_error(device):
    from clienteling.ui.state import NothingChosen, ReturnForm

    late = orders_where(device, lambda o, e: e.refusal is not None and e.refusal.code == "window_closed")
    form = asyncio.run(ReturnForm.open(device, late.number))
    with pytest.raises(ReturnNotAllowed) as refused:
        form.choose(1, quantity=1)
    assert refused.value.code == "window_closed" and form.chosen == {}
    with pytest.raises(ReturnNotAllowed) as unknown:
        form.choose(99, quantity=1)
    assert unknown.value.code == "unknown_line"
    assert asyncio.run(form.confirm()) is None
    assert isinstance(form.error, NothingChosen) and form.done is None


def test_a_return_the_device_refuses_keeps_its_error_with_the_rules_code(device):
    from clienteling.ui.state import ReturnForm

    order = orders_where(device, lambda o, e: e.returnable and e.lines[0].left >= 1)
    form = asyncio.run(ReturnForm.open(device, order.number))
    form.choose(1, quantity=1)
    device.register_return(
        order.number,
        [{"line_no": 1, "quantity": form.eligibility.line(1).left, "reason": "other", "condition": "resellable"}],
    )  # another desk returned it all meanwhile
    assert asyncio.run(form.confirm()) is None
    assert isinstance(form.error, ReturnNotAllowed) and form.error.code in ("too_many", "nothing_left")
    assert form.done is None and not form.confirming


def test_an_unknown_order_number_raises_the_devices_error(device):
    from clienteling.device import OrderNotFound
    from clienteling.ui.state import ReturnForm

    with pytest.raises(OrderNotFound):
        asyncio.run(ReturnForm.open(device, "ORD-99999999"))


def test_a_typed_name_gives_this_stores_matches_and_only_the_latest_keystroke_is_shown(device):
    from clienteling.ui.state import CustomerLookup

    surname = device.customer("C0000001").last_name.split()[-1]
    answer_later = threading.Event()

    class SlowFirstSearch:  # the first keystroke's search answers only after the second's
        def __getattr__(self, name):
            return getattr(device, name)

        def search_customers(self, text, limit=20):
            if text == surname[:2]:
                answer_later.wait(10)
            return device.search_customers(text, limit)

    lookup = CustomerLookup(SlowFirstSearch())

    async def typing():
        first = asyncio.create_task(lookup.typed(surname[:2]))
        await asyncio.sleep(0)  # the first keystroke's search has started
        await lookup.typed(surname)
        answer_later.set()
        await first

    asyncio.run(typing())
    assert lookup.text == surname and lookup.matches.query == surname  # the earlier keystroke's answer is dropped
    assert "C0000001" in {m.id for m in lookup.matches.found}
    assert all(m.home_store == "AMS01" for m in lookup.matches.found) and lookup.matches.elsewhere == frozenset()
    asyncio.run(lookup.typed("2"))  # one character (or a code being scanned): no list
    assert lookup.matches is None


def test_a_card_gives_its_customers_route_and_a_wrong_card_the_error_with_its_code(device):
    from clienteling.ui.state import CustomerLookup

    lookup = CustomerLookup(device)
    assert asyncio.run(lookup.look_up(" 2700000000014 ")) == "/customer/C0000001"
    assert lookup.error is None
    assert asyncio.run(lookup.look_up("2700000000015")) is None  # the check digit is wrong
    assert lookup.error.code == "card_check_digit" and lookup.matches is None
    asyncio.run(lookup.typed("270"))
    assert lookup.error is None  # typing again clears it
    assert asyncio.run(lookup.look_up("   ")) is None and lookup.error is None
    one = device.customer("C0000001")
    assert asyncio.run(lookup.look_up(one.email)) == "/customer/C0000001"
    name = f"{one.first_name} {one.last_name}"
    route = asyncio.run(lookup.look_up(name))
    assert lookup.matches.query == name and "C0000001" in {m.id for m in lookup.matches.found}
    assert route == ("/customer/C0000001" if len(lookup.matches.found) == 1 else None)


def test_a_wrong_pin_gives_wrong_pin_with_the_tries_left_and_the_right_one_the_member_and_language(device):
    from clienteling.device import PinNotWellFormed, WrongPin
    from clienteling.ui.state import SignIn

    lotte = next(m for m in device.staff_list() if m.name == "Lotte Visser")
    form = SignIn(device)
    assert asyncio.run(form.sign_in("112233")) is None and form.error is None  # nobody picked yet
    form.pick(lotte.id)
    form.typed("9a9b9999")
    assert form.pin == "999999"
    assert asyncio.run(form.sign_in()) is None
    assert isinstance(form.error, WrongPin) and form.error.code == "wrong_pin" and form.error.tries_left == 4
    assert form.pin == "" and not form.busy
    assert asyncio.run(form.sign_in("12")) is None and isinstance(form.error, PinNotWellFormed)  # costs no try
    member, language = asyncio.run(form.sign_in("112233"))
    assert member.id == lotte.id and language == device.staff_language(lotte.id) and form.error is None
    form.pick(lotte.id)
    assert form.error is None and form.pin == ""


def test_a_second_tap_while_signing_in_is_ignored(device):
    from clienteling.ui.state import SignIn

    lotte = next(m for m in device.staff_list() if m.name == "Lotte Visser")
    form = SignIn(device)
    form.pick(lotte.id)

    async def twice():
        return await asyncio.gather(form.sign_in("112233"), form.sign_in("112233"))

    first, second = asyncio.run(twice())
    assert first[0].id == lotte.id and second is None


def refused_command(device) -> str:
    """A ship-to-home order the centre refuses (far more than anyone has), once the centre has answered it."""
    sku = device.stock("CT01-NVY-M").sku
    body = device.place_ship_to_home("C0000001", [(sku, 1)], fulfilling_store="DC01", send_now=False).body
    doomed = device.outbox.add(
        "ship_to_home", {**body, "lines": [{"sku": sku, "quantity": 999}]}, customer_id="C0000001", staff=None
    )
    deadline = time.monotonic() + 30
    while device.command(doomed).state != "attention":
        assert time.monotonic() < deadline, device.command(doomed)
        device.sync_now()
    return doomed


def test_a_refused_command_is_listed_with_its_reason_until_it_is_dismissed(device):
    from clienteling.ui.state import AttentionList

    doomed = refused_command(device)
    attention = AttentionList(device)
    assert attention.items is None  # not read yet: the screen shows it loading
    asyncio.run(attention.refresh())
    listed = {c.command_id: c for c in attention.items}
    assert doomed in listed and listed[doomed].answer is not None and attention.error is None
    asyncio.run(attention.dismiss(doomed))
    assert doomed not in {c.command_id for c in attention.items}
    assert device.command(doomed).state == "dismissed"
    assert doomed not in {c.command_id for c in device.needs_attention()}


def test_a_product_code_gives_its_stock_route_and_words_give_the_products_they_name(device):
    from clienteling.ui.state import StockSearch

    variant = device.product("CT01-NVY-M").variant
    search = StockSearch(device)
    assert asyncio.run(search.search(f" {variant.gtin} ")) == f"/stock/{variant.sku}"
    assert search.found is None and search.error is None
    product = device.product(variant.sku).product
    assert asyncio.run(search.search(product.name)) is None
    assert search.query == product.name and product.style in {p.style for p in search.found}
    assert asyncio.run(search.search("zzqx nothing like it")) is None
    assert search.found == () and search.error is None  # the screen says no product matches
    assert asyncio.run(search.search("   ")) is None and search.found == ()


def test_the_stock_of_a_sku_is_loaded_and_a_later_sku_wins_over_one_still_loading(device):
    from clienteling.ui.state import StockSearch

    first, second = (v.sku for v in device.product("CT01-NVY-M").product.variants[:2])
    answer_later = threading.Event()

    class SlowFirstStock:
        def __getattr__(self, name):
            return getattr(device, name)

        def stock(self, sku):
            if sku == first:
                answer_later.wait(10)
            return device.stock(sku)

    search = StockSearch(SlowFirstStock())

    async def open_two():
        slow = asyncio.create_task(search.open(first))
        await asyncio.sleep(0)
        assert search.loading
        await search.open(second)
        answer_later.set()
        await slow

    asyncio.run(open_two())
    assert search.sku == second and search.view.variant.sku == second and not search.loading
    assert search.view.here is not None and search.view.here.store == "AMS01"


def test_settings_saved_never_pin_the_embedded_centre_but_a_centre_typed_in_instead(device, tmp_path):
    import tomllib

    from clienteling.ui.state import SettingsForm

    class EmbeddedDemo:  # the device as the app runs it with its embedded demo centre
        settings = Settings.load(tmp_path).with_embedded_centre("http://127.0.0.1:45123", "demo-AMS01", "AMS01")

        def __getattr__(self, name):
            return getattr(device, name)

    form = SettingsForm.of(EmbeddedDemo())
    assert form.values == {"store": "AMS01", "central_url": "http://127.0.0.1:45123", "device_token": "demo-AMS01"}
    form.change("store", " UTR01 ")
    path = asyncio.run(form.save("nl"))
    saved = tomllib.loads(path.read_text(encoding="utf-8"))
    assert saved["store"] == "UTR01" and saved["lang"] == "nl"
    assert "central_url" not in saved and "device_token" not in saved  # its port is new on every start
    assert form.note == ("saved", {}) and form.size[0] > 0
    form.change("central_url", "http://127.0.0.1:8700")
    saved = tomllib.loads(asyncio.run(form.save()).read_text(encoding="utf-8"))
    assert saved["central_url"] == "http://127.0.0.1:8700" and saved["device_token"] == "demo-AMS01"


def test_purge_says_how_many_customers_went_and_the_cache_size_follows(device):
    from clienteling.ui.state import SettingsForm

    daan = device.lookup("2700000000021").customer  # another store's customer, kept from an online look-up
    with device.cache.write() as conn:
        conn.execute("UPDATE customers SET last_used = ? WHERE id = ?", (time.time() - 40 * 86400, daan.id))
    form = SettingsForm.of(device)
    asyncio.run(form.refresh())
    before = form.size[0]
    assert asyncio.run(form.purge()) == 1
    assert form.note == ("purged", {"n": 1, "days": device.settings.purge_days})
    assert form.size[0] == before - 1 and device.cache.customer_doc("id", daan.id) is None
    assert asyncio.run(form.purge()) == 0 and form.note[1]["n"] == 0


def test_a_profile_opened_shows_the_picture_with_what_can_go_back_and_records_the_view(device):
    from clienteling.ui.state import CustomerProfile

    staff = device.staff_list()[0].id
    views_before = {c.command_id for c in device.commands(kind="profile_view") if c.customer_id == "C0000001"}
    profile = CustomerProfile(device, staff)
    asyncio.run(profile.open("C0000001"))
    assert profile.picture.customer.id == "C0000001" and profile.error is None and not profile.loading
    assert profile.returns.keys() == {o.number for o in profile.picture.orders}
    some = profile.picture.orders[0]
    assert profile.returns[some.number] == device.return_eligibility(some)
    deadline = time.monotonic() + 10  # recorded in the background: nobody waits for it
    while not (
        new := [
            c
            for c in device.commands(kind="profile_view")
            if c.customer_id == "C0000001" and c.command_id not in views_before
        ]
    ):
        assert time.monotonic() < deadline, "no profile view recorded"
        time.sleep(0.02)
    assert len(new) == 1 and new[0].body["staff_id"] == staff
    profile.show("orders")
    assert profile.tab == "orders"
    with pytest.raises(ValueError):
        profile.show("gossip")


def test_an_unknown_customer_keeps_the_error(device):
    from clienteling.device import CustomerNotFound
    from clienteling.ui.state import CustomerProfile

    staff = device.staff_list()[0].id
    profile = CustomerProfile(device, staff)
    asyncio.run(profile.open("C9999999"))
    assert isinstance(profile.error, CustomerNotFound) and profile.picture is None and not profile.loading
