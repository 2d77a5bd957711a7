"""The `Device` facade against a real centre: cache, lookups, stock, commands offline and online, and sync."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import timedelta

import httpx
import pytest
from conftest import clienteling, demo_centre, free_port

from clienteling import rules
from clienteling.config import Settings
from clienteling.contract import CENTRE_HEADER, Order, Product, utc_now
from clienteling.device import (
    CentralRefused,
    CustomerNotFound,
    Device,
    InvalidScan,
    OutOfStock,
    ReturnNotAllowed,
)
from clienteling.device.cache import MIGRATIONS, Cache
from clienteling.device.journal import Journal, check_migration_keeps_commands
from clienteling.device.sync import new_command_id

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL


@pytest.fixture(scope="module")
def centre(tmp_path_factory, backend: str):
    with demo_centre(backend, tmp_path_factory.mktemp("centre"), 300) as server:
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
    """The same device (same data folder) with its centre unreachable: a port nobody listens on."""
    return open_device(device.settings.data_dir, f"http://127.0.0.1:{free_port()}", device.store)


def feed(centre, collection: str, store: str = "AMS01") -> dict[str, dict]:
    rows, cursor = {}, "0"
    with centre.client(f"demo-{store}") as client:
        while True:
            page = client.get(f"/v1/sync/{collection}", params={"after": cursor, "limit": 5000}).json()
            for item in page["items"]:
                key = (
                    item.get("id")
                    or item.get("number")
                    or item.get("code")
                    or item.get("style")
                    or f"{item['store']}:{item['sku']}"
                )
                rows[key] = item
            for key in page["deleted"]:
                rows.pop(key, None)
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return rows


def cached(device: Device, collection: str) -> dict[str, dict]:
    where = " WHERE origin = 'sync'" if collection in ("customers", "wishlists", "orders", "conversations") else ""
    if collection == "stock":
        return {
            r[0]: {"on_hand": r[1], "reserved": r[2], "available": r[3], "as_of": r[4]}
            for r in device.cache.query("SELECT id, on_hand, reserved, available, as_of FROM stock")
        }
    return {r[0]: json.loads(r[1]) for r in device.cache.query(f"SELECT id, doc FROM {collection}{where}")}


def assert_cache_equals_centre(device: Device, centre) -> None:
    for collection in ("stores", "staff", "products", "customers", "wishlists", "orders", "conversations"):
        assert cached(device, collection) == feed(centre, collection, device.store), collection
    stock = feed(centre, "stock", device.store)
    assert cached(device, "stock") == {
        k: {f: v[f] for f in ("on_hand", "reserved", "available", "as_of")} for k, v in stock.items()
    }


# --------------------------------------------------------------------------- the cache and its sync


def test_initial_sync_makes_the_cache_equal_the_centre_for_this_store(device, centre):
    assert_cache_equals_centre(device, centre)
    state = device.sync_state()
    assert state.online and state.last_sync_at and state.waiting == 0 and state.attention == 0


def test_the_cache_file_is_wal_and_full_sync(device):
    conn = sqlite3.connect(device.settings.cache_path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert device.cache._writer.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()


def test_a_damaged_page_changes_nothing(device):
    before = device.cache.cursor("customers"), device.cache.scalar("SELECT count(*) FROM customers")
    for page in [
        '{"items": [',
        '{"items": [{"id": "C1"}], "deleted": [], "next_cursor": "99", "has_more": false}',
        "[]",
        # NDJSON: a head that promises two customers, then one (the answer was cut short), or a damaged line
        '{"deleted":[],"next_cursor":"99","has_more":false,"items":2}\n' + device.cache.customer_doc("id", "C0000001"),
        '{"deleted":[],"next_cursor":"99","has_more":false,"items":1}\n{"id": "C1", "first_na',
        '{"deleted":[],"next_cursor":"99","has_more":false}\n{}',
    ]:
        with pytest.raises(CentralRefused, match="nothing was changed"):
            device.cache.apply_page("customers", page)
    assert (device.cache.cursor("customers"), device.cache.scalar("SELECT count(*) FROM customers")) == before


def test_documents_with_fields_a_newer_centre_added_are_applied_and_read(device):
    """An older device keeps working when the centre adds a field: to the page, to a customer, an order, a chat."""
    customer = json.loads(device.cache.customer_doc("id", "C0000001"))
    picture = device.customer_picture("C0000001")
    assert picture.orders and picture.conversations, "the demo's first customer has orders and chats"
    orders = json.loads(device.cache.docs_of("orders", "C0000001", "id")[0])
    chats = json.loads(device.cache.docs_of("conversations", "C0000001", "id")[0])
    newer = {"pronouns": "she/her", "loyalty": {"tier_since": "2020-01-01"}}
    orders["lines"][0]["gift_wrap"] = True
    orders["totals"]["tax"] = {"cents": 1, "currency": "EUR"}
    chats["messages"][0]["sentiment"] = "happy"
    for collection, item in (("customers", customer), ("orders", orders), ("conversations", chats)):
        page = {"items": [{**item, **newer}], "deleted": [], "next_cursor": "999999998", "has_more": False}
        page["shard"] = "eu-1"  # the page's head, too
        device.cache.apply_page(collection, json.dumps(page))
    assert device.customer("C0000001").id == "C0000001"
    again = device.customer_picture("C0000001")
    assert orders["number"] in [o.number for o in again.orders]
    assert chats["id"] in [c.id for c in again.conversations]
    assert device.lookup(customer["email"]).customer.id == "C0000001"


def test_a_name_search_finds_other_stores_customers_at_the_centre_and_says_when_it_could_not(device, centre):
    utrecht = next(c for c in feed(centre, "customers", "UTR01").values() if c["home_store"] == "UTR01")
    text = f"{utrecht['first_name']} {utrecht['last_name']}"
    assert utrecht["id"] not in [c.id for c in device.search_customers(text)]  # not in this store's cache
    found = device.find_customers(text)
    assert found.centre_searched and utrecht["id"] in found.elsewhere
    assert utrecht["id"] in [c.id for c in found.matches]
    assert not {c.id for c in device.search_customers(text)} & found.elsewhere  # this store's are never marked
    named = device.lookup(text)  # what Enter does with a name
    assert named.kind == "matches" and named.centre_searched and utrecht["id"] in named.elsewhere
    sanne = device.find_customers("Sanne de Vries")
    assert [c.id for c in sanne.matches][:1] == ["C0000001"] and "C0000001" not in sanne.elsewhere
    with offline(device) as cut_off:
        alone = cut_off.find_customers(text)
        assert not alone.centre_searched and not alone.elsewhere
        assert [c.id for c in alone.matches] == [c.id for c in cut_off.search_customers(text)]
        assert not cut_off.lookup(text).centre_searched


def test_a_name_search_does_not_wait_long_for_a_centre_that_never_answers(device):
    import socket

    with socket.socket() as silent:  # accepts connections (the backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        hanging = open_device(device.settings.data_dir, f"http://127.0.0.1:{silent.getsockname()[1]}")
        with hanging:
            found = hanging.find_customers("Sanne", timeout=0.3)
    assert not found.centre_searched and "C0000001" in [c.id for c in found.matches]


def test_a_crash_inside_a_page_leaves_rows_and_cursor_as_they_were(device, monkeypatch):
    cursor = device.cache.cursor("stock")
    page = json.dumps(
        {
            "items": [
                {
                    "store": "AMS01",
                    "sku": "CT01-NVY-M",
                    "on_hand": 99,
                    "reserved": 0,
                    "available": 99,
                    "as_of": "2026-01-01T00:00:00+00:00",
                }
            ],
            "deleted": [],
            "next_cursor": "999999",
            "has_more": False,
        }
    )
    original = device.cache._delete_ids

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("power cut")

    monkeypatch.setattr(device.cache, "_delete_ids", crash)
    with pytest.raises(KeyboardInterrupt):
        device.cache.apply_page("stock", page)
    monkeypatch.setattr(device.cache, "_delete_ids", original)
    assert device.cache.cursor("stock") == cursor
    assert device.cache.scalar("SELECT on_hand FROM stock WHERE id = 'AMS01:CT01-NVY-M'") != 99


def test_migrations_never_drop_the_outbox(tmp_path):
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO outbox (command_id, kind, path, body, created_at) VALUES ('c1', 'note', '/x', '{}', 'now')"
    )
    conn.commit()
    conn.close()
    with pytest.raises(RuntimeError, match="holds commands"):  # no journal to hand them to: nothing is dropped
        Cache(path)
    assert sqlite3.connect(path).execute("SELECT command_id FROM outbox").fetchall() == [("c1",)]
    journal = Journal(tmp_path / "journal.db")
    cache = Cache(path, hand_over=journal.take_over)
    assert cache.scalar("PRAGMA user_version") == len(MIGRATIONS)
    assert [row[0] for row in journal.waiting()] == ["c1"]
    assert cache.scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('outbox', 'local_commands')") == 0
    cache.close()
    journal.close()
    for script in (
        "DROP TABLE outbox;",
        "drop table if exists local_commands",
        "DELETE FROM outbox",
        "ALTER TABLE outbox RENAME TO x",
        "DROP TABLE acknowledged",
    ):
        with pytest.raises(RuntimeError, match="may not drop"):
            check_migration_keeps_commands(script)


def test_tombstones_and_a_reset_reach_the_cache(device, centre):
    victim = next(
        r[0] for r in device.cache.query("SELECT customer_id FROM orders WHERE customer_id > 'C0000010' LIMIT 1")
    )
    assert clienteling("central", "forget-customer", "--db", str(centre.db), victim).returncode == 0
    report = device.sync_now()
    assert report.ok and report.deleted["customers"] == 1 and report.deleted["orders"] >= 1
    assert device.cache.customer_doc("id", victim) is None
    assert device.cache.scalar("SELECT count(*) FROM orders WHERE customer_id = ?", (victim,)) == 0
    # Another erasure, then the centre prunes its tombstones: this device's cursors are too old now.
    second = next(
        r[0] for r in device.cache.query("SELECT id FROM customers WHERE id > ? ORDER BY id LIMIT 1", (victim,))
    )
    assert clienteling("central", "forget-customer", "--db", str(centre.db), second).returncode == 0
    time.sleep(1.1)
    assert clienteling("central", "prune-tombstones", "--days", "0", "--db", str(centre.db)).returncode == 0
    report = device.sync_now()
    assert report.ok, report.error
    assert device.cache.customer_doc("id", second) is None  # swept at the end of the fresh pass
    assert_cache_equals_centre(device, centre)


# --------------------------------------------------------------------------- looking up


def test_lookup_by_card_email_name_product_and_order(device):
    sanne = device.lookup("CLT1:2700000000014").customer
    assert sanne.first_name == "Sanne"
    assert device.lookup("SANNE.DEVRIES@example.com").customer.id == sanne.id
    assert sanne.id in [m.id for m in device.lookup("de vries sa").matches]
    match = device.lookup("https://id.example.com/01/0" + device.product("CT01-NVY-M").variant.gtin).product
    assert match.variant.sku == "CT01-NVY-M"
    order = device.customer_picture(sanne.id).orders[0]
    assert device.lookup(order.number).order == order


def search_index_is_exact(device: Device) -> bool:
    """The customer search index holds exactly what a fresh index of the cached customers would hold.

    The fresh index is made with the held index's own definition (`detail = none`: which customers have a
    word, not where), read from the schema.
    """
    conn = sqlite3.connect(device.settings.cache_path)
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.held USING fts5vocab(main, customers_fts, instance)")
        definition = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'customers_fts'").fetchone()[0]
        options = definition[definition.index("(") + 1 : definition.rindex(")")]
        options = options.replace("content = 'customers', content_rowid = 'rowid',", "")
        assert "detail = none" in options and "content" not in options, options
        conn.execute(f"CREATE VIRTUAL TABLE temp.fresh USING fts5({options})")
        conn.execute(
            "INSERT INTO temp.fresh(rowid, name, email, phone) SELECT rowid, name, email, phone FROM customers"
        )
        conn.execute("CREATE VIRTUAL TABLE temp.want USING fts5vocab(temp, fresh, instance)")
        held, want = (sorted(conn.execute(f"SELECT term, doc FROM {t}")) for t in ("held", "want"))
        return held == want and len(held) > 0
    finally:
        conn.close()


def test_search_follows_every_page_at_once(device, centre):
    assert search_index_is_exact(device)
    emma = json.loads(device.cache.customer_doc("id", "C0000003"))
    renamed = {**emma, "first_name": "Zoë", "last_name": "Quintijn", "email": "zoe.q@example.org"}
    page = {"items": [renamed], "deleted": [], "next_cursor": "999999999", "has_more": False}
    device.cache.apply_page("customers", json.dumps(page))
    assert [m.id for m in device.search_customers("quint zoe")] == ["C0000003"]
    assert [m.id for m in device.search_customers("zoe.q")] == ["C0000003"]
    assert "C0000003" not in [m.id for m in device.search_customers(emma["last_name"] + " " + emma["first_name"])]
    gone = {"items": [], "deleted": ["C0000003"], "next_cursor": "1000000000", "has_more": False}
    device.cache.apply_page("customers", json.dumps(gone))
    assert device.search_customers("quint") == []
    # A customer from another store, fetched online, is found by name at once too.
    daan = device.lookup("2700000000021").customer
    assert daan.id in [m.id for m in device.search_customers(f"{daan.first_name} {daan.last_name}")]
    assert search_index_is_exact(device)


def test_a_wrong_card_number_is_a_clear_message(device):
    with pytest.raises(InvalidScan, match="check digit is 5, it should be 4"):
        device.lookup("2700000000015")


def test_a_customer_outside_the_cache_is_fetched_online_and_kept(device):
    daan_card = "2700000000021"  # Daan belongs to Utrecht: not in Amsterdam's cache
    assert device.cache.customer_doc("card", daan_card) is None
    daan = device.lookup(daan_card).customer
    picture = device.customer_picture(daan.id)
    assert picture.kept_from_lookup and picture.orders
    with offline(device) as cut_off:
        assert cut_off.lookup(daan_card).customer == daan
        assert cut_off.customer_picture(daan.id).orders == picture.orders


def test_unknown_customers_say_why(device):
    with pytest.raises(CustomerNotFound, match="No customer has the email address nobody@example.com"):
        device.lookup("nobody@example.com")
    with offline(device) as cut_off, pytest.raises(CustomerNotFound, match="centre cannot be reached"):
        cut_off.lookup("nobody@example.com")


def test_wishlist_shows_stock_here_and_the_nearest_store_elsewhere(device):
    wishlist = device.customer_picture("C0000001").wishlist
    assert any(entry.stock.here and entry.stock.here.available > 0 for entry in wishlist)
    away = [entry for entry in wishlist if entry.stock.here.available == 0]
    assert away and away[0].stock.nearest_with_stock().store != "AMS01"


def test_stock_is_here_first_then_nearest_then_the_dc_with_its_age(device):
    view = device.stock("CT01-NVY-M")
    assert view.here.store == "AMS01" and view.here.distance_km == 0
    stores = [p for p in view.elsewhere if p.kind == "store"]
    assert [p.distance_km for p in stores] == sorted(p.distance_km for p in stores)
    assert view.elsewhere[-1].kind == "dc" and view.elsewhere[0].city == "Utrecht"
    assert all(0 <= p.age_seconds(utc_now()) < 400 * 86400 for p in [view.here, *view.elsewhere])


# --------------------------------------------------------------------------- commands


def some_sku_with_stock(device: Device, store: str, at_least: int = 1) -> str:
    return device.cache.scalar(
        "SELECT sku FROM stock WHERE store = ? AND available >= ? ORDER BY sku LIMIT 1 OFFSET 7", (store, at_least)
    )


def centre_orders(centre, customer_id: str) -> list[dict]:
    with centre.client() as client:
        return client.get(f"/v1/customers/{customer_id}/orders").json()


def test_an_order_placed_offline_waits_and_is_sent_once_when_the_centre_is_back(device, centre):
    sku = some_sku_with_stock(device, "DC01", 2)
    before = len(centre_orders(centre, "C0000003"))
    with offline(device) as cut_off:
        waiting = cut_off.place_ship_to_home("C0000003", [(sku, 1)], fulfilling_store="DC01", staff="S0001")
        assert waiting.state == "waiting" and waiting.number is None
        state = cut_off.sync_state()
        assert state.online is False and state.waiting == 1
    for _ in range(2):  # a second round must not send it again
        report = device.sync_now()
        assert report.ok, report.error
    sent = device.command(waiting.command_id)
    assert sent.state == "sent" and sent.number.startswith("ORD-")
    after = centre_orders(centre, "C0000003")
    assert len(after) == before + 1 and after[0]["number"] == sent.number and after[0]["placed_by"] == "S0001"
    assert device.sync_state().waiting == 0
    assert sent.number in [o.number for o in device.customer_picture("C0000003").orders]


def test_a_refused_command_needs_attention_and_does_not_block_the_queue(device, centre):
    sku = some_sku_with_stock(device, "DC01", 1)
    with offline(device) as cut_off:
        order = cut_off.place_ship_to_home("C0000003", [(sku, 1)], fulfilling_store="DC01")
        doomed = cut_off.outbox.add(  # the centre will refuse this one: far more than anyone has
            "ship_to_home",
            {**order.body, "lines": [{"sku": sku, "quantity": 99}]},
            customer_id="C0000003",
            staff=None,
        )
        note = cut_off.add_note("C0000003", "Prefers navy.", staff="Lotte Visser")
    report = device.sync_now()
    assert (report.sent, report.refused, report.waiting, report.attention) == (2, 1, 0, 1)
    attention = device.needs_attention()
    assert [c.command_id for c in attention] == [doomed] and "not enough stock" in attention[0].reason
    assert device.command(order.command_id).state == device.command(note.command_id).state == "sent"
    device.dismiss(doomed)
    assert device.sync_state().attention == 0 and device.command(doomed).state == "dismissed"


def test_an_order_the_cache_already_knows_cannot_be_filled_is_refused_at_once(device):
    empty = device.cache.scalar("SELECT sku FROM stock WHERE store = 'AMS01' AND available = 0 LIMIT 1")
    with pytest.raises(OutOfStock, match=f"has 0 of {empty}"):
        device.place_ship_to_home("C0000001", [(empty, 1)], fulfilling_store="AMS01")
    assert device.sync_state().waiting == 0


def test_the_nearest_place_with_stock_is_suggested(device):
    wishlist = device.customer_picture("C0000001").wishlist
    away = next(entry for entry in wishlist if entry.stock.here.available == 0)
    assert device.suggest_fulfilment({away.item.sku: 1}) == away.stock.nearest_with_stock().store


def test_returns_are_checked_on_the_device_too(device, centre):
    orders = device.customer_picture("C0000001").orders
    old = next(o for o in orders if o.delivered_at and utc_now() - o.delivered_at > timedelta(days=31))
    with pytest.raises(ReturnNotAllowed, match="return window closed"):
        device.register_return(old.number, [{"line_no": 1, "quantity": 1, "reason": "other", "condition": "damaged"}])
    in_store = next(o for o in orders if o.fulfilment == "in_store")
    with pytest.raises(ReturnNotAllowed, match="bought in store"):
        device.register_return(
            in_store.number, [{"line_no": 1, "quantity": 1, "reason": "other", "condition": "damaged"}]
        )
    recent = next(o for o in orders if o.status == "delivered" and utc_now() - o.delivered_at < timedelta(days=29))
    line = recent.lines[0]
    with offline(device) as cut_off:
        queued = cut_off.register_return(
            recent.number,
            [{"line_no": line.line_no, "quantity": line.quantity, "reason": "too_small", "condition": "resellable"}],
        )
        assert queued.state == "waiting"
        with pytest.raises(ReturnNotAllowed, match="0 left to return"):  # the waiting return counts
            cut_off.register_return(
                recent.number,
                [{"line_no": line.line_no, "quantity": 1, "reason": "too_small", "condition": "resellable"}],
            )
    assert device.sync_now().ok
    receipt = device.command(queued.command_id)
    assert receipt.state == "sent" and receipt.answer["refund"]["cents"] == line.unit_price.cents * line.quantity


def sku_priced_below(device: Device, cents: int, store: str, at_least: int) -> tuple[str, int]:
    """A SKU whose price is under `cents` with `at_least` available at `store`, and its price."""
    for (doc,) in device.cache.query("SELECT doc FROM products ORDER BY id"):
        for variant in Product.model_validate_json(doc).variants:
            stock = device.stock(variant.sku)
            place = next((p for p in [stock.here, *stock.elsewhere] if p and p.store == store), None)
            if variant.price.cents < cents and place and place.available >= at_least:
                return variant.sku, variant.price.cents
    raise AssertionError(f"no SKU under {cents} cents with {at_least} at {store}")


def test_the_review_shows_what_the_centre_charges_shipping_included(device, centre):
    sku, price = sku_priced_below(device, rules.FREE_SHIPPING_FROM_CENTS, "DC01", 3)
    (customer_id,), (gold,) = (
        centre.rows(
            f"SELECT id FROM customers WHERE home_store = 'AMS01' AND doc->>'tier' = '{tier}' ORDER BY id LIMIT 1"
        )[0]
        for tier in ("silver", "gold")
    )
    for quantity in (1, 2):  # below the free-shipping threshold, then (for these prices) above it
        quote = device.quote_ship_to_home([(sku, quantity)], customer_id)  # what the review screen shows
        placed = device.place_ship_to_home(customer_id, [(sku, quantity)], fulfilling_store="DC01")
        assert placed.state == "sent", placed.reason
        with centre.client() as client:
            charged = Order.model_validate(client.get(f"/v1/orders/{placed.number}").json()).totals
        assert quote.totals == charged
        assert quote.totals.subtotal.cents == price * quantity
    below = device.quote_ship_to_home([(sku, 1)], customer_id)
    assert below.totals.shipping.cents > 0 and below.totals.total.cents == price + below.totals.shipping.cents
    assert below.free_shipping is None
    # a gold member's order ships free whatever its size, on the review and at the centre alike
    quote = device.quote_ship_to_home([(sku, 1)], gold)
    placed = device.place_ship_to_home(gold, [(sku, 1)], fulfilling_store="DC01")
    with centre.client() as client:
        charged = Order.model_validate(client.get(f"/v1/orders/{placed.number}").json()).totals
    assert quote.totals == charged and charged.shipping.cents == 0 and quote.free_shipping == "tier"


def returnable_now(device: Device, skip: int = 0, *, only_one: bool = False) -> Order:
    """A delivered online order with something left to return, inside its window for a day more (`skip` passed
    over, so that tests do not share one), of a customer other tests leave alone."""
    for (doc,) in device.cache.query(
        "SELECT doc FROM orders WHERE customer_id > 'C0000010' ORDER BY customer_id, id LIMIT 2000"
    ):
        order = Order.model_validate_json(doc)
        if (
            device.return_eligibility(order).returnable
            and utc_now() - order.delivered_at < timedelta(days=29)
            and (not only_one or (order.lines[0].quantity == 1 and order.lines[0].returned_quantity == 0))
        ):
            if not skip:
                return order
            skip -= 1
    raise AssertionError("no order to return")


def test_return_eligibility_on_the_device_says_why_per_line_with_a_set_clock(device, centre):
    recent = returnable_now(device)
    orders = device.customer_picture(recent.customer_id).orders
    closes = recent.delivered_at + rules.RETURN_WINDOW
    assert device.return_eligibility(recent, now=closes).returnable
    late = device.return_eligibility(recent.number, now=closes + timedelta(seconds=1))
    assert not late.returnable and late.why_not.code == "window_closed"
    assert {line.refusal.code for line in late.lines} == {"window_closed"}
    request = {"line_no": 1, "quantity": 1, "reason": "other", "condition": "resellable"}
    with pytest.raises(ReturnNotAllowed) as refused:
        device.register_return(recent.number, [request], now=closes + timedelta(seconds=1))
    assert refused.value.code == "window_closed" and refused.value.params["closed_at"] == closes
    in_store = next(o for o in orders if o.fulfilment == "in_store")
    assert device.return_eligibility(in_store).why_not.code == "bought_in_store"


def test_a_line_waiting_in_a_return_cannot_be_chosen_again(device, centre):
    recent = returnable_now(device, 1, only_one=True)
    with offline(device) as cut_off:
        cut_off.register_return(
            recent.number, [{"line_no": 1, "quantity": 1, "reason": "too_large", "condition": "resellable"}]
        )
        line = cut_off.return_eligibility(recent).line(1)
        assert (line.left, line.refusal.code) == (0, "return_waiting")
    assert device.sync_now().ok
    line = device.return_eligibility(recent.number).line(1)  # the centre's answer has come back: returned
    assert (line.left, line.refusal.code) == (0, "nothing_left")


def test_product_search_finds_the_same_products_on_the_device_and_at_the_centre(device, centre):
    with centre.client() as client:
        for text in ("coat", "NAVY  coat", "kn0", "wool navy", "no such thing"):
            there = [p["style"] for p in client.get("/v1/products/search", params={"q": text}).json()]
            here = [p.style for p in device.search_products(text, limit=50)]
            assert here == there, text


def test_purge_forgets_customers_fetched_online_unless_a_waiting_command_needs_them(device):
    daan = device.lookup("2700000000021").customer
    with device.cache.write() as conn:
        conn.execute("UPDATE customers SET last_used = ? WHERE id = ?", (time.time() - 40 * 86400, daan.id))
    with offline(device) as cut_off:
        cut_off.change_consent(daan.id, email=True, sms=False, whatsapp=False, staff="S0001")
        assert cut_off.purge() == 0  # the consent change still needs him
    assert device.sync_now().ok
    assert device.purge() == 1
    assert device.cache.customer_doc("id", daan.id) is None
    assert device.cache.scalar("SELECT count(*) FROM orders WHERE customer_id = ?", (daan.id,)) == 0


def test_a_note_about_another_stores_customer_makes_him_this_stores_and_he_is_kept(device):
    daan = device.lookup("2700000000021").customer
    with device.cache.write() as conn:
        conn.execute("UPDATE customers SET last_used = ? WHERE id = ?", (time.time() - 40 * 86400, daan.id))
    device.add_note(daan.id, "Asked about the winter sale.", staff="S0001")
    assert device.sync_now().ok  # the centre adds him to this store's customers: he comes back in the feed
    assert device.purge() == 0 and device.cache.customer_origin(daan.id) == "sync"
    assert [n.text for n in device.customer_picture(daan.id).notes] == ["Asked about the winter sale."]


def test_command_ids_are_time_ordered_uuid7():
    ids = [new_command_id() for _ in range(50)]
    assert all(i[14] == "7" and i[19] in "89ab" for i in ids)
    assert len(set(ids)) == 50
    time.sleep(0.002)
    assert new_command_id() > ids[0]


def test_a_refused_token_stops_with_a_clear_message(centre, tmp_path):
    with Device(Settings.load(tmp_path, central_url=centre.url, device_token="stolen", store="AMS01")) as device:
        report = device.sync_now()
    assert "does not accept this device's token" in report.error


def test_settings_come_from_the_environment_before_the_file(tmp_path, monkeypatch):
    Settings(data_dir=tmp_path, central_url="http://file.example", device_token="t", store="UTR01", lang="nl").save()
    monkeypatch.setenv("CLIENTELING_STORE", "AMS01")
    monkeypatch.delenv("CLIENTELING_CENTRAL_URL", raising=False)
    settings = Settings.load(tmp_path)
    assert (settings.store, settings.central_url, settings.lang) == ("AMS01", "http://file.example", "nl")


def test_sync_command_prints_what_it_did(centre, tmp_path):
    env_dir = tmp_path / "headless"
    result = clienteling_env(centre.url, env_dir, "sync", "--once")
    assert result.returncode == 0, result.stderr
    assert "pulled: stores 6" in result.stdout and "customers" in result.stdout and "waiting 0" in result.stdout
    again = clienteling_env(centre.url, env_dir, "sync", "--once")
    assert "pulled: nothing new" in again.stdout
    down = clienteling_env(f"http://127.0.0.1:{free_port()}", env_dir, "sync", "--once")
    assert down.returncode == 1 and "stopped: the centre did not answer" in down.stdout


def clienteling_env(url: str, data_dir, *args: str):
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "CLIENTELING_DATA_DIR": str(data_dir),
        "CLIENTELING_CENTRAL_URL": url,
        "CLIENTELING_DEVICE_TOKEN": "demo-AMS01",
        "CLIENTELING_STORE": "AMS01",
    }
    return subprocess.run(
        [sys.executable, "-m", "clienteling", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


WHO_AM_I = json.dumps(
    {"centre": "c" * 32, "epoch": "e" * 16, "seq": 0, "epochs": [{"epoch": "e" * 16, "from_seq": 0}]}
).encode()


def test_malformed_answer_from_the_centre_is_not_a_crash(tmp_path):
    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/centre":  # the centre says who it is; then its feed is damaged
            return httpx.Response(200, content=WHO_AM_I, headers={CENTRE_HEADER: "test"})
        return httpx.Response(200, content=b'{"items": [{"code": ', headers={CENTRE_HEADER: "test"})

    from clienteling.device.central_client import CentralClient

    client = CentralClient("http://centre.test", "demo-AMS01", transport=httpx.MockTransport(broken))
    with Device(Settings.load(tmp_path, store="AMS01"), client=client) as device:
        report = device.sync_now()
    assert "not valid; nothing was changed" in report.error
