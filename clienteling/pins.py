"""Staff PINs: hashed with PBKDF2-SHA256 and a salt of their own, checked in constant time.

A hash is one string that carries its algorithm and parameters, so that the cost can be raised
later without breaking the hashes already out there:

    pbkdf2_sha256$100000$<salt, 32 hex digits>$<derived key, 64 hex digits>

The centre keeps only these hashes and sends them to its store's devices, which check a PIN
offline. A PIN of 4 to 6 digits has at most a million values, so no hash makes a stolen cache
file safe against a patient guesser: the hash keeps the PIN out of plain sight (and the same
PIN looks different for every person), while the device's sign-in lockout is what stops
guessing at the till. 100,000 iterations take about 60 ms on a laptop, little enough for a
tablet to check a PIN at once.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from clienteling.contract import PIN_HASH_PATTERN

ALGORITHM = "pbkdf2_sha256"
ITERATIONS = 100_000
SALT_BYTES = 16
PIN_PATTERN = re.compile(r"^[0-9]{4,6}$")
_HASH = re.compile(PIN_HASH_PATTERN)


class PinError(ValueError):
    """A PIN that is not 4 to 6 digits."""


def check_pin_form(pin: str) -> str:
    """The PIN itself if it is 4 to 6 digits; else `PinError` saying so."""
    if not PIN_PATTERN.fullmatch(pin or ""):
        raise PinError("a PIN is 4 to 6 digits")
    return pin


def hash_pin(pin: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    """The hash string of `pin`, with a new random salt unless `salt` (16 bytes) is given."""
    check_pin_form(pin)
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a PIN salt is {SALT_BYTES} bytes")
    key = hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)
    return f"{ALGORITHM}${iterations}${salt.hex()}${key.hex()}"


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Whether `pin` is the PIN behind `pin_hash`. The key comparison takes the same time however much of
    it matches; a hash in a form this module does not make never matches."""
    if not _HASH.fullmatch(pin_hash or ""):
        return False
    _, iterations, salt, expected = pin_hash.split("$")
    key = hashlib.pbkdf2_hmac("sha256", (pin or "").encode(), bytes.fromhex(salt), int(iterations))
    return hmac.compare_digest(key.hex(), expected)
