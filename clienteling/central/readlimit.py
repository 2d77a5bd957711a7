"""How fast a device may read customer profiles: a token bucket per device token.

A person at a counter opens a customer's profile every few seconds at most, and the device's online look-up of a
customer outside its cache costs four reads (the profile, then wishlist, orders and conversations). A token that
reads hundreds of profiles a second (for example every id in turn) is a script exporting the customer base: the
centre answers it 429 with `Retry-After` and logs a warning that names the store and the device.

The clock is injectable, so tests drive the bucket without waiting.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# A burst of 60 reads is 15 online customer look-ups (4 reads each) back to back, or a search typed and retyped many
# times: more than a person at a counter ever does in a few seconds, far less than an export (300 profiles in 0.2 s).
PROFILE_READ_BURST = 60
# 10 reads a second sustained is 2.5 customer look-ups a second, every second: no person keeps that up, while a
# device's own traffic (a look-up when a customer is not in its cache, a search as staff type) stays far below it.
PROFILE_READS_PER_SECOND = 10.0
# While a token keeps being refused, the warning is repeated at most this often (seconds), with the counts so far.
LOG_EVERY_SECONDS = 60.0


@dataclass
class Verdict:
    """The bucket's answer to one read: allowed, or refused with the seconds to wait; `log` says whether this refusal
    should be logged (the first of an episode, then at most every LOG_EVERY_SECONDS), with the episode's counts."""

    allowed: bool
    retry_after: int = 0
    log: bool = False
    reads: int = 0  # reads allowed since the bucket was last full (the run that emptied it)
    refused: int = 0  # reads refused since then
    seconds: float = 0.0  # how long the run has lasted


@dataclass
class _Bucket:
    tokens: float
    at: float
    run_started: float
    reads: int = 0
    refused: int = 0
    logged_at: float | None = None


class ProfileReadLimiter:
    """Token buckets per key (a device token's hash): `burst` reads at once, refilled at `per_second`."""

    def __init__(
        self,
        burst: int = PROFILE_READ_BURST,
        per_second: float = PROFILE_READS_PER_SECOND,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if burst < 1 or per_second <= 0:
            raise ValueError("a profile read limit needs a burst of at least 1 and a positive rate")
        self.burst = burst
        self.per_second = per_second
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # the centre's sync routes run on a thread pool

    def take(self, key: str) -> Verdict:
        """Spend one read for `key`, or say how long to wait for the next one."""
        with self._lock:
            now = self.clock()
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), at=now, run_started=now)
            else:
                bucket.tokens = min(float(self.burst), bucket.tokens + max(0.0, now - bucket.at) * self.per_second)
                bucket.at = now
            if bucket.tokens >= float(self.burst):  # full again: whatever ran before is over
                bucket.run_started, bucket.reads, bucket.refused, bucket.logged_at = now, 0, 0, None
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                bucket.reads += 1
                return Verdict(True)
            bucket.refused += 1
            log = bucket.logged_at is None or now - bucket.logged_at >= LOG_EVERY_SECONDS
            if log:
                bucket.logged_at = now
            wait = max(1, math.ceil((1.0 - bucket.tokens) / self.per_second))
            return Verdict(
                False,
                retry_after=wait,
                log=log,
                reads=bucket.reads,
                refused=bucket.refused,
                seconds=now - bucket.run_started,
            )


def parse_limit(text: str) -> ProfileReadLimiter:
    """`BURST,PER_SECOND` (as `--profile-reads` takes it) as a limiter; ValueError if it is not that."""
    burst, per_second = text.split(",")
    return ProfileReadLimiter(int(burst), float(per_second))
