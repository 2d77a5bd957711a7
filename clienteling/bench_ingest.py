"""`clienteling bench --ingest`: how fast the retailer's systems can load customers into the centre (issue 13).

A small demo centre runs in its own process (SQLite, and PostgreSQL with `--pg URL`). An integration posts N new
customers as NDJSON in batches over real HTTP, each record versioned, as a loyalty system's first load would; the
figure is records/s from the first request to the last answer. The same rows are then written straight into a fresh
table of the same database (one `executemany` per batch, one transaction each: what a bulk insert costs with no
checks, no versions, no feed and no HTTP), and the ratio of the two is reported: both are measured in the same run,
on the same machine, so the ratio holds where the absolute figures do not.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import httpx

from clienteling.bench import LocalCentre
from clienteling.codes import make_card_number
from clienteling.contract import Customer

FIRST = 5_000_000  # customer numbers far above the demo's
BATCH = 2_000


def customers(count: int) -> list[dict]:
    return [
        {
            "id": f"C{FIRST + n:07d}",
            "first_name": "Bench",
            "last_name": f"Klant {n}",
            "email": f"bench.{n}@example.com",
            "phone": f"+316{n:08d}"[:12],
            "home_store": ("AMS01", "UTR01", "RTD01", "DHG01", "EIN01")[n % 5],
            "card_number": make_card_number(FIRST + n),
            "tier": "basic",
            "points": n % 900,
            "consent": {"marketing": n % 2 == 0, "profiling": False, "updated_at": "2026-11-01T09:00:00+00:00"},
            "addresses": [],
            "sizes": {},
            "preferences": [],
            "created_at": "2026-11-01T09:00:00+00:00",
            "updated_at": "2026-11-01T09:00:00+00:00",
        }
        for n in range(count)
    ]


def ingest_over_http(url: str, token: str, docs: list[dict]) -> float:
    """Seconds to post `docs` as NDJSON batches; every record must be accepted."""
    lines = [json.dumps({"version": 1, "data": doc}) for doc in docs]
    started = time.perf_counter()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as client:
        for start in range(0, len(lines), BATCH):
            body = "\n".join(lines[start : start + BATCH])
            answer = client.post("/v1/ingest/customers", content=body, headers={"Content-Type": "application/x-ndjson"})
            answer.raise_for_status()
            report = answer.json()
            if report["accepted"] != min(BATCH, len(lines) - start):
                raise RuntimeError(f"not every record was accepted: {report['lines'][:3]}")
    return time.perf_counter() - started


def raw_insert(where: str | Path, docs: list[dict]) -> float:
    """Seconds to write the same rows into a fresh customers table of the same database, one executemany a batch."""
    from clienteling.central.db import open_database

    db = open_database(where)
    rows = [
        (
            d["id"],
            n,
            d["card_number"],
            d["email"].lower(),
            d["home_store"],
            Customer.model_validate(d).model_dump_json(),
        )
        for n, d in enumerate(docs)
    ]
    try:
        with db.write() as conn:
            conn.execute("DROP TABLE IF EXISTS bench_raw")
            conn.execute(
                "CREATE TABLE bench_raw (id TEXT PRIMARY KEY, seq BIGINT NOT NULL, card TEXT NOT NULL UNIQUE,"
                " email_lc TEXT NOT NULL UNIQUE, home_store TEXT NOT NULL, doc TEXT NOT NULL)"
            )
        started = time.perf_counter()
        for start in range(0, len(rows), BATCH):
            with db.write() as conn:
                conn.executemany("INSERT INTO bench_raw VALUES (?, ?, ?, ?, ?, ?)", rows[start : start + BATCH])
        seconds = time.perf_counter() - started
        with db.write() as conn:
            conn.execute("DROP TABLE bench_raw")
        return seconds
    finally:
        db.close()


def measure(folder: Path, records: int, pg: str | None, docs: list[dict] | None = None) -> dict:
    docs = docs if docs is not None else customers(records)
    db: str | Path = pg if pg else folder / "central.db"
    centre = LocalCentre(folder, 20, db=db)
    try:
        from clienteling.central.store import CentralStore

        store = CentralStore(db)
        try:
            token = store.add_integration("bench", ["customers"])
        finally:
            store.close()
        seconds = ingest_over_http(centre.url, token, docs)
    finally:
        centre.stop()
    raw = raw_insert(db, docs)
    return {
        "records": records,
        "ingest_seconds": round(seconds, 2),
        "ingest_records_per_s": round(records / seconds),
        "raw_insert_records_per_s": round(records / raw),
        "ingest_ratio_to_raw_insert": round(raw / seconds, 3),
    }


def run(records: int = 20_000, pg: str | None = None, progress=print) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="clienteling-bench-ingest-") as folder:
        progress(f"ingest: {records:,} customers as NDJSON into SQLite …")
        results["sqlite"] = measure(Path(folder), records, None)
    if pg:
        with tempfile.TemporaryDirectory(prefix="clienteling-bench-ingest-") as folder:
            progress(f"ingest: {records:,} customers as NDJSON into PostgreSQL …")
            results["postgresql"] = measure(Path(folder), records, pg)
    return results


def describe(results: dict) -> str:
    return "\n".join(
        f"ingest into {backend}: {r['records']:,} customers as NDJSON over HTTP in {r['ingest_seconds']} s = "
        f"{r['ingest_records_per_s']:,} records/s; raw executemany {r['raw_insert_records_per_s']:,} rows/s; "
        f"ratio {r['ingest_ratio_to_raw_insert']}"
        for backend, r in results.items()
    )


def main(as_json: bool, records: int, pg: str | None) -> int:
    results = run(records, pg, progress=(lambda _: None) if as_json else print)
    print(json.dumps(results) if as_json else describe(results))
    return 0
