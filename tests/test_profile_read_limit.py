"""A store token that reads customer profiles faster than a person could gets 429 with Retry-After, and the centre
logs a possible export (issue 11, §3). Real HTTP against a centre of the test's own; the bucket with a fake clock."""

from __future__ import annotations

import re

import pytest

from clienteling.central.problems import PROBLEM_MEDIA_TYPE
from clienteling.central.readlimit import (
    LOG_EVERY_SECONDS,
    PROFILE_READ_BURST,
    PROFILE_READS_PER_SECOND,
    ProfileReadLimiter,
)
from clienteling.contract import CENTRE_HEADER

pytestmark = pytest.mark.both_backends  # every centre test here runs on SQLite and on PostgreSQL

# ------------------------------------------------------------------ the bucket, on a clock the test moves


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_bucket_allows_a_burst_then_refuses_with_the_wait_until_the_next_read():
    clock = FakeClock()
    bucket = ProfileReadLimiter(5, 2.0, clock=clock)
    assert all(bucket.take("d").allowed for _ in range(5))
    refused = bucket.take("d")
    assert not refused.allowed
    assert refused.retry_after == 1  # half a second to the next read, said in whole seconds
    assert (refused.reads, refused.refused, refused.log) == (5, 1, True)
    clock.now += 0.5
    assert bucket.take("d").allowed  # one read came back
    assert not bucket.take("d").allowed


def test_the_bucket_refills_at_its_rate_and_never_beyond_the_burst():
    clock = FakeClock()
    bucket = ProfileReadLimiter(5, 2.0, clock=clock)
    for _ in range(5):
        bucket.take("d")
    clock.now += 1.0  # two reads back
    assert [bucket.take("d").allowed for _ in range(3)] == [True, True, False]
    clock.now += 3600  # an hour idle: full, not 7200 reads
    assert sum(bucket.take("d").allowed for _ in range(20)) == 5


def test_a_slow_wait_is_said_in_whole_seconds_rounded_up():
    clock = FakeClock()
    bucket = ProfileReadLimiter(1, 0.25, clock=clock)
    assert bucket.take("d").allowed
    assert bucket.take("d").retry_after == 4


def test_each_key_has_its_own_bucket():
    clock = FakeClock()
    bucket = ProfileReadLimiter(3, 1.0, clock=clock)
    for _ in range(10):
        bucket.take("exporter")
    assert all(bucket.take("counter").allowed for _ in range(3))


