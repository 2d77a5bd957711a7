"""The demo chain: five Dutch stores, a DC, a catalogue, customers and their history.

Generated from a fixed seed, so the same command makes the same chain. Every date is
an offset from an anchor day (today, unless `today` is given), so that "delivered
last week" stays true whenever the demo is made; with the same anchor the file's
content is identical. Three customers are always there, for the docs and the tests:
Sanne de Vries, Daan Jansen and Emma Bakker.

Every store has staff who sign in on its devices with a PIN; the DC has none (no
clienteling happens there). A demo PIN has six digits, one PIN per role, the same in
every store: associates 112233, service desk 223344, managers 334455.

    store  id     name                 role          PIN
    AMS01  S0001  Lotte Visser         associate     112233
    AMS01  S0002  Ruben Smit           service_desk  223344
    AMS01  S0003  Fatima El Amrani     manager       334455
    UTR01  S0004  Sem de Boer          associate     112233
    UTR01  S0005  Noor Mulder          service_desk  223344
    UTR01  S0006  Jeroen Bos           manager       334455
    RTD01  S0007  Yara Dekker          associate     112233
    RTD01  S0008  Milan Vermeulen      manager       334455
    DHG01  S0009  Lieke van Dijk       associate     112233
    DHG01  S0010  Bram Peters          manager       334455
    EIN01  S0011  Femke Willems        associate     112233
    EIN01  S0012  Luuk van den Berg    service_desk  223344
    EIN01  S0013  Anouk Claessen       manager       334455

Only the PINs' argon2id hashes are stored, each with a salt of its own (derived from the seed and
the staff id, so that the same seed makes the same file). An argon2id hash takes about 0.2 s on
purpose, so the default seed's thirteen are made once and shipped in `demo_pins.json` beside this
module (`python -m clienteling.central.demo_pins` writes it anew; tests/test_staff.py checks it);
another seed's are made when asked for, once a process.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
import sqlite3
import tempfile
import time as clock
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from clienteling.central import demo_vocab as vocab
from clienteling.central.db import connect_postgres, is_postgres
from clienteling.central.migrations import INDEXES, SCHEMA, SCHEMA_VERSION
from clienteling.central.store import CentralStore, customer_search_text, hash_token, iso
from clienteling.codes import gs1_check_digit, make_card_number
from clienteling.contract import Product, StaffMember
from clienteling.pins import LEGACY_ALGORITHM, hash_pin
from clienteling.rules import product_search_text

DEMO_SEED = 20261123
LEGACY_PIN_PREFIX = f"{LEGACY_ALGORITHM}$"  # how the demo's 4-digit PINs were hashed before argon2id
MAX_CUSTOMERS = 1_000_000
GTIN_PREFIX = "871234"  # a GS1 Netherlands company prefix, for the demo only

STORES = (
    # code, name, city, latitude, longitude, kind
    ("AMS01", "Clienteling Amsterdam Kalverstraat", "Amsterdam", 52.3702, 4.8910, "store"),
    ("UTR01", "Clienteling Utrecht Oudegracht", "Utrecht", 52.0907, 5.1214, "store"),
    ("RTD01", "Clienteling Rotterdam Lijnbaan", "Rotterdam", 51.9205, 4.4752, "store"),
    ("DHG01", "Clienteling Den Haag Spuistraat", "Den Haag", 52.0786, 4.3130, "store"),
    ("EIN01", "Clienteling Eindhoven Demer", "Eindhoven", 51.4393, 5.4776, "store"),
    ("DC01", "Distributiecentrum Tilburg", "Tilburg", 51.5606, 5.0919, "dc"),
)
STAFF = (
    # store, name, role: ids S0001… in this order; the PIN is the role's
    ("AMS01", "Lotte Visser", "associate"),
    ("AMS01", "Ruben Smit", "service_desk"),
    ("AMS01", "Fatima El Amrani", "manager"),
    ("UTR01", "Sem de Boer", "associate"),
    ("UTR01", "Noor Mulder", "service_desk"),
    ("UTR01", "Jeroen Bos", "manager"),
    ("RTD01", "Yara Dekker", "associate"),
    ("RTD01", "Milan Vermeulen", "manager"),
    ("DHG01", "Lieke van Dijk", "associate"),
    ("DHG01", "Bram Peters", "manager"),
    ("EIN01", "Femke Willems", "associate"),
    ("EIN01", "Luuk van den Berg", "service_desk"),
    ("EIN01", "Anouk Claessen", "manager"),
)
DEMO_PINS = {"associate": "112233", "service_desk": "223344", "manager": "334455"}
HOME_STORE_WEIGHTS = {"AMS01": 30, "RTD01": 22, "DHG01": 20, "UTR01": 16, "EIN01": 12}
TIERS = (("basic", 60), ("silver", 25), ("gold", 12), ("platinum", 3))
POINTS = {"basic": (0, 900), "silver": (1000, 2999), "gold": (3000, 7999), "platinum": (8000, 20000)}


@dataclass(frozen=True)
class Special:
    """A customer who is always in the demo, with the history the docs promise."""

    number: int
    first_name: str
    last_name: str
    email: str
    tier: str
    home_store: str
    marketing: bool
    joined_days_ago: int


SANNE = Special(1, "Sanne", "de Vries", "sanne.devries@example.com", "gold", "AMS01", True, 2100)
DAAN = Special(2, "Daan", "Jansen", "daan.jansen@example.com", "silver", "UTR01", True, 1300)
EMMA = Special(3, "Emma", "Bakker", "emma.bakker@example.com", "basic", "AMS01", False, 2)
SPECIALS = {s.number: s for s in (SANNE, DAAN, EMMA)}


@dataclass
class DemoSummary:
    path: Path
    customers: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def demo_staff(seed: int = DEMO_SEED) -> list[StaffMember]:
    """The demo chain's staff, with their PINs hashed; the same seed gives the same hashes."""
    return [
        StaffMember(
            id=f"S{number:04d}",
            store=store,
            name=name,
            role=role,
            pin_hash=_demo_pin_hash(seed, f"S{number:04d}", DEMO_PINS[role]),
            active=True,
        )
        for number, (store, name, role) in enumerate(STAFF, start=1)
    ]


