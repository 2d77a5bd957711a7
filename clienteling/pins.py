"""Staff PINs: hashed with argon2id at the centre, and sealed to each device before they travel to it.

The threat: a tablet's cache file is copied (a lost tablet, a backup, a support bundle). Whatever staff
credentials it holds for offline sign-in must not give away anyone's PIN.

Two things together make that so:

1. **A memory-hard hash.** The centre keeps each PIN as an argon2id hash (argon2-cffi, the reference
   implementation, well kept; memory-hard, so a guesser's GPU or ASIC gains little over this machine),
   in the usual encoded form that carries its parameters, so that the cost can be raised later:

       $argon2id$v=19$m=65536,t=3,p=1$<salt, base64>$<hash, base64>

   64 MiB and three passes take about 0.17 s on one core of a 2026 developer machine: a wait nobody
   notices at sign-in, and 10^6 of them (every 6-digit PIN) take two days of one core.

2. **A seal only the device can open.** The centre never sends that hash to a device. For the `staff`
   feed it replaces it by `HMAC-SHA256(K, argon2id hash)`, where `K = HMAC-SHA256(device token,
   "clienteling staff PIN seal v1")`: a key of the calling device alone, derived from the bearer token
   that the centre sees on every request and the device keeps in its settings (the environment, the
   managed settings file or settings.toml), never in the cache file. The device derives the same key,
   computes argon2id of the typed PIN with the salt and parameters that came along, and compares the
   seals in constant time. Without the token, a guess cannot even be tested: the seal of a wrong PIN
   and of the right one look alike to anyone who lacks a 256-bit key. With the token, every guess
   still costs a whole argon2id. (The demo's tokens, `demo-<STORE>`, are public: a demo device is not
   protected by its seal, a real one, with its random token, is.)

       sealed$<key id, 16 hex>$argon2id$v=19$m=65536,t=3,p=1$<salt, base64>$<seal, base64>

   The key id (an HMAC of the key, which says nothing about the PIN) lets a device whose token changed
   see that its rows were sealed for another key: it drops them and fetches the staff list afresh.

Why the token rather than a per-device key in the operating system's keystore: the token is already the
device's one secret (whoever has it can fetch the staff feed as that device, so sealing to it exposes
nothing more), the centre needs no new pairing step to learn a key, and it works the same on Android,
iOS, Windows, macOS and headless Linux, where Python's `keyring` often has no backend at all.

New PINs are 6 to 12 digits. Centres made before this keep their `pbkdf2_sha256$…` hashes of 4 to 6
digits until the PIN is set anew; they are sealed the same way (`sealed$<key id>$pbkdf2_sha256$…`),
so no device holds an unsealed hash of any kind.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret, hash_secret_raw

ALGORITHM = "argon2id"
TIME_COST = 3  # passes over the memory
MEMORY_KIB = 64 * 1024  # 64 MiB: RFC 9106's second recommended setting
PARALLELISM = 1
HASH_BYTES = 32
SALT_BYTES = 16
NEW_PIN_DIGITS = (6, 12)  # a new PIN: 10^6 values at least
LEGACY_PIN_DIGITS = (4, 6)  # what the PBKDF2 hashes of centres made before argon2id were made of
LEGACY_ALGORITHM = "pbkdf2_sha256"
SEAL_LABEL = b"clienteling staff PIN seal v1"
# What a device is willing to spend on one stored row (a damaged or hostile row must not take all memory).
MAX_MEMORY_KIB = 256 * 1024
MAX_TIME_COST = 10
MAX_PARALLELISM = 4

_ARGON2 = re.compile(
    r"^\$argon2id\$v=19\$m=([0-9]{1,7}),t=([0-9]{1,2}),p=([0-9]{1,2})\$([A-Za-z0-9+/]{22})\$([A-Za-z0-9+/]{43})$"
)
_LEGACY = re.compile(r"^pbkdf2_sha256\$([0-9]{4,7})\$([0-9a-f]{32})\$([0-9a-f]{64})$")
_SEALED = re.compile(r"^sealed\$([0-9a-f]{16})\$(.*)$")


class PinError(ValueError):
    """A PIN that is not of the form asked for (`shortest` to `longest` ASCII digits)."""

    def __init__(self, shortest: int, longest: int) -> None:
        super().__init__(f"a PIN is {shortest} to {longest} digits")
        self.shortest, self.longest = shortest, longest


class SealedForAnotherKey(ValueError):
    """A sealed row that this device's key cannot open: it was sealed for another device token."""


def check_pin_form(pin: str, digits: tuple[int, int] = NEW_PIN_DIGITS) -> str:
    """The PIN itself if it is `digits[0]` to `digits[1]` ASCII digits (a new PIN: 6 to 12); else `PinError`."""
    shortest, longest = digits
    if not re.fullmatch(f"[0-9]{{{shortest},{longest}}}", pin or ""):
        raise PinError(shortest, longest)
    return pin


