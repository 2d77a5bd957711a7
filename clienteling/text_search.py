"""How typed text becomes a full-text query, the same at the centre and on the device.

Every word is matched as a prefix; a phone number is matched by its digits in
international form, so `06 1234` and `+31 6 1234` find the same customer.

Both ends index customers with SQLite FTS5's `unicode61 remove_diacritics 2` tokenizer (`TOKENIZER`).
The device also needs that tokenizer's words in Python, to check candidates itself (`fts_words`,
`folded`): `folded` learns what the tokenizer does with each character outside ASCII from SQLite
itself, so Python and the index never disagree about a name.
"""

from __future__ import annotations

import re
import sqlite3
import threading

TOKENIZER = "unicode61 remove_diacritics 2"


def phone_digits(text: str) -> str | None:
    """The digits of a phone number in international form (`06 1234` → `3161234`), if `text` is one."""
    compact = re.sub(r"[\s()-]", "", text)
    if not re.fullmatch(r"\+?[0-9]{2,}", compact):
        return None
    digits = compact.lstrip("+")
    return "31" + digits[1:] if digits.startswith("0") else digits


def search_words(text: str) -> list[str]:
    """The words of `text` as typed (lower case), or the digits of a phone number in international form."""
    phone = phone_digits(text)
    return [phone] if phone else [w for w in re.split(r"[^\w]+", text.lower()) if w]


def fts_query(text: str) -> str | None:
    """A safe SQLite FTS5 query that matches every word of `text` as a prefix, or None if no word is left."""
    words = search_words(text)
    if not words:
        return None
    return " ".join('"' + w.replace('"', "") + '"*' for w in words)


# ---------------------------------------------------------------------------- the tokenizer, in Python

# What the tokenizer makes of each character: itself folded (lower case, no diacritics; "" for a mark it
# drops), or " " for a character that separates words. ASCII is known; other characters are learnt.
_FOLDS: dict[int, str] = {i: chr(i).lower() if chr(i).isalnum() else " " for i in range(128)}
_ASCII_FOLDS = bytes(ord(_FOLDS[i]) for i in range(128)) + b" " * 128  # the same, for bytes.translate
_LEARNING = threading.Lock()


def _learn(chars: set[str]) -> None:
    """Ask SQLite's tokenizer what it makes of each of `chars`, by indexing `x<char>x` for each."""
    with _LEARNING:
        chars = {c for c in chars if ord(c) not in _FOLDS}
        if not chars:
            return
        learnt: dict[int, str] = {}
        storable = []
        for c in chars:
            try:
                c.encode()
                storable.append(c)
            except UnicodeEncodeError:  # a lone surrogate: SQLite can store no text that holds one
                learnt[ord(c)] = " "
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute(f'CREATE VIRTUAL TABLE t USING fts5(x, tokenize = "{TOKENIZER}")')
            conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, instance)")
            conn.executemany("INSERT INTO t(rowid, x) VALUES (?, ?)", [(ord(c), f"x{c}x") for c in storable])
            words: dict[int, list[tuple[int, str]]] = {}
            for point, offset, term in conn.execute("SELECT doc, offset, term FROM v"):
                words.setdefault(point, []).append((offset, term))
        finally:
            conn.close()
        for c in storable:
            terms = [term for _, term in sorted(words.get(ord(c), []))]
            learnt[ord(c)] = terms[0][1:-1] if len(terms) == 1 else " "
        _FOLDS.update(learnt)


def folded(text: str) -> str:
    """`text` as the tokenizer reads it: word characters folded, every other character a space."""
    if text.isascii():
        return text.encode("ascii").translate(_ASCII_FOLDS).decode("ascii")
    missing = {c for c in text if ord(c) not in _FOLDS}
    if missing:
        _learn(missing)
    return text.translate(_FOLDS)


def fts_words(text: str) -> list[str]:
    """The words (tokens) the tokenizer makes of `text`."""
    return folded(text).split()


def prefix_words(text: str) -> list[str]:
    """The words a customer search for `text` needs, each to be matched as the start of a word of the index.

    The tokenizer's words of `text` (or the digits of a phone number, as `search_words`), without repeats and
    without words that another word implies (`jan jansen` needs only `jansen`).
    """
    phone = phone_digits(text)
    words = list(dict.fromkeys([phone] if phone else fts_words(text)))
    return [w for w in words if not any(o != w and o.startswith(w) for o in words)]
