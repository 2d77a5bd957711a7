"""The catalogue and stock: stores, products and variants, and stock levels with their distances."""

from __future__ import annotations

from datetime import datetime

from clienteling import rules
from clienteling.central.base import StoreBase, iso
from clienteling.central.db import Conn
from clienteling.geo import distance_km


class Catalogue(StoreBase):
    """Stores, products and stock."""

    def store_doc(self, code: str) -> str | None:
        row = self.query_one("SELECT doc FROM stores WHERE id = ?", (code,))
        return row[0] if row else None

    def search_products(self, text: str, limit: int = 50) -> list[str]:
        """Products whose search text (`rules.product_search_text`) holds every word typed (`rules.product_matches`)."""
        words = rules.product_search_words(text)
        if not words:
            return []
        where = " AND ".join("search LIKE ? ESCAPE '!'" for _ in words)
        patterns = ["%" + w.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%" for w in words]
        return [
            r[0] for r in self.query(f"SELECT doc FROM products WHERE {where} ORDER BY id LIMIT ?", (*patterns, limit))
        ]

    def product_by_code(self, code: str) -> tuple[str, str] | None:
        """(product JSON, SKU) for a GTIN (8, 12, 13 or 14 digits) or a SKU, or None."""
        code = code.strip()
        if code.isdigit() and len(code) in (8, 12, 13, 14):
            row = self.query_one("SELECT style, sku FROM variants WHERE gtin14 = ?", (code.zfill(14),))
        else:
            row = self.query_one("SELECT style, sku FROM variants WHERE sku = ?", (code.upper(),))
        if row is None:
            return None
        return self.query_one("SELECT doc FROM products WHERE id = ?", (row[0],))[0], row[1]

    def stock_overview(self, sku: str, from_store: str) -> list[dict] | None:
        """Every location's stock of `sku` with its distance from `from_store`, nearest first; None if no such SKU."""
        if self.query_one("SELECT 1 FROM variants WHERE sku = ?", (sku,)) is None:
            return None
        origin = self.query_one("SELECT latitude, longitude FROM stores WHERE id = ?", (from_store,))
        rows = self.query(
            "SELECT s.id, s.doc->>'name', s.doc->>'city', s.doc->>'kind', s.latitude, s.longitude,"
            " coalesce(k.on_hand, 0), coalesce(k.reserved, 0), coalesce(k.as_of, s.doc->>'updated_at')"
            " FROM stores s LEFT JOIN stock k ON k.store = s.id AND k.sku = ?",
            (sku,),
        )
        levels = []
        for code, name, city, kind, lat, lon, on_hand, reserved, as_of in rows:
            levels.append(
                {
                    "store": code,
                    "sku": sku,
                    "on_hand": on_hand,
                    "reserved": reserved,
                    "available": max(on_hand - reserved, 0),
                    "as_of": as_of,
                    "store_name": name,
                    "city": city,
                    "kind": kind,
                    "distance_km": distance_km(origin[0], origin[1], lat, lon) if origin else 0.0,
                }
            )
        levels.sort(key=lambda level: (level["store"] != from_store, level["distance_km"], level["store"]))
        return levels

    def _restock(self, conn: Conn, store: str, sku: str, quantity: int, now: datetime) -> None:
        before = self._available(conn, store, sku)  # type: ignore[attr-defined]
        conn.execute(
            "INSERT INTO stock (id, seq, store, sku, on_hand, reserved, as_of) VALUES (?, ?, ?, ?, ?, 0, ?) ON CONFLICT(id) DO UPDATE SET"
            " on_hand = stock.on_hand + excluded.on_hand, as_of = excluded.as_of, seq = excluded.seq",
            (f"{store}:{sku}", self.next_seq(conn), store, sku, quantity, iso(now)),
        )
        # back in stock here: the customers waiting for it get a follow-up (clienteling.central.followups)
        self._stock_moved(conn, store, sku, before, self._available(conn, store, sku), now)  # type: ignore[attr-defined]
