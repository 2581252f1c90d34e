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
    character in NFC), consonants stay; compare with ``ILIKE`` for case.
    """
    return "".join("_" if char in _ACCENTABLE else char for char in folded if char not in "%")


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
