"""Follow-ups (issue 14): the rules on their own (clienteling.follow_ups, rules.follow_up_change_supersedes): who gets
a task when an item comes back in stock, the change made last wins, when a task is due, and a due follow-up among the
suggestions."""

from __future__ import annotations

from datetime import date, timedelta

from test_suggest import COAT, NOW, SANNE, product

from clienteling import follow_ups, rules
from clienteling.contract import FollowUpCommand, FollowUpStateCommand
from clienteling.follow_ups import BackInStock, Wish, back_in_stock
from clienteling.suggest import DueItem, WishedItem, suggest

AMS_STAFF = {"S0001", "S0002", "S0003"}
LOTTE_SANNE = SANNE.model_copy(update={"preferred_associate": "S0001"})
NO_SIZES = SANNE.model_copy(update={"id": "C0000002", "sizes": SANNE.sizes.model_copy(update={"tops": None})})


def test_back_in_stock_in_her_size_at_her_home_store_for_her_associate() -> None:
    assert back_in_stock("AMS01", "CT01-NVY-M", COAT, [Wish(LOTTE_SANNE, "CT01-NVY-M")], AMS_STAFF, set()) == [
        BackInStock("C0000001", "CT01-NVY-M", "S0001")
    ]
    # she wishlisted L, her size is M: the M coming back is for her too (same style and colour)
    assert back_in_stock("AMS01", "CT01-NVY-M", COAT, [Wish(LOTTE_SANNE, "CT01-NVY-L")], AMS_STAFF, set()) == [
        BackInStock("C0000001", "CT01-NVY-M", "S0001")
    ]


def test_no_task_out_of_her_size_elsewhere_or_twice() -> None:
    wish = [Wish(LOTTE_SANNE, "CT01-NVY-M")]
    assert back_in_stock("AMS01", "CT01-NVY-L", COAT, wish, AMS_STAFF, set()) == []  # not her size
    assert back_in_stock("UTR01", "CT01-NVY-M", COAT, wish, {"S0004"}, set()) == []  # not her home store
    assert back_in_stock("AMS01", "CT01-NVY-M", COAT, wish, AMS_STAFF, {("C0000001", "CT01-NVY-M")}) == []
    twice = back_in_stock("AMS01", "CT01-NVY-M", COAT, wish + [Wish(LOTTE_SANNE, "CT01-NVY-L")], AMS_STAFF, set())
    assert len(twice) == 1


def test_without_her_size_only_the_very_sku_she_wished_for_and_the_store_list_without_an_associate_here() -> None:
    assert back_in_stock("AMS01", "CT01-NVY-M", COAT, [Wish(NO_SIZES, "CT01-NVY-L")], AMS_STAFF, set()) == []
    assert back_in_stock("AMS01", "CT01-NVY-M", COAT, [Wish(NO_SIZES, "CT01-NVY-M")], AMS_STAFF, set()) == [
        BackInStock("C0000002", "CT01-NVY-M", None)
    ]
    elsewhere = LOTTE_SANNE.model_copy(update={"preferred_associate": "S0004"})  # works in Utrecht
    assert (
        back_in_stock("AMS01", "CT01-NVY-M", COAT, [Wish(elsewhere, "CT01-NVY-M")], AMS_STAFF, set())[0].assignee
        is None
    )


def test_came_back_is_from_none_to_some() -> None:
    assert follow_ups.came_back(0, 3) and follow_ups.came_back(-1, 1)
    assert not follow_ups.came_back(2, 5) and not follow_ups.came_back(0, 0) and not follow_ups.came_back(3, 0)


def made() -> follow_ups.FollowUp:
    command = FollowUpCommand(
        id="0193a1b2-7c3d-7e4f-8a5b-6c7d8e9f0a1b",
        text="Tell her the coat is back",
        due=date(2026, 11, 30),
        staff_id="S0001",
        assignee="S0001",
        created_at=NOW,
    )
    return follow_ups.made(command, "C0000001", "AMS01", NOW)


