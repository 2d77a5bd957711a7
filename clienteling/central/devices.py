"""Devices, administrators and staff: who may call the centre, and who may be named on a command."""

from __future__ import annotations

import secrets

from clienteling import pins
from clienteling.central.base import StoreBase, hash_token, iso
from clienteling.central.db import Conn
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    StaffMember,
    utc_now,
)


class Devices(StoreBase):
    """Device and administrator tokens (only their hashes are kept), and each store's staff."""

    def add_device(self, store: str, label: str | None = None) -> str:
        """Register a device of `store` and return its new token; only the token's hash is kept."""
        if self.store_doc(store) is None:
            raise ProblemError("unknown_store", f"there is no store {store!r}")
        token = "clt_" + secrets.token_urlsafe(32)
        with self.write() as conn:
            conn.execute(
                "INSERT INTO devices VALUES (?, ?, ?, 0, ?)", (hash_token(token), store, label, iso(utc_now()))
            )
        return token

    def add_demo_devices(self, conn: Conn, stores: list[str]) -> None:
        conn.executemany(
            "INSERT INTO devices VALUES (?, ?, 'demo', 1, ?) ON CONFLICT (token_hash) DO UPDATE SET store = excluded.store,"
            " label = excluded.label, demo = excluded.demo, created_at = excluded.created_at",
            [(hash_token(f"demo-{code}"), code, iso(utc_now())) for code in stores],
        )

    def device_store(self, token: str, *, allow_demo: bool) -> str | None:
        row = self.query_one("SELECT store, demo FROM devices WHERE token_hash = ?", (hash_token(token),))
        if row is None or (row[1] and not allow_demo):
            return None
        return row[0]

    def add_admin(self, label: str | None = None) -> str:
        """Register an administrator (head office: privacy, security) and return the new token; only its hash is
        kept. An administrator's token reads what no store device may, such as who viewed a customer's profile."""
        token = "cla_" + secrets.token_urlsafe(32)
        with self.write() as conn:
            conn.execute("INSERT INTO admins VALUES (?, ?, ?)", (hash_token(token), label, iso(utc_now())))
        return token

    def is_admin(self, token: str) -> bool:
        return self.query_one("SELECT 1 FROM admins WHERE token_hash = ?", (hash_token(token),)) is not None

    def put_staff(self, members: list[StaffMember]) -> None:
        """Add or change staff members; each goes out again in its store's feed.

        A member stays in the store they were made for: someone who moves is made inactive here and
        added anew there, so that every device of the old store hears of the change.
        """
        with self.write() as conn:
            for member in members:
                if conn.execute("SELECT 1 FROM stores WHERE id = ?", (member.store,)).fetchone() is None:
                    raise ProblemError("unknown_store", f"there is no store {member.store!r}")
                if not pins.is_centre_hash(member.pin_hash):  # a sealed row is a device's, never the centre's
                    raise ProblemError("invalid_request", f"staff member {member.id}: pin_hash is not a centre's hash")
                known = conn.execute("SELECT store FROM staff WHERE id = ?", (member.id,)).fetchone()
                if known is not None and known[0] != member.store:
                    raise ProblemError(
                        "invalid_request",
                        f"staff member {member.id} belongs to {known[0]}; make them inactive there and add them anew",
                    )
                conn.execute(
                    "INSERT INTO staff VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET seq = excluded.seq,"
                    " doc = excluded.doc",
                    (member.id, self.next_seq(conn), member.store, member.model_dump_json()),
                )

    def staff_doc(self, staff_id: str) -> str | None:
        row = self.query_one("SELECT doc FROM staff WHERE id = ?", (staff_id,))
        return row[0] if row else None

    @staticmethod
    def _staff_of_store(conn: Conn, store: str, field: str, staff_id: str | None) -> None:
        """Refuse a command whose `field` names anyone but a staff member of `store`, the calling device's store.

        Inactive members count (a command made offline before they left still arrives). The detail does not say
        whether the id belongs to another store, so that a device cannot map other stores' staff with it.
        """
        if staff_id is None:
            return
        if conn.execute("SELECT 1 FROM staff WHERE id = ? AND store = ?", (staff_id, store)).fetchone() is None:
            raise ProblemError(
                "unknown_staff",
                f"{field} must be the id of a staff member of {store}, the store of this device; "
                f"{staff_id!r} is not one",
                field=field,
                staff_id=staff_id,
            )
