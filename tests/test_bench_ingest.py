"""`clienteling bench --ingest` measures what it says: every record is taken over real HTTP, and the ratio is the raw
insert's time over the ingest's, measured in the same run."""

from __future__ import annotations

import json

import pytest
from conftest import clienteling


def test_bench_ingest_loads_every_record_and_reports_the_ratio():
    result = clienteling("bench", "--ingest", "--records", "300", "--json")
    assert result.returncode == 0, result.stderr[-2000:]
    figures = json.loads(result.stdout)["sqlite"]
    assert figures["records"] == 300
    ingest_s = figures["records"] / figures["ingest_records_per_s"]
    raw_s = figures["records"] / figures["raw_insert_records_per_s"]
    assert (
        abs(figures["ingest_ratio_to_raw_insert"] - raw_s / ingest_s)
        < 0.05 + 0.2 * figures["ingest_ratio_to_raw_insert"]
    )


def test_a_refused_record_fails_the_bench_instead_of_being_counted(tmp_path):
    from clienteling import bench_ingest

    docs = bench_ingest.customers(3)
    docs[1]["home_store"] = "NOP01"  # a store the centre does not know: refused, so a figure would be a lie
    with pytest.raises(RuntimeError, match="not every record was accepted"):
        bench_ingest.measure(tmp_path, 3, None, docs)