def _demo_pin_hash(seed: int, staff_id: str, pin: str) -> str:
    shipped = _shipped_demo_pin_hashes().get(f"{seed} {staff_id} {pin}")
    return shipped if shipped is not None else make_demo_pin_hash(seed, staff_id, pin)


@functools.cache
def make_demo_pin_hash(seed: int, staff_id: str, pin: str) -> str:
    # A salt of each person's own, random-looking but fixed by the seed; hashing is slow on purpose, so once a process.
    salt = hashlib.sha256(f"clienteling demo {seed} {staff_id}".encode()).digest()[:16]
    return hash_pin(pin, salt=salt)


DEMO_PIN_HASHES = Path(__file__).with_name("demo_pins.json")


@functools.cache
def _shipped_demo_pin_hashes() -> dict[str, str]:
    """The default seed's demo PIN hashes, made once (`write_demo_pin_hashes`): "<seed> <staff id> <PIN>" → hash."""
    try:
        return dict(json.loads(DEMO_PIN_HASHES.read_text(encoding="utf-8"))["hashes"])
    except (OSError, ValueError, KeyError):
        return {}


def write_demo_pin_hashes(path: Path = DEMO_PIN_HASHES, seed: int = DEMO_SEED) -> Path:
    """Make the demo staff's PIN hashes for `seed` and write them to `path` (run after DEMO_PINS or STAFF change)."""
    hashes = {
        f"{seed} S{number:04d} {DEMO_PINS[role]}": make_demo_pin_hash(seed, f"S{number:04d}", DEMO_PINS[role])
        for number, (_, _, role) in enumerate(STAFF, start=1)
    }
    about = "argon2id hashes of the demo staff's PINs (clienteling/central/demo.py); made by write_demo_pin_hashes"
    path.write_text(json.dumps({"about": about, "hashes": hashes}, indent=1) + "\n", encoding="utf-8")
    _shipped_demo_pin_hashes.cache_clear()
    return path


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