def test_a_person_reading_at_counter_speed_is_never_refused_over_a_whole_day():
    clock = FakeClock()
    bucket = ProfileReadLimiter(clock=clock)
    for _ in range(8 * 3600 // 2):  # an online look-up (4 reads) every 2 seconds for 8 hours
        for _ in range(4):
            assert bucket.take("d").allowed
        clock.now += 2.0


def test_the_refusals_are_logged_once_per_run_and_then_at_most_every_minute():
    clock = FakeClock()
    bucket = ProfileReadLimiter(10, 1.0, clock=clock)
    verdicts = [bucket.take("d") for _ in range(300)]
    refused = [v for v in verdicts if not v.allowed]
    assert len(refused) == 290
    assert [v.log for v in refused].count(True) == 1
    logged = []
    for _ in range(int(LOG_EVERY_SECONDS * 10) + 10):  # it keeps going, ten reads a second, for over a minute
        clock.now += 0.1
        verdict = bucket.take("d")
        if verdict.log:
            logged.append(verdict)
    assert len(logged) == 1  # one more warning in that minute, not one per refusal
    assert logged[0].refused > 290 and logged[0].seconds >= LOG_EVERY_SECONDS  # counting the whole run
    clock.now += 3600  # full again: a new run, logged afresh
    for _ in range(10):
        assert bucket.take("d").allowed
    fresh = bucket.take("d")
    assert fresh.log and (fresh.reads, fresh.refused) == (10, 1)


def test_a_limit_needs_a_burst_and_a_rate():
    with pytest.raises(ValueError):
        ProfileReadLimiter(0, 1.0)
    with pytest.raises(ValueError):
        ProfileReadLimiter(10, 0)


def test_the_defaults_leave_room_for_a_person_and_none_for_an_export():
    assert PROFILE_READ_BURST >= 4 * 10  # ten online look-ups back to back
    assert PROFILE_READ_BURST < 300
    assert 1 < PROFILE_READS_PER_SECOND < 300 / 0.2


# ------------------------------------------------------------------ the centre, over real HTTP


def profile_paths(count: int) -> list[str]:
    """The reads an export by sequential id makes: profiles, then their wishlists, orders and conversations."""
    ids = [f"C{n:07d}" for n in range(1, count + 1)]
    return [f"/v1/customers/{i}" for i in ids]


def test_an_export_by_sequential_id_gets_429_with_retry_after_and_a_warning_in_the_log(fresh_central):
    with fresh_central.client("demo-AMS01") as api:
        answers = [api.get(path) for path in profile_paths(300)]
    statuses = [a.status_code for a in answers]
    assert statuses[:PROFILE_READ_BURST].count(429) == 0  # the burst a person could ever need is served
    refused = [a for a in answers if a.status_code == 429]
    assert len(refused) >= 300 - PROFILE_READ_BURST - 20  # some reads come back while the loop runs, not 240
    first = refused[0]
    assert int(first.headers["Retry-After"]) >= 1
    assert first.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    assert first.headers[CENTRE_HEADER]  # signed by the centre, so the device retries it later
    problem = first.json()
    assert problem["code"] == "too_many_profile_reads"
    assert problem["status"] == 429
    assert problem["type"] == "/problems/too_many_profile_reads"
    assert problem["retry_after"] == int(first.headers["Retry-After"])
    log = fresh_central.log.read_text()
    warnings = [line for line in log.splitlines() if "possible export of customer profiles" in line]
    assert len(warnings) == 1, log[-3000:]  # one line for the run, not one per refusal
    assert "store AMS01" in warnings[0]
    assert "WARNING" in warnings[0]
    read = int(re.search(r"read (\d+) profile", warnings[0]).group(1))
    assert PROFILE_READ_BURST <= read < 300


@pytest.mark.parametrize("part", ["", "/wishlist", "/orders", "/conversations", "/notes"])
def test_every_read_of_a_customer_counts(fresh_central, part):
    with fresh_central.client("demo-AMS01") as api:
        statuses = [api.get(f"/v1/customers/C{n:07d}{part}").status_code for n in range(1, 151)]
    assert 429 in statuses


def test_lookups_and_searches_count_too(fresh_central):
    with fresh_central.client("demo-AMS01") as api:
        lookups = [api.get("/v1/customers/lookup", params={"email": f"x{n}@example.com"}) for n in range(150)]
        assert 429 in [a.status_code for a in lookups]
    with fresh_central.client("demo-UTR01") as api:
        searches = [api.get("/v1/customers/search", params={"q": f"a{n}"}) for n in range(150)]
        assert 429 in [a.status_code for a in searches]


def test_a_person_at_counter_speed_is_never_refused(fresh_central):
    with fresh_central.client("demo-AMS01") as api:
        # five customers looked up online with their history (20 reads), here without the seconds a person takes
        # between them, which would only leave more room
        for n in range(1, 6):
            for part in ("", "/wishlist", "/orders", "/conversations"):
                assert api.get(f"/v1/customers/C{n:07d}{part}").status_code == 200
        assert api.get("/v1/customers/search", params={"q": "an"}).status_code == 200
    log = fresh_central.log.read_text()
    assert "possible export" not in log


def test_another_stores_token_and_the_sync_feeds_are_not_affected(fresh_central):
    with fresh_central.client("demo-AMS01") as exporter:
        assert 429 in [exporter.get(path).status_code for path in profile_paths(200)]
        for collection in ("customers", "wishlists", "orders", "conversations", "stores", "stock"):
            for _ in range(20):  # the exporter's own token still syncs: a feed is not a profile read
                assert exporter.get(f"/v1/sync/{collection}", params={"after": "0", "limit": 5}).status_code == 200
    with fresh_central.client("demo-UTR01") as other:
        for path in profile_paths(40):
            assert other.get(path).status_code in (200, 404)
        assert other.get("/v1/customers/search", params={"q": "an"}).status_code == 200


def test_a_centre_started_with_other_limits_uses_them(tmp_path):
    from conftest import start_central

    central = start_central(tmp_path / "central.db", "--demo", "--customers", "20", "--profile-reads", "5,1")
    try:
        with central.client("demo-AMS01") as api:
            statuses = [api.get(path).status_code for path in profile_paths(8)]
    finally:
        central.stop()
    assert statuses[:5].count(429) == 0 and statuses[-1] == 429
