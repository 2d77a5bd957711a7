"""The demo chain: the same command makes the same chain, and it keeps the promises the docs make."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import clienteling

from clienteling import codes
from clienteling.central.demo import build_demo, ensure_demo
from clienteling.central.store import CentralStore
from clienteling.contract import Conversation, Customer, Order, Product, StaffMember, Store, WishlistItem

TODAY = date(2026, 11, 23)
MODELS = {
    "stores": Store,
    "staff": StaffMember,
    "products": Product,
    "customers": Customer,
    "wishlists": WishlistItem,
    "orders": Order,
    "conversations": Conversation,
}


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    build_demo(path, 300, today=TODAY)
    conn = sqlite3.connect(path)
    yield conn
    conn.close()


def docs(conn, table: str, where: str = "1", params=()) -> list:
    return [
        MODELS[table].model_validate_json(d) for (d,) in conn.execute(f"SELECT doc FROM {table} WHERE {where}", params)
    ]


def dump(path) -> list:
    conn = sqlite3.connect(path)
    tables = [
        t
        for (t,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'customers_fts_%' AND name != 'sqlite_stat1' ORDER BY name"
        )
    ]
    # The data, not the instance: every database has an id and epochs of its own (clienteling.central.epochs).
    instance = {"epochs": "0", "meta": "key != 'centre_id'"}
    rows = [(t, sorted(map(repr, conn.execute(f"SELECT * FROM {t} WHERE {instance.get(t, '1')}")))) for t in tables]
    conn.close()
    return rows


def test_same_command_same_chain(tmp_path):
    build_demo(tmp_path / "a.db", 120, today=TODAY)
    build_demo(tmp_path / "b.db", 120, today=TODAY)
    build_demo(tmp_path / "c.db", 120, today=TODAY + timedelta(days=1))
    assert dump(tmp_path / "a.db") == dump(tmp_path / "b.db")
    assert dump(tmp_path / "a.db") != dump(tmp_path / "c.db")  # dates move with the anchor day


def test_every_row_is_a_valid_contract_document(chain):
    for table in MODELS:
        assert docs(chain, table), table  # model_validate_json raises on any invalid row


def test_stores_and_catalogue(chain):
    stores = {s.code: s for s in docs(chain, "stores")}
    assert set(stores) == {"AMS01", "UTR01", "RTD01", "DHG01", "EIN01", "DC01"}
    assert stores["DC01"].kind == "dc" and stores["AMS01"].city == "Amsterdam"
    products = docs(chain, "products")
    assert len(products) >= 50
    assert {p.category for p in products} == {"coats", "trousers", "knitwear", "sneakers"}
    variants = [v for p in products for v in p.variants]
    assert len({v.sku for v in variants}) == len(variants) == len({v.gtin for v in variants})
    for variant in variants:
        assert len(variant.gtin) == 13 and codes.gs1_check_digit(variant.gtin[:12]) == int(variant.gtin[12])
        assert variant.price.cents > 0 and variant.price.currency == "EUR"
    assert all(len({v.size for v in p.variants}) >= 5 and len({v.colour for v in p.variants}) >= 2 for p in products)


def test_customers_have_valid_cards_and_dutch_addresses(chain):
    customers = docs(chain, "customers")
    assert len(customers) == 300
    assert len({c.card_number for c in customers}) == 300 and len({c.email.lower() for c in customers}) == 300
    for customer in customers:
        assert codes.parse_card_number(customer.card_number) == customer.card_number
        assert customer.addresses[0].postcode[:4].isdigit() and customer.phone.startswith("+316")
    assert {c.tier for c in customers} == {"basic", "silver", "gold", "platinum"}


def test_every_store_has_staff_and_amsterdam_the_three_named_ones(chain):
    staff = docs(chain, "staff")
    assert {(m.id, m.name, m.role) for m in staff if m.store == "AMS01"} == {
        ("S0001", "Lotte Visser", "associate"),
        ("S0002", "Ruben Smit", "service_desk"),
        ("S0003", "Fatima El Amrani", "manager"),
    }
    per_store = {code: [m for m in staff if m.store == code] for code in ("UTR01", "RTD01", "DHG01", "EIN01")}
    assert all(2 <= len(members) <= 3 for members in per_store.values()), per_store
    assert not [m for m in staff if m.store == "DC01"]
    assert len({m.id for m in staff}) == len(staff) and all(m.active for m in staff)
    assert len({m.pin_hash for m in staff}) == len(staff)


def test_a_demo_made_before_staff_gets_the_demo_staff(tmp_path):
    path = tmp_path / "old.db"
    build_demo(path, 30, today=TODAY)
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE staff")
    seq = int(conn.execute("SELECT value FROM meta WHERE key = 'seq'").fetchone()[0])
    conn.commit()
    conn.close()
    assert ensure_demo(path, 30) is None  # kept, not made anew
    store = CentralStore(path)
    try:
        first = store.centre_info().epochs[0]  # the epoch the demo was made in: a device synced then stands at `seq`
        page = json.loads(store.sync_page("staff", f"{store.centre}.{first.epoch}.{seq}", 100, "AMS01"))
        assert sorted(m["name"] for m in page["items"]) == ["Fatima El Amrani", "Lotte Visser", "Ruben Smit"]
    finally:
        store.close()
    assert ensure_demo(path, 30) is None
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM staff").fetchone()[0] == 13  # once, not again
    conn.close()


def stock(conn, store: str, sku: str) -> int:
    row = conn.execute("SELECT on_hand - reserved FROM stock WHERE store = ? AND sku = ?", (store, sku)).fetchone()
    return row[0] if row else 0


def test_sanne_keeps_every_promise(chain):
    anchor = datetime(2026, 11, 23, tzinfo=UTC)
    sanne = docs(chain, "customers", "id = 'C0000001'")[0]
    assert (sanne.first_name, sanne.last_name, sanne.email, sanne.card_number, sanne.tier, sanne.home_store) == (
        "Sanne",
        "de Vries",
        "sanne.devries@example.com",
        "2700000000014",
        "gold",
        "AMS01",
    )
    wishlist = docs(chain, "wishlists", "customer_id = 'C0000001'")
    assert len(wishlist) >= 3
    assert any(stock(chain, "AMS01", w.sku) > 0 for w in wishlist)
    assert any(
        stock(chain, "AMS01", w.sku) == 0
        and any(stock(chain, s, w.sku) > 0 for s in ("UTR01", "RTD01", "DHG01", "EIN01"))
        for w in wishlist
    )
    online = [o for o in docs(chain, "orders", "customer_id = 'C0000001'") if o.channel in ("web", "app")]
    assert len(online) >= 2
    assert any(o.status == "delivered" and anchor - o.delivered_at < timedelta(days=30) for o in online)
    chats = docs(chain, "conversations", "customer_id = 'C0000001'")
    assert any(anchor - c.updated_at < timedelta(days=14) for c in chats)


def test_daan_and_emma(chain):
    daan = docs(chain, "customers", "id = 'C0000002'")[0]
    assert (daan.email, daan.card_number, daan.tier, daan.home_store) == (
        "daan.jansen@example.com",
        "2700000000021",
        "silver",
        "UTR01",
    )
    assert docs(chain, "orders", "customer_id = 'C0000002'") and not docs(
        chain, "conversations", "customer_id = 'C0000002'"
    )
    emma = docs(chain, "customers", "id = 'C0000003'")[0]
    assert (emma.email, emma.card_number) == ("emma.bakker@example.com", "2700000000038")
    assert emma.consent.marketing is False and emma.points == 0
    assert not docs(chain, "orders", "customer_id = 'C0000003'")


def test_many_customers_have_history(chain):
    def share(table: str) -> float:
        return chain.execute(f"SELECT count(DISTINCT customer_id) FROM {table}").fetchone()[0] / 300

    assert share("orders") > 0.4 and share("wishlists") > 0.2 and share("conversations") > 0.1
    returned = chain.execute("SELECT count(*) FROM orders WHERE doc->>'status' LIKE '%returned'").fetchone()[0]
    assert returned > 0


def test_a_chat_speaks_only_of_an_order_placed_before_it_and_every_order_it_names_is_the_customers(chain):
    orders = {o.number: o for o in docs(chain, "orders")}
    named = 0
    for chat in docs(chain, "conversations"):
        text = " ".join([chat.subject, *(m.text for m in chat.messages)])
        for number in re.findall(r"ORD-[0-9]+", text):
            named += 1
            assert number in orders, (chat.id, number)  # no made-up order
            order = orders[number]
            assert order.customer_id == chat.customer_id, (chat.id, number)
            assert order.created_at < chat.started_at, (chat.id, number, order.created_at, chat.started_at)
        assert chat.updated_at == chat.messages[-1].at  # the time Chats and the timeline both show
    assert named > 20  # chats about orders are still made


@pytest.mark.parametrize("count", ["2", "1000001"])
def test_demo_size_out_of_range_fails_clearly(tmp_path, count):
    result = clienteling("central", "make-demo", "--customers", count, "--db", str(tmp_path / "x.db"))
    assert result.returncode == 2 and "--customers" in result.stderr and not (tmp_path / "x.db").exists()
