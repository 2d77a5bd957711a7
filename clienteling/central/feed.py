"""The change feed: pages of a collection after a cursor, scoped to the calling device's store, and its tombstones."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

from clienteling.central import epochs
from clienteling.central.base import CUSTOMER_SCOPED, STORE_SCOPED, StoreBase, iso
from clienteling.central.problems import ProblemError
from clienteling.contract import (
    SYNC_COLLECTIONS,
    utc_now,
)

_STOCK_DOC = (
    "{json_object}('store', store, 'sku', sku, 'on_hand', on_hand, 'reserved', reserved, "
    "'available', CASE WHEN on_hand > reserved THEN on_hand - reserved ELSE 0 END, 'as_of', as_of, 'source', source)"
)

_CURSOR_MISSES = {
    "no_epoch": "is from a centre of an older version, before epochs",
    "another_centre": "is from another centre",
    "unknown_epoch": "is from an epoch this centre does not hold: it was restored from a backup",
    "beyond_epoch": "lies beyond what this centre holds of its epoch: it was restored from a backup",
    "ahead": "lies ahead of this centre",
}


class Feed(StoreBase):
    """The change feed."""

    def sync_page(
        self,
        collection: str,
        cursor: str,
        limit: int,
        store: str,
        *,
        ndjson: bool = False,
        each: Callable[[str], str] | None = None,
    ) -> str:
        """One page of `collection` after `cursor`, as the JSON of a `SyncPage`.

        With `ndjson`, the same page as lines: first `{"deleted", "next_cursor", "has_more", "items": N}`,
        then each item's JSON on a line of its own, so that a device can store each item as it came.

        `each` changes every item's JSON on its way out (the staff feed seals PIN hashes to the calling device).

        A cursor is `<centre>.<epoch>.<position>`, opaque to the caller (see epochs.py). `0` starts a
        fresh pass: its cursors carry an `F` until the pass is complete, and a fresh pass never needs
        the tombstones from before it. When a page reaches the end of the feed, `next_cursor` is the
        position of that moment, so an idle collection's cursor does not grow old.

        `ProblemError('reset_required')` (the caller must fetch the collection afresh) for a cursor the
        centre cannot serve: from another centre, from an epoch this database does not hold or beyond
        where it holds that epoch (it was restored from a backup), ahead of the centre, from before
        epochs, or (not in a fresh pass) older than the tombstones kept.
        """
        if collection not in SYNC_COLLECTIONS:
            raise ProblemError("collection_not_found", f"there is no sync collection {collection!r}")
        fresh = cursor == "0" or cursor.startswith("F")
        after = int(cursor.rpartition(".")[2].lstrip("F"))
        with self.db.read() as conn:  # one snapshot for rows, tombstones, the floor and the sequence
            asked = cursor.lstrip("F").split(".")[1] if "." in cursor else ""
            centre, floor_value = epochs.around(conn, asked, f"tombstone_floor:{collection}")
            now = centre.seq
            why = centre.misses(cursor) if cursor != "0" else None
            if why is not None:
                raise ProblemError(
                    "reset_required",
                    f"cursor {cursor} {_CURSOR_MISSES[why]}; fetch the collection afresh from the start",
                    collection=collection,
                    reason=why,
                )
            floor = int(floor_value) if floor_value else 0
            if not fresh and after < floor:
                raise ProblemError(
                    "reset_required",
                    f"cursor {cursor} is older than the tombstones kept (from {floor}); "
                    "fetch the collection afresh from the start",
                    collection=collection,
                )
            items = conn.execute(
                self._feed_sql(collection),
                (after, store, limit + 1)
                if collection in CUSTOMER_SCOPED or collection in STORE_SCOPED
                else (after, limit + 1),
            ).fetchall()
            deleted = (
                conn.execute(
                    "SELECT seq, id FROM tombstones WHERE collection = ? AND seq > ? ORDER BY seq LIMIT ?",
                    (collection, after, limit + 1),
                ).fetchall()
                if after > 0
                else []
            )
        merged = sorted([(seq, doc, False) for seq, doc in items] + [(seq, id_, True) for seq, id_ in deleted])
        page = merged[:limit]
        has_more = len(merged) > limit
        next_cursor = centre.position(page[-1][0], fresh=fresh) if has_more else centre.position(max(now, after))
        docs = [doc if each is None else each(doc) for _, doc, gone in page if not gone]
        deleted_ids = [id_ for _, id_, gone in page if gone]
        if ndjson:
            head = {"deleted": deleted_ids, "next_cursor": next_cursor, "has_more": has_more, "items": len(docs)}
            return "\n".join([json.dumps(head), *docs])
        return (
            '{"items":['
            + ",".join(docs)
            + '],"deleted":'
            + json.dumps(deleted_ids)
            + f',"next_cursor":"{next_cursor}","has_more":{"true" if has_more else "false"}}}'
        )

    def _feed_sql(self, collection: str) -> str:
        json_object = self.db.json_object
        if collection == "stock":
            return f"SELECT seq, {_STOCK_DOC.format(json_object=json_object)} FROM stock WHERE seq > ? ORDER BY seq LIMIT ?"
        if collection in CUSTOMER_SCOPED:
            key = CUSTOMER_SCOPED[collection]
            return (
                f"SELECT t.seq, t.doc FROM {collection} t WHERE t.seq > ? AND EXISTS (SELECT 1 FROM customer_scope s"
                f" WHERE s.customer_id = t.{key} AND s.store = ?) ORDER BY t.seq LIMIT ?"
            )
        if collection in STORE_SCOPED:
            return f"SELECT seq, doc FROM {collection} WHERE seq > ? AND store = ? ORDER BY seq LIMIT ?"
        return f"SELECT seq, doc FROM {collection} WHERE seq > ? ORDER BY seq LIMIT ?"

    def prune_tombstones(self, older_than: timedelta) -> int:
        """Drop tombstones older than `older_than`; cursors of a collection from before its dropped
        tombstones will get `reset_required`."""
        cutoff = iso(utc_now() - older_than)
        with self.write() as conn:
            floors = conn.execute(
                "SELECT collection, max(seq) FROM tombstones WHERE deleted_at < ? GROUP BY collection", (cutoff,)
            ).fetchall()
            count = 0
            for collection, top in floors:
                count += conn.execute(
                    "DELETE FROM tombstones WHERE collection = ? AND seq <= ?", (collection, top)
                ).rowcount
                self.set_meta(conn, f"tombstone_floor:{collection}", str(top))
        return count