def pin_digits(stored: str) -> tuple[int, int]:
    """How many digits a PIN behind `stored` (a hash or a sealed row) can have: 4 to 6 for a legacy PBKDF2 hash,
    6 to 12 for argon2id. A PIN outside that is a slip of the finger, not a guess."""
    sealed = _SEALED.match(stored or "")
    inner = sealed.group(2) if sealed else stored or ""
    return LEGACY_PIN_DIGITS if inner.startswith(LEGACY_ALGORITHM) else NEW_PIN_DIGITS


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def hash_pin(
    pin: str,
    *,
    salt: bytes | None = None,
    time_cost: int = TIME_COST,
    memory_kib: int = MEMORY_KIB,
    parallelism: int = PARALLELISM,
) -> str:
    """The argon2id hash string of a new `pin` (6 to 12 digits), with a new random salt unless `salt` (16 bytes)."""
    check_pin_form(pin)
    salt = secrets.token_bytes(SALT_BYTES) if salt is None else salt
    if len(salt) != SALT_BYTES:
        raise ValueError(f"a PIN salt is {SALT_BYTES} bytes")
    return hash_secret(
        pin.encode(),
        salt,
        time_cost=time_cost,
        memory_cost=memory_kib,
        parallelism=parallelism,
        hash_len=HASH_BYTES,
        type=Type.ID,
    ).decode()


@dataclass(frozen=True)
class _Parsed:
    algorithm: str
    head: str  # the stored form up to and including the salt's `$`: what a sealed row keeps
    salt: bytes
    digest: bytes  # the hash (or, in a sealed row, the seal)
    params: tuple[int, ...]  # (time, memory KiB, parallelism) or (iterations,)


def _parse(stored: str) -> _Parsed | None:
    if found := _ARGON2.fullmatch(stored):
        memory, time_cost, parallelism = (int(found.group(i)) for i in (1, 2, 3))
        if not (1 <= time_cost <= MAX_TIME_COST and 1 <= parallelism <= MAX_PARALLELISM):
            return None
        if not (8 * parallelism <= memory <= MAX_MEMORY_KIB):
            return None
        try:
            salt, digest = _unb64(found.group(4)), _unb64(found.group(5))
        except (binascii.Error, ValueError):
            return None
        head = stored[: found.start(5)]
        return _Parsed(ALGORITHM, head, salt, digest, (time_cost, memory, parallelism))
    if found := _LEGACY.fullmatch(stored):
        head = stored[: found.start(3)]
        return _Parsed(
            LEGACY_ALGORITHM, head, bytes.fromhex(found.group(2)), bytes.fromhex(found.group(3)), (int(found.group(1)),)
        )
    return None


def _derive(pin: str, parsed: _Parsed) -> bytes:
    if parsed.algorithm == ALGORITHM:
        time_cost, memory, parallelism = parsed.params
        return hash_secret_raw(
            (pin or "").encode(),
            parsed.salt,
            time_cost=time_cost,
            memory_cost=memory,
            parallelism=parallelism,
            hash_len=len(parsed.digest),
            type=Type.ID,
        )
    return hashlib.pbkdf2_hmac("sha256", (pin or "").encode(), parsed.salt, parsed.params[0])


def is_centre_hash(stored: str) -> bool:
    """Whether `stored` is a hash the centre keeps (argon2id, or a legacy PBKDF2 one), not a sealed row."""
    return _parse(stored or "") is not None


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Whether `pin` is the PIN behind a centre's hash `pin_hash` (argon2id or legacy PBKDF2). The comparison
    takes the same time however much of it matches; a form this module does not make never matches."""
    parsed = _parse(pin_hash or "")
    if parsed is None:
        return False
    return hmac.compare_digest(_derive(pin, parsed), parsed.digest)


# ---------------------------------------------------------------------- sealing to a device


def device_key(token: str) -> bytes:
    """The key the staff feed is sealed with for the device that holds `token`."""
    return hmac.new(token.encode(), SEAL_LABEL, hashlib.sha256).digest()


def key_id(key: bytes) -> str:
    """A short name of `key`, to tell rows sealed for another key; it gives nothing away about any PIN."""
    return hmac.new(key, b"key id", hashlib.sha256).hexdigest()[:16]


def seal(pin_hash: str, key: bytes) -> str:
    """`pin_hash` (a centre's hash) as the device holding `key` keeps it: the hash replaced by an HMAC of it."""
    parsed = _parse(pin_hash)
    if parsed is None:
        raise ValueError("not a PIN hash the centre keeps")
    sealed = hmac.new(key, parsed.digest, hashlib.sha256).digest()
    text = _b64(sealed) if parsed.algorithm == ALGORITHM else sealed.hex()
    return f"sealed${key_id(key)}${parsed.head.lstrip('$')}{text}"


def sealed_key_id(stored: str) -> str | None:
    """The key id a sealed row was sealed for; None for anything else."""
    found = _SEALED.fullmatch(stored or "")
    return found.group(1) if found else None


def verify_sealed(pin: str, stored: str, key: bytes | None) -> bool:
    """Whether `pin` opens the sealed row `stored` with this device's `key`, in constant time.

    Raises `SealedForAnotherKey` when the row was sealed for another key (the device's token changed, or
    there is no key): no PIN can be checked then. Anything that is not a sealed row never matches."""
    found = _SEALED.fullmatch(stored or "")
    if found is None:
        return False
    if key is None or not hmac.compare_digest(found.group(1), key_id(key)):
        raise SealedForAnotherKey("this row was sealed for another device token")
    inner = found.group(2)
    parsed = _parse(inner if inner.startswith(LEGACY_ALGORITHM) else f"${inner}")
    if parsed is None:
        return False
    return hmac.compare_digest(hmac.new(key, _derive(pin, parsed), hashlib.sha256).digest(), parsed.digest)


def seal_staff_doc(doc: str, key: bytes) -> str:
    """A staff member's JSON (`StaffMember`) with its `pin_hash` sealed with `key`, as the centre sends it."""
    member = json.loads(doc)
    member["pin_hash"] = seal(member["pin_hash"], key)
    return json.dumps(member, separators=(",", ":"), ensure_ascii=False)
