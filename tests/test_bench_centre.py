"""`clienteling bench --centre`: measures each target it can start, skips one it cannot, and says so."""

from __future__ import annotations

import json

import pytest
from conftest import clienteling

from clienteling.bench_centre import KINDS, TARGETS, Target, run


@pytest.mark.parametrize("client", ["lean", "httpx"])
def test_the_centre_bench_measures_every_kind_on_both_sqlite_targets(client):
    options = ["--httpx"] if client == "httpx" else []
    answer = clienteling("bench", "--centre", "--devices", "6", "--writers", "2", "--seconds", "2", "--json", *options)
    assert answer.returncode == 0, answer.stderr
    results = json.loads(answer.stdout)
    assert results["client"] == client
    assert list(results["targets"]) == [target.name for target in TARGETS] and results["skipped"] == {}
    for figures in results["targets"].values():
        assert figures["errors"] == 0, figures["errors_by_kind"]
        assert all(figures["kinds"][kind]["requests"] > 0 for kind in KINDS), figures["kinds"]
        assert figures["p50_ms"] <= figures["p99_ms"]
        assert 0 < figures["generator_cpu_share"] <= 1 and 0 < figures["centre_cpu_share"] <= 1
    assert results["targets"]["sqlite, 2 workers"]["workers"] == 2
    assert set(results["ratios_to_sqlite_1_process"]) == {"sqlite, 2 workers"}


def test_a_target_whose_centre_does_not_start_is_skipped_with_the_reason(tmp_path):
    lines: list[str] = []
    (tmp_path / "a file").write_text("not a folder")
    broken = Target("nowhere", db=str(tmp_path / "a file" / "central.db"))
    results = run(devices=2, seconds=0.5, writers=1, customers=60, targets=[broken], progress=lines.append)
    assert results["targets"] == {}
    assert "the centre did not start" in results["skipped"]["nowhere"]
    assert any(line.startswith("nowhere: skipped: the centre did not start") for line in lines), lines


def test_a_postgresql_target_is_never_measured_on_sqlite_instead():
    """A centre without the PostgreSQL backend takes the URL for a SQLite file name; one with it cannot reach this
    server (nothing listens on port 1): either way the target is skipped, with the reason."""
    lines: list[str] = []
    target = Target("postgresql, nowhere", db="postgresql://nobody@127.0.0.1:1/none")
    results = run(devices=2, seconds=0.5, writers=1, customers=60, targets=[target], progress=lines.append)
    assert results["targets"] == {} and list(results["skipped"]) == ["postgresql, nowhere"]
    assert any(line.startswith("postgresql, nowhere: skipped: ") for line in lines), lines
