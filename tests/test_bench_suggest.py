"""`clienteling bench --suggest` measures what it says: a customer with 200 orders more on a synced device."""

from __future__ import annotations

import json

from conftest import clienteling


def test_bench_suggest_gives_a_customer_200_more_orders_and_times_the_suggestions():
    result = clienteling("bench", "--suggest", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)
    assert figures["suggest_orders"] >= 200 and 1 <= figures["suggest_count"] <= 3
    assert 0 < figures["suggest_p50_ms"] <= figures["suggest_p99_ms"]
    assert 0 < figures["customer_picture_p50_ms"] <= figures["customer_picture_p99_ms"]
