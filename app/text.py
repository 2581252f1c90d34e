"""Text folding for comparing Vietnamese names: case, diacritics, spaces, company forms.

``fold("Cty TNHH Thanh Phú") == fold("CONG TY TNHH THANH PHU") == "cty-tnhh thanh phu"``.
"""

from __future__ import annotations

import re
import unicodedata

# Longest first: the first match at the start of a folded name is replaced.
_COMPANY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("cong ty trach nhiem huu han", "cty-tnhh"),
    ("cong ty co phan", "cty-cp"),
    ("cong ty tnhh", "cty-tnhh"),
    ("cong ty cp", "cty-cp"),
    ("cty co phan", "cty-cp"),
    ("cty tnhh", "cty-tnhh"),
    ("cty cp", "cty-cp"),
    ("ctcp", "cty-cp"),
    ("ct tnhh", "cty-tnhh"),
    ("tnhh", "cty-tnhh"),
    ("cong ty", "cty"),
    ("cty", "cty"),
)
_PUNCTUATION = re.compile(r"[.,;:!?\"'`()\[\]{}/\\|_*#&+]+")
_SPACES = re.compile(r"\s+")
# Letters that carry Vietnamese diacritics once folded (and d from đ): in a SQL LIKE
# pattern they become "_" so that one pattern matches every accented spelling.
_ACCENTABLE = set("aeiouyd")


def strip_diacritics(text: str) -> str:
    """``text`` without combining marks; đ/Đ become d/D."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str | None, *, company: bool = True) -> str:
    """Lower-case, diacritics removed, punctuation dropped, whitespace collapsed; with
    ``company`` (the default) a leading company form becomes one canonical token
    ("cong ty tnhh", "cty tnhh", "tnhh" → "cty-tnhh"; "ctcp", "cong ty co phan" → "cty-cp")."""
    if not text:
        return ""
    folded = strip_diacritics(str(text)).lower()
    folded = _SPACES.sub(" ", _PUNCTUATION.sub(" ", folded)).strip()
    if company:
        for prefix, token in _COMPANY_PREFIXES:
            if folded == prefix or folded.startswith(prefix + " "):
                folded = token + folded[len(prefix) :]
                break
    return folded


def significant_words(folded: str) -> list[str]:
    """The words of a folded name without the canonical company token."""
    return [word for word in folded.split() if not word.startswith("cty")]


def like_skeleton(folded: str) -> str:
    """A LIKE pattern body matching any accented spelling of a folded text.

    Vowels and d become the one-character wildcard ``_`` (an accented vowel or đ is one
    character in NFC), consonants stay; a space becomes ``%`` because folding turned any
    run of punctuation and spaces into one space ("alert(1)" folds to "alert 1"). LIKE's
    own specials (``%`` and the backslash, PostgreSQL's default escape) are dropped. Compare with
    ``ILIKE`` for case; the exact folded match is checked in Python.
    """
    pattern = []
    for char in folded:
        if char in "%\\":
            continue
        pattern.append("_" if char in _ACCENTABLE else "%" if char == " " else char)
    return "".join(pattern)


def without_control_characters(text: str) -> str:
    """``text`` without control characters (NUL and friends never belong in a search,
    and PostgreSQL refuses NUL in any string)."""
    return "".join(char for char in text if ord(char) >= 32 and ord(char) != 127)


def phone_digits(text: str | None) -> str:
    """Only the digits of ``text``."""
    return "".join(char for char in str(text or "") if char.isdigit())


def normalise_phone(text: str | None) -> str:
    """A comparable phone number: digits only, international 84/0084 prefix → 0."""
    digits = phone_digits(text)
    if digits.startswith("0084"):
        digits = "0" + digits[4:]
    elif digits.startswith("84") and len(digits) >= 11:
        digits = "0" + digits[2:]
    return digits
