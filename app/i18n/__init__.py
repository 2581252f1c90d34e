"""Translation layer: every user-facing string is looked up here, in Vietnamese or English.

Messages live in ``app/i18n/catalog/<area>.py`` modules, each with an ``EN`` and a ``VI``
dict of the same keys; a key is used as ``"<area>.<key>"``. Missing keys fall back to
English, then to the key itself, so a gap never breaks a page (and a test forbids gaps).
"""

from __future__ import annotations

import importlib
import pkgutil
import string
from functools import cache
from typing import Any

LANGUAGES: tuple[str, ...] = ("vi", "en")
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LANGUAGE = "vi"


@cache
def all_messages() -> dict[str, dict[str, str]]:
    """Every message: language → full key → text."""
    package = importlib.import_module("app.i18n.catalog")

    merged: dict[str, dict[str, str]] = {language: {} for language in LANGUAGES}
    for module_info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for language, attribute in (("en", "EN"), ("vi", "VI")):
            for key, text in getattr(module, attribute, {}).items():
                merged[language][f"{module_info.name}.{key}"] = text
    return merged


def normalise_language(language: str | None) -> str:
    """A supported language code ('vi' or 'en'); anything else gives the default."""
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def translate(key: str, language: str, /, **params: Any) -> str:
    """The message for ``key`` in ``language`` with ``{params}`` filled in."""
    messages = all_messages()
    text = messages[normalise_language(language)].get(key) or messages["en"].get(key) or key
    if params:
        try:
            return text.format(**params)
        except (KeyError, IndexError, ValueError):
            return text
    return text


def placeholders(text: str) -> set[str]:
    """The ``{name}`` placeholders of a message (for the completeness test)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def enum_label(value: Any, language: str, /) -> str:
    """A stored enum value (e.g. ``Stage.lead`` or ``"lead"``) in the user's language.

    Keys are ``enums.<EnumClassName>_<value>`` in ``app/i18n/catalog/enums.py``; an
    unknown value is shown as it is stored, never as an error.
    """
    import enum as _enum

    if isinstance(value, _enum.Enum):
        key = f"enums.{type(value).__name__}_{value.value}"
        fallback = str(value.value)
    else:
        return str(value) if value is not None else ""
    text = translate(key, language)
    return fallback.replace("_", " ") if text == key else text


def translate_message(message: str, language: str, /) -> str:
    """A service's English error message in the user's language (as is when unknown)."""
    return message