class ChainBuilder:
    """Builds the chain's rows in memory-sized chunks and writes them with `executemany`."""

    def __init__(self, conn: sqlite3.Connection, customers: int, seed: int, today: date) -> None:
        self.conn = conn
        self.customers = customers
        self.seed = seed
        self.rng = random.Random(seed)
        self.anchor = datetime.combine(today, time(0, 0), tzinfo=UTC)
        self.seq = 0
        self.order_number = 0
        self.conversation_number = 0
        self.rows: dict[str, int] = {}
        self.variants: list[dict] = []  # with "style" and "name" added
        self.product_names: dict[str, str] = {}

    # ------------------------------------------------------------------ helpers

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def ago(self, days: float, *, hour: int | None = None) -> datetime:
        """A moment `days` before the anchor; at a random daytime hour unless `hour` is given."""
        moment = self.anchor - timedelta(days=int(days) + 1)
        if hour is None:
            hour = self.rng.randint(8, 21)
        return moment + timedelta(hours=hour, minutes=self.rng.randint(0, 59))

    def write(self, table: str, sql: str, rows: list[tuple]) -> None:
        if rows:
            self.conn.executemany(sql, rows)
            self.rows[table] = self.rows.get(table, 0) + len(rows)

    # ------------------------------------------------------------------ the chain

    def build(self) -> None:
        self.build_stores()
        self.build_staff()
        self.build_catalogue()
        self.build_stock()
        for start in range(1, self.customers + 1, 10_000):
            self.build_customers(start, min(start + 10_000, self.customers + 1))
        self.build_follow_ups()
        self.build_activities()
        self.conn.executemany(
            "INSERT INTO meta VALUES (?, ?)",
            [
                ("seq", str(self.seq)),
                ("schema_version", str(SCHEMA_VERSION)),
                ("order_number", str(self.order_number)),
                ("return_number", "0"),
                ("demo", "1"),
                ("demo_customers", str(self.customers)),
                ("demo_anchor", self.anchor.date().isoformat()),
            ],
        )
        self.conn.executemany(
            "INSERT INTO devices VALUES (?, ?, 'demo', 1, ?)",
            [(hash_token(f"demo-{s[0]}"), s[0], iso(self.anchor)) for s in STORES],
        )

    def build_stores(self) -> None:
        rows = []
        for code, name, city, lat, lon, kind in STORES:
            doc = {
                "code": code,
                "name": name,
                "city": city,
                "latitude": lat,
                "longitude": lon,
                "kind": kind,
                "updated_at": iso(self.anchor - timedelta(days=400)),
            }
            rows.append((code, self.next_seq(), lat, lon, dumps(doc)))
        self.write("stores", "INSERT INTO stores VALUES (?, ?, ?, ?, ?)", rows)

    def build_staff(self) -> None:
        # Uses no draws of `self.rng`, so that the customers are the same with or without staff.
        rows = [(m.id, self.next_seq(), m.store, m.model_dump_json()) for m in demo_staff(self.seed)]
        self.write("staff", "INSERT INTO staff VALUES (?, ?, ?, ?)", rows)

    def build_catalogue(self) -> None:
        products, variants = [], []
        item = 0
        for style, name, category, description, price, colours in vocab.STYLES:
            docs = []
            for colour in colours:
                for size in vocab.SIZES[category]:
                    item += 1
                    body = f"{GTIN_PREFIX}{item:06d}"
                    gtin = body + str(gs1_check_digit(body))
                    variant = {
                        "sku": f"{style}-{colour}-{size}",
                        "gtin": gtin,
                        "colour": vocab.COLOURS[colour],
                        "size": size,
                        "price": {"cents": price, "currency": "EUR"},
                    }
                    docs.append(variant)
                    variants.append((variant["sku"], gtin.zfill(14), style))
                    self.variants.append({**variant, "style": style, "name": name})
            self.product_names[style] = name
            doc = {
                "style": style,
                "name": name,
                "category": category,
                "description": description,
                "image": f"products/{style}.png",  # assets/products/, drawn by build/make_assets.py
                "variants": docs,
                "updated_at": iso(self.anchor - timedelta(days=90)),
            }
            search = product_search_text(Product.model_validate(doc))
            products.append((style, self.next_seq(), search, dumps(doc)))
        self.write("products", "INSERT INTO products VALUES (?, ?, ?, ?)", products)
        self.write("variants", "INSERT INTO variants VALUES (?, ?, ?)", variants)

    def build_stock(self) -> None:
        rng = self.rng
        levels: dict[tuple[str, str], list[int]] = {}
        for code, *_rest, kind in STORES:
            for variant in self.variants:
                if kind == "dc":
                    on_hand = 0 if rng.random() < 0.1 else rng.randint(5, 60)
                else:
                    on_hand = 0 if rng.random() < 0.35 else rng.randint(1, 6)
                reserved = min(on_hand, 1) if rng.random() < 0.05 else 0
                levels[(code, variant["sku"])] = [on_hand, reserved]
        # Sanne's wishlist promises: her first item is here in Amsterdam, her second only elsewhere.
        here, elsewhere, _ = self.sanne_wishlist_skus()
        levels[("AMS01", here)] = [3, 0]
        levels[("AMS01", elsewhere)] = [0, 0]
        levels[("UTR01", elsewhere)] = [2, 0]
        levels[("RTD01", elsewhere)] = [1, 0]
        rows = []
        for (code, sku), (on_hand, reserved) in levels.items():
            as_of = self.anchor - timedelta(minutes=rng.randint(5, 300))
            rows.append((f"{code}:{sku}", self.next_seq(), code, sku, on_hand, reserved, iso(as_of)))
        self.write(
            "stock",
            "INSERT INTO stock (id, seq, store, sku, on_hand, reserved, as_of) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def sanne_wishlist_skus(self) -> tuple[str, str, str]:
        """Three fixed variants for Sanne's wishlist: a coat, a knit and sneakers, size M / 39."""

        def pick(category_prefix: str, size: str, nth: int) -> str:
            matches = [v["sku"] for v in self.variants if v["sku"].startswith(category_prefix) and v["size"] == size]
            return matches[nth]

        return pick("CT", "M", 0), pick("KN", "M", 2), pick("SN", "39", 1)

    def build_activities(self) -> None:
        """What Sanne did online in the last days (issue 15), at fixed moments before the anchor and with no draws of
        `self.rng`, so that every other customer is the same as before: she looked at the Harbour coat of her
        wishlist on the webshop and in the app, searched for a wool coat, and asked the chatbot yesterday whether it
        runs small. Her screen shows that question as her last action and her journey at the information stage."""
        if self.customers < SANNE.number:
            return
        coat, _, _ = self.sanne_wishlist_skus()
        style = coat.split("-")[0]
        day = timedelta(days=1)
        plan = [  # (id, channel, kind, sku, text, moment)
            ("WEB-0000001", "web", "search", None, "wool coat", self.anchor - 5 * day + timedelta(hours=19, minutes=40)),
            ("WEB-0000002", "web", "product_view", coat, None, self.anchor - 3 * day + timedelta(hours=20, minutes=15)),
            ("APP-0000001", "app", "product_view", coat, None, self.anchor - day + timedelta(hours=19, minutes=5)),
            ("BOT-0000001", "chatbot", "chatbot_question", coat, "Does the Harbour coat run small?",
             self.anchor - day + timedelta(hours=19, minutes=12)),
        ]  # fmt: skip
        rows = []
        for activity_id, channel, kind, sku, text, moment in plan:
            doc = {
                "id": activity_id,
                "customer_id": "C0000001",
                "channel": channel,
                "kind": kind,
                "sku": sku,
                "style": style if sku else None,
                "text": text,
                "at": iso(moment),
                "sources": {"webshop": iso(moment)},
            }
            rows.append((activity_id, self.next_seq(), "C0000001", iso(moment), dumps(doc)))
        self.write("activities", "INSERT INTO activities (id, seq, customer_id, at, doc) VALUES (?, ?, ?, ?, ?)", rows)

    # ------------------------------------------------------------------ customers

    def build_customers(self, start: int, stop: int) -> None:
        customers, fts, scope, wishlists, orders, conversations = [], [], [], [], [], []
        for number in range(start, stop):
            customer = self.make_customer(number)
            cid = customer["id"]
            stores = {customer["home_store"]}
            customer_orders = self.make_orders(number, customer)
            stores.update(o["store"] for o in customer_orders if o["store"])
            customers.append(
                (
                    number,
                    cid,
                    self.next_seq(),
                    customer["card_number"],
                    customer["email"].lower(),
                    customer["home_store"],
                    dumps(customer),
                )
            )
            fts.append(
                (number, f"{customer['first_name']} {customer['last_name']}", customer["email"], customer["phone"])
            )
            scope.extend((cid, s, "home" if s == customer["home_store"] else "buyer") for s in sorted(stores))
            for item in self.make_wishlist(number, customer):
                wishlists.append((item["id"], self.next_seq(), cid, dumps(item)))
            for order in customer_orders:
                orders.append((order["number"], self.next_seq(), cid, order["created_at"], dumps(order)))
            for conversation in self.make_conversations(number, customer, customer_orders):
                conversations.append(
                    (conversation["id"], self.next_seq(), cid, conversation["updated_at"], dumps(conversation))
                )
        self.write(
            "customers",
            "INSERT INTO customers(rowid, id, seq, card, email_lc, home_store, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            customers,
        )
        self.write("customers_fts", "INSERT INTO customers_fts(rowid, name, email, phone) VALUES (?, ?, ?, ?)", fts)
        self.write("customer_scope", "INSERT INTO customer_scope VALUES (?, ?, ?)", scope)
        self.write("wishlists", "INSERT INTO wishlists VALUES (?, ?, ?, ?)", wishlists)
        self.write("orders", "INSERT INTO orders VALUES (?, ?, ?, ?, ?)", orders)
        self.write("conversations", "INSERT INTO conversations VALUES (?, ?, ?, ?, ?)", conversations)

    def build_follow_ups(self) -> None:
        """A few follow-ups at Amsterdam, so that today's list is not empty (issue 14), from a generator of their own
        (nothing else of the chain changes): Sanne's coat is back in M (a task the centre made, for Lotte, her
        associate) and Lotte means to show her the new knitwear; three more of Amsterdam's customers have one each,
        one overdue, one on the store's list, one next week."""
        rng = random.Random(f"{self.seed}:follow_ups")
        today = self.anchor.date()
        coat = self.sanne_wishlist_skus()[0]
        others = [
            cid
            for (cid,) in self.conn.execute(
                "SELECT id FROM customers WHERE home_store = 'AMS01' AND id NOT IN ('C0000001', 'C0000003')"
                " ORDER BY id LIMIT 3"
            )
        ]
        planned = [  # customer, assignee, text (None: the centre's), reason, SKU, due in days, made days ago
            ("C0000001", "S0001", None, "back_in_stock", coat, 0, 0),
            ("C0000001", "S0001", "Wedding in June: show her the new knitwear", None, None, 0, 6),
        ]
        texts = (
            ("S0001", "Call back about the trousers' alterations", -1, 8),
            (None, "Her loyalty points expire this month: mention them", 0, 2),
            ("S0001", "Ask how the sneakers fit after a week", 7, 1),
        )
        for cid, (assignee, text, due_in, made_ago) in zip(others, texts, strict=False):
            planned.append((cid, assignee, text, None, None, due_in, made_ago))
        rows = []
        for cid, assignee, text, reason, sku, due_in, made_ago in planned:
            if cid == "C0000001" and self.customers < 1:
                continue
            made = self.anchor - timedelta(days=made_ago) + timedelta(hours=7)
            doc = {
                "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "customer_id": cid,
                "store": "AMS01",
                "assignee": assignee,
                "text": text,
                "reason": reason,
                "origin": "centre" if reason else "staff",
                "due": (today + timedelta(days=due_in)).isoformat(),
                "sku": sku,
                "style": sku.split("-")[0] if sku else None,
                "state": "open",
                "snoozed_until": None,
                "state_changed_at": iso(made),
                "created_by": None if reason else assignee or "S0003",
                "created_at": iso(made),
                "updated_at": iso(made),
                "done_at": None,
                "done_by": None,
            }
            rows.append((doc["id"], self.next_seq(), cid, "AMS01", sku, "open", dumps(doc)))
        self.write(
            "follow_ups",
            "INSERT INTO follow_ups (id, seq, customer_id, store, sku, state, doc) VALUES (?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    def make_customer(self, number: int) -> dict:
        rng = self.rng
        special = SPECIALS.get(number)
        if special:
            first, last, email, tier = special.first_name, special.last_name, special.email, special.tier
            home, marketing, profiling = special.home_store, special.marketing, special.marketing
            created = self.ago(special.joined_days_ago)
        else:
            first = rng.choice(vocab.FIRST_NAMES_FEMALE if rng.random() < 0.55 else vocab.FIRST_NAMES_MALE)
            last = rng.choice(vocab.SURNAMES)
            local = ascii_fold(f"{first}.{last}").lower().replace(" ", "").replace("'", "")
            email = f"{local}{number}@{rng.choice(vocab.EMAIL_DOMAINS)}"
            tier = weighted(rng, TIERS)
            home = weighted(rng, tuple(HOME_STORE_WEIGHTS.items()))
            marketing, profiling = rng.random() < 0.7, rng.random() < 0.5
            created = self.ago(rng.randint(3, 2500))
        city = vocab.CITIES[home]
        low, high = city["postcode_range"]
        letters = "ABCDEFGHJKLMNPRTVWXZ"
        postcode = f"{rng.randint(low, high)} {rng.choice(letters)}{rng.choice(letters)}"
        updated = min(created + timedelta(days=rng.randint(0, 400)), self.anchor - timedelta(hours=1))
        low_points, high_points = POINTS[tier]
        return {
            "id": f"C{number:07d}",
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": f"{vocab.PHONE_PREFIX}{rng.randint(10_000_000, 99_999_999)}",
            "home_store": home,
            "card_number": make_card_number(number),
            "tier": tier,
            "points": 0 if special is EMMA else rng.randint(low_points, high_points),
            "consent": {
                "marketing": marketing,
                "profiling": profiling,
                "updated_at": iso(created),
                **self.channels(number, marketing),
            },
            "addresses": [
                {
                    "street": rng.choice(city["streets"]),
                    "house_number": str(rng.randint(1, 250)),
                    "postcode": postcode,
                    "city": city["city"],
                    "country": "NL",
                    "label": "home",
                }
            ],
            "sizes": {
                "tops": rng.choice(("XS", "S", "M", "L", "XL")),
                "trousers": rng.choice(("28", "30", "31", "32", "33", "34")),
                "shoes": rng.choice(("37", "38", "39", "40", "42", "43", "44")),
            },
            "preferences": rng.sample(vocab.PREFERENCES, rng.randint(0, 3)),
            **self.glance(number, home, profiling),
            "created_at": iso(created),
            "updated_at": iso(max(updated, created)),
        }

    def channels(self, number: int, marketing: bool) -> dict[str, bool]:
        """Consent per channel, agreeing with `marketing` (someone who agreed to marketing agreed to at least one
        channel, someone who did not to none), from a generator of its own like `glance`: Sanne agreed to email and
        WhatsApp, not to text messages."""
        if number == SANNE.number:
            return {"email": True, "sms": False, "whatsapp": True}
        if not marketing:
            return {"email": False, "sms": False, "whatsapp": False}
        rng = random.Random(f"{self.seed}:{number}:consent")
        chosen = {"email": rng.random() < 0.85, "sms": rng.random() < 0.3, "whatsapp": rng.random() < 0.45}
        if not any(chosen.values()):
            chosen["email"] = True
        return chosen

    def glance(self, number: int, home: str, profiling: bool) -> dict:
        """Key dates (only from customers who agreed to profiling) and the associate who usually serves them, from a
        generator of their own, so that adding them changed nothing else of the chain."""
        rng = random.Random(f"{self.seed}:{number}:glance")
        associates = [
            f"S{n:04d}" for n, (store, _, role) in enumerate(STAFF, start=1) if store == home and role == "associate"
        ]
        if number == SANNE.number:
            return {"key_dates": [{"kind": "birthday", "month_day": "03-14"},
                                  {"kind": "other", "month_day": "06-20", "label": "wedding"}],
                    "preferred_associate": "S0001"}  # fmt: skip
        dates = []
        if profiling and rng.random() < 0.5:
            dates.append({"kind": "birthday", "month_day": f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"})
        if profiling and rng.random() < 0.15:
            dates.append({"kind": "anniversary", "month_day": f"{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"})
        associate = rng.choice(associates) if associates and rng.random() < 0.4 else None
        return {"key_dates": dates, "preferred_associate": associate}

    def make_wishlist(self, number: int, customer: dict) -> Iterator[dict]:
        rng = self.rng
        if customer["id"] == "C0000001":
            skus = list(self.sanne_wishlist_skus())
        elif number in SPECIALS or rng.random() > 0.35:
            return
        else:
            skus = [v["sku"] for v in rng.sample(self.variants, rng.randint(1, 5))]
        for age, sku in enumerate(skus):
            yield {
                "id": f"{customer['id']}:{sku}",
                "customer_id": customer["id"],
                "style": sku.split("-")[0],
                "sku": sku,
                "added_at": iso(self.ago(3 + age * 9 if number == 1 else rng.randint(1, 120))),
            }

    def make_orders(self, number: int, customer: dict) -> list[dict]:
        rng = self.rng
        if number == SANNE.number:
            plan = [("web", 9, 2), ("web", 64, 1), ("store", 21, 1), ("app", 200, 2)]
        elif number == DAAN.number:
            plan = [("app", 15, 1), ("store", 40, 2), ("web", 120, 1)]
        elif number == EMMA.number:
            return []
        else:
            count = weighted(rng, ((0, 40), (1, 25), (2, 15), (3, 10), (4, 6), (6, 4)))
            joined = (self.anchor - datetime.fromisoformat(customer["created_at"])).days
            plan = [
                (
                    weighted(rng, (("web", 45), ("app", 20), ("store", 35))),
                    rng.randint(0, max(joined, 1)),
                    rng.randint(1, 3),
                )
                for _ in range(count)
            ]
        return [
            self.make_order(customer, channel, days, lines, special=number in SPECIALS) for channel, days, lines in plan
        ]

    def make_order(self, customer: dict, channel: str, days_ago: int, line_count: int, *, special: bool) -> dict:
        rng = self.rng
        self.order_number += 1
        created = self.ago(days_ago)
        lines = []
        for line_no, variant in enumerate(rng.sample(self.variants, line_count), start=1):
            lines.append(
                {
                    "line_no": line_no,
                    "sku": variant["sku"],
                    "name": variant["name"],
                    "colour": variant["colour"],
                    "size": variant["size"],
                    "quantity": 1 if rng.random() < 0.9 else 2,
                    "unit_price": variant["price"],
                    "returned_quantity": 0,
                }
            )
        subtotal = sum(line["unit_price"]["cents"] * line["quantity"] for line in lines)
        history = [{"status": "placed", "at": iso(created), "note": None}]
        delivered_at = None
        if channel == "store":
            store = customer["home_store"] if special or rng.random() < 0.8 else rng.choice(list(HOME_STORE_WEIGHTS))
            fulfilment, fulfilled_by, address, shipping, status = "in_store", store, None, 0, "completed"
            history = [{"status": "completed", "at": iso(created), "note": None}]
        else:
            store, fulfilment, address = None, "delivery", customer["addresses"][0]
            fulfilled_by = "DC01" if special or rng.random() < 0.8 else rng.choice(list(HOME_STORE_WEIGHTS))
            shipping = 0 if subtotal >= 50_00 else 4_95
            age_hours = (self.anchor - created).total_seconds() / 3600
            if not special and rng.random() < 0.03:
                status = "cancelled"
                history.append({"status": "cancelled", "at": iso(created + timedelta(hours=2)), "note": None})
            elif age_hours < 30:
                status = "placed"
            elif age_hours < 72:
                status = "shipped"
                history.append({"status": "shipped", "at": iso(created + timedelta(hours=20)), "note": None})
            else:
                shipped = created + timedelta(hours=20)
                delivered = shipped + timedelta(hours=rng.randint(18, 40))
                status, delivered_at = "delivered", iso(delivered)
                history.append({"status": "shipped", "at": iso(shipped), "note": None})
                history.append({"status": "delivered", "at": delivered_at, "note": None})
                if not special and rng.random() < 0.12:
                    returned = delivered + timedelta(days=rng.randint(2, 20))
                    for line in lines[: rng.randint(1, len(lines))]:
                        line["returned_quantity"] = line["quantity"]
                    fully = all(line["returned_quantity"] == line["quantity"] for line in lines)
                    status = "returned" if fully else "partially_returned"
                    history.append({"status": status, "at": iso(min(returned, self.anchor)), "note": None})
        return {
            "number": f"ORD-{self.order_number:08d}",
            "customer_id": customer["id"],
            "channel": channel,
            "fulfilment": fulfilment,
            "store": store,
            "fulfilled_by": fulfilled_by,
            "status": status,
            "status_history": history,
            "lines": lines,
            "shipping_address": address,
            "totals": {
                "subtotal": {"cents": subtotal, "currency": "EUR"},
                "shipping": {"cents": shipping, "currency": "EUR"},
                "total": {"cents": subtotal + shipping, "currency": "EUR"},
            },
            "placed_by": _seller(store, self.order_number) if channel == "store" else None,
            "created_at": iso(created),
            "updated_at": history[-1]["at"],
            "delivered_at": delivered_at,
        }

    def make_conversations(self, number: int, customer: dict, orders: list[dict]) -> Iterator[dict]:
        rng = self.rng
        if number == SANNE.number:
            plan = [(3, "whatsapp", 1), (45, "email", 0)]
        elif number in SPECIALS or rng.random() > 0.2:
            return
        else:
            plan = [
                (
                    rng.randint(0, 365),
                    weighted(rng, (("web_chat", 35), ("whatsapp", 30), ("email", 20), ("phone", 10), ("social", 5))),
                    None,
                )
                for _ in range(rng.randint(1, 3))
            ]
        for days, channel, topic_index in plan:
            self.conversation_number += 1
            topic = vocab.CHAT_TOPICS[topic_index if topic_index is not None else rng.randrange(len(vocab.CHAT_TOPICS))]
            started = self.ago(days)
            about = order_before(orders, started)
            if about is None and _names_an_order(topic):  # a chat only speaks of an order placed before it
                topic = rng.choice([t for t in vocab.CHAT_TOPICS if not _names_an_order(t)])
            fill = {
                "first_name": customer["first_name"],
                "order": about["number"] if about else "",
                "product": rng.choice(self.variants)["name"],
            }
            at = started
            messages = []
            for author, text in topic["messages"]:
                messages.append({"author": author, "text": text.format(**fill), "at": iso(at)})
                at += timedelta(minutes=rng.randint(1, 25))
            updated = messages[-1]["at"]
            yield {
                "id": f"CV{self.conversation_number:07d}",
                "customer_id": customer["id"],
                "channel": channel,
                "subject": topic["subject"].format(**fill),
                "status": "open" if days < 2 else "closed",
                "messages": messages,
                "started_at": iso(started),
                "updated_at": updated,
            }


def _seller(store: str, order_number: int) -> str | None:
    """Who rang up an in-store order of the demo: one of the store's staff on the floor, taken in turn (no draw of
    the generator's, so the rest of the chain is the same as before orders had sellers)."""
    floor = [f"S{n:04d}" for n, (at, _, role) in enumerate(STAFF, start=1) if at == store and role != "manager"]
    return floor[order_number % len(floor)] if floor else None


def order_before(orders: list[dict], moment: datetime) -> dict | None:
    """The order a chat at `moment` speaks of: the latest one sent to the customer's door placed before it, else the
    latest placed before it at all; None when every order came after (a chat never names a later order)."""
    earlier = [o for o in orders if datetime.fromisoformat(o["created_at"]) < moment]
    delivered = [o for o in earlier if o.get("fulfilment") == "delivery"]
    return max(delivered or earlier, key=lambda o: (datetime.fromisoformat(o["created_at"]), o["number"]), default=None)


def _names_an_order(topic: dict) -> bool:
    return "{order}" in topic["subject"] or any("{order}" in text for _, text in topic["messages"])


def weighted(rng: random.Random, choices: tuple) -> object:
    values = [c[0] for c in choices]
    weights = [c[1] for c in choices]
    return rng.choices(values, weights)[0]


def dumps(doc: dict) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def build_demo(
    path: str | Path, customers: int = 5000, *, seed: int = DEMO_SEED, today: date | None = None
) -> DemoSummary:
    """Write a fresh demo chain to `path` (replacing what is there) and return what was made. `path` may be a
    PostgreSQL URL: the chain is made in a SQLite file first (one generator for both) and copied in."""
    if not 3 <= customers <= MAX_CUSTOMERS:
        raise ValueError(f"the demo chain has from 3 to {MAX_CUSTOMERS:,} customers, not {customers:,}")
    if is_postgres(path):
        started = clock.perf_counter()
        with tempfile.TemporaryDirectory(prefix="clienteling-demo-") as folder:
            made = build_demo(Path(folder) / "demo.db", customers, seed=seed, today=today)
            copy_to_postgres(made.path, str(path))
        return DemoSummary(made.path, customers, made.rows, clock.perf_counter() - started)
    started = clock.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    # A bulk load into a new file: no journal while loading, the indexes after it.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.executescript(SCHEMA)
    conn.execute("BEGIN")
    builder = ChainBuilder(conn, customers, seed, today or datetime.now(UTC).date())
    builder.build()
    conn.execute("COMMIT")
    conn.executescript(INDEXES)
    conn.execute("INSERT INTO customers_fts(customers_fts) VALUES ('optimize')")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    CentralStore(path).close()  # the schema's own checks, and WAL from now on
    return DemoSummary(path, customers, builder.rows, clock.perf_counter() - started)


# Tables a SQLite centre has that PostgreSQL does not (its full-text index) or makes itself (its epochs).
_NOT_COPIED = ("epochs", "sqlite_sequence", "sqlite_stat1")


def copy_to_postgres(source: Path, url: str) -> None:
    """Replace the centre's tables at `url` by the rows of the SQLite centre `source` (made by this version), through
    the schema's migrations; customers get the words they are found by (`customer_search_text`)."""

    from clienteling.central.db import PostgresDatabase
    from clienteling.central.migrations import POSTGRES_TABLES, migrate

    with connect_postgres(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS " + ", ".join(POSTGRES_TABLES) + " CASCADE")
    db = PostgresDatabase(url, min_size=1, max_size=2)
    try:
        migrate(db)
    finally:
        db.close()
    lite = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        tables = [
            name
            for (name,) in lite.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if name in POSTGRES_TABLES and name not in _NOT_COPIED
        ]
        with connect_postgres(url) as conn, conn.transaction():
            conn.execute("DELETE FROM meta")
            for table in tables:
                columns = [row[1] for row in lite.execute(f"PRAGMA table_info({table})")]
                rows = lite.execute(f"SELECT {', '.join(columns)} FROM {table}")
                if table == "customers":
                    columns = [*columns, "search_text"]
                with conn.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        if table == "customers":
                            doc = json.loads(row[columns.index("doc")])
                            name = f"{doc['first_name']} {doc['last_name']}"
                            row = (*row, customer_search_text(name, doc["email"], doc.get("phone")))
                        copy.write_row(row)
        with connect_postgres(url, autocommit=True) as conn:
            conn.execute("ANALYZE")
    finally:
        lite.close()


@dataclass(frozen=True)
class ExistingDemo:
    """A demo chain already in a file: how many customers it was made with, and what stores did in it since."""

    customers: int
    orders: int
    returns: int
    notes: int

    def made_since(self) -> str:
        return f"{self.orders:,} order(s), {self.returns:,} return(s) and {self.notes:,} note(s) made since"


def existing_demo(path: str | Path) -> ExistingDemo | None:
    """The demo chain at `path`, or None when there is no file there or it is not a demo chain.

    Every order the chain is made with lies before its anchor day; every return and note is made later, in use.
    """
    if is_postgres(path):
        return _existing_demo_postgres(str(path))
    path = Path(path)
    if not path.exists():
        return None
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return _demo_in(
            lambda sql, params=(): conn.execute(sql, params).fetchall(), notes=_count_or_zero(conn, "notes")
        )
    except sqlite3.DatabaseError:
        return None
    finally:
        conn.close()


def _existing_demo_postgres(url: str) -> ExistingDemo | None:
    with connect_postgres(url, autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass('meta')").fetchone()[0]:
            return None
        return _demo_in(lambda sql, params=(): conn.execute(sql.replace("?", "%s"), params).fetchall())


def _demo_in(rows, *, notes: int | None = None) -> ExistingDemo | None:
    """The demo chain a database holds, read with `rows(sql, params)`; None if it holds none."""
    meta = dict(rows("SELECT key, value FROM meta WHERE key IN ('demo_customers', 'demo_anchor')"))
    if "demo_customers" not in meta:
        return None
    return ExistingDemo(
        customers=int(meta["demo_customers"]),
        orders=rows("SELECT count(*) FROM orders WHERE created_at >= ?", (meta.get("demo_anchor", "0000"),))[0][0],
        returns=rows("SELECT count(*) FROM returns")[0][0],
        notes=rows("SELECT count(*) FROM notes")[0][0] if notes is None else notes,
    )


class NotADemo(Exception):
    """The file asked to hold the demo chain holds a real centre: it is never replaced by one."""


def _is_a_centre(path: Path) -> bool:
    """A centre's database (a `meta` table with a sequence) that is readable: not something to write a demo over."""
    if is_postgres(path):
        with connect_postgres(str(path), autocommit=True) as conn:
            return bool(conn.execute("SELECT to_regclass('meta')").fetchone()[0]) and bool(
                conn.execute("SELECT 1 FROM meta WHERE key = 'seq'").fetchone()
            )
    if not path.exists():
        return False
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT 1 FROM meta WHERE key = 'seq'").fetchone() is not None
    except sqlite3.DatabaseError:
        return False
    finally:
        conn.close()


def _count_or_zero(conn: sqlite3.Connection, table: str) -> int:
    try:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]  # a table name of ours
    except sqlite3.OperationalError:  # a demo from before the table existed
        return 0


def ensure_demo(path: str | Path, customers: int = 5000, *, fresh: bool = False) -> DemoSummary | None:
    """Make the demo chain at `path` unless a demo chain is already there: that one is kept, with the orders,
    returns and notes made in it, whatever `customers` says (see `existing_demo`). Only `fresh` makes it anew.

    A demo made before staff existed gets the demo staff added, so that someone can sign in; one made before the
    demo PINs had six digits and argon2id hashes gets the demo staff anew, with the PINs the README names.
    """
    path = path if is_postgres(path) else Path(path)
    if not fresh and existing_demo(path) is None and _is_a_centre(path):
        raise NotADemo(f"{path} holds a centre that is not the demo chain; it is left as it is")
    if not fresh and existing_demo(path) is not None:
        store = CentralStore(path)  # adds the tables that a demo from an older version lacks
        try:
            legacy = store.query_one(
                "SELECT 1 FROM staff WHERE doc->>'pin_hash' LIKE ? LIMIT 1", (f"{LEGACY_PIN_PREFIX}%",)
            )
            if store.query_one("SELECT 1 FROM staff LIMIT 1") is None or legacy is not None:
                store.put_staff(demo_staff())
        finally:
            store.close()
        return None
    return build_demo(path, customers)
