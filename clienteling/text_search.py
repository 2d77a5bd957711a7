"""How typed text becomes a full-text query, the same at the centre and on the device.

Every word is matched as a prefix; a phone number is matched by its digits in
international form, so `06 1234` and `+31 6 1234` find the same customer.
"""

from __future__ import annotations

import re


def fts_query(text: str) -> str | None:
    """A safe SQLite FTS5 query that matches every word of `text` as a prefix, or None if no word is left."""
    compact = re.sub(r"[\s()-]", "", text)
    if re.fullmatch(r"\+?[0-9]{2,}", compact):
        digits = compact.lstrip("+")
        words = ["31" + digits[1:] if digits.startswith("0") else digits]
    else:
        words = [w for w in re.split(r"[^\w]+", text.lower()) if w]
    if not words:
        return None
    return " ".join('"' + w.replace('"', "") + '"*' for w in words)