def change(state: str, minutes: int, until: date | None = None) -> FollowUpStateCommand:
    return FollowUpStateCommand(
        follow_up_id=made().id,
        state=state,
        snoozed_until=until,
        staff_id="S0003",
        changed_at=NOW + timedelta(minutes=minutes),
    )


def test_the_change_made_last_wins_and_due_follows_the_state() -> None:
    task = made()
    assert follow_ups.is_due(task, date(2026, 11, 30)) and not follow_ups.is_due(task, date(2026, 11, 29))
    snoozed = follow_ups.changed(task, change("snoozed", 5, date(2026, 12, 7)), NOW)
    assert snoozed is not None and follow_ups.due_on(snoozed) == date(2026, 12, 7)
    done = follow_ups.changed(snoozed, change("done", 10), NOW)
    assert done is not None and (done.done_by, follow_ups.due_on(done)) == ("S0003", None)
    assert follow_ups.changed(done, change("snoozed", 7, date(2026, 12, 1)), NOW) is None  # made earlier: kept
    assert rules.follow_up_change_supersedes(NOW, NOW) and not rules.follow_up_change_supersedes(
        NOW, NOW + timedelta(seconds=1)
    )


def test_a_follow_up_due_today_comes_first_among_the_suggestions() -> None:
    wished = [WishedItem(COAT, "CT01-NVY-M", 2, None)]
    plain = suggest(SANNE, wished, [], {}, {}, set(), NOW)
    assert [s.reason for s in plain] == ["wishlist_here"]
    knit = product("KN09", "knitwear", "Harbour cardigan", ("M",))
    due = suggest(SANNE, wished, [], {}, {}, set(), NOW, due=[DueItem(knit, "KN09-NVY-M")])
    assert [(s.reason, s.sku) for s in due] == [("follow_up_due", "KN09-NVY-M"), ("wishlist_here", "CT01-NVY-M")]
    assert [s.reason for s in suggest(SANNE, wished, [], {}, {}, {"KN09"}, NOW, due=[DueItem(knit, "KN09-NVY-M")])] == [
        "wishlist_here"
    ]


def test_a_resellable_return_that_brings_the_item_back_makes_the_task(tmp_path) -> None:
    """The other path that changes stock at the centre: an item put back on the shelf (`Catalogue._restock`)."""
    from clienteling.central.demo import build_demo
    from clienteling.central.store import CentralStore
    from clienteling.contract import Customer, Product, WishlistItem
    from clienteling.suggest import fits

    build_demo(tmp_path / "centre.db", 40)
    store = CentralStore(tmp_path / "centre.db")
    try:
        found = None
        for cid, doc in store.query("SELECT id, doc FROM customers WHERE home_store = 'AMS01' ORDER BY id"):
            customer = Customer.model_validate_json(doc)
            for (item_doc,) in store.query("SELECT doc FROM wishlists WHERE customer_id = ? ORDER BY id", (cid,)):
                item = WishlistItem.model_validate_json(item_doc)
                product = Product.model_validate_json(
                    store.query_one("SELECT doc FROM products WHERE id = ?", (item.style,))[0]
                )
                taken = store.query_one("SELECT 1 FROM follow_ups WHERE sku = ? AND customer_id = ?", (item.sku, cid))
                if found is None and fits(customer, product, item.sku) and taken is None:
                    found = (cid, item.sku)
        assert found is not None
        cid, sku = found
        with store.write() as conn:
            conn.execute("DELETE FROM stock WHERE id = ?", (f"AMS01:{sku}",))
            store._restock(conn, "AMS01", sku, 1, store.clock())
            store._restock(conn, "AMS01", sku, 1, store.clock())  # more of it: not back again
        rows = store.query("SELECT doc FROM follow_ups WHERE customer_id = ? AND sku = ?", (cid, sku))
        assert len(rows) == 1 and '"reason":"back_in_stock"' in rows[0][0]
    finally:
        store.close()
