"""Translation layer: every user-facing string is looked up here, in Vietnamese or English.

Messages live in ``app/i18n/catalog/<area>.py`` modules, each with an ``EN`` and a ``VI``
dict of the same keys; a key is used as ``"<area>.<key>"``. Missing keys fall back to
English, then to the key itself, so a gap never breaks a page (and a test forbids gaps).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
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


def enum_value_label(enum_class: type[Any], value: Any, language: str, /) -> str:
    """A stored value (``"lead"``, read from a frame or a URL) as its member's label."""
    if value is None or (isinstance(value, float) and value != value):  # None or NaN
        return ""
    try:
        member = value if isinstance(value, enum_class) else enum_class(value)
    except ValueError:
        return str(value)
    return enum_label(member, language)


def enum_labels(enum_class: type[Any], language: str, /) -> dict[str, str]:
    """Stored value → label for every member of ``enum_class`` (for charts and option lists)."""
    return {member.value: enum_label(member, language) for member in enum_class}


# Placeholders of message templates that hold one token (a record id, a count): matching
# them narrowly keeps "Survey answer 5 does not exist." from splitting inside the label.
_TOKEN_PLACEHOLDERS = frozenset({"key", "n", "minutes", "count", "width", "row", "size"})
# Placeholders whose value is a stored enum value, shown with its label.
_ENUM_PLACEHOLDERS = {"role": "Role", "stage": "Stage"}


@cache
def _message_templates() -> tuple[dict[str, str], tuple[tuple[re.Pattern[str], str], ...]]:
    """English message → key for fixed messages, and (regex, key) for parametrised ones."""
    from app.i18n.catalog import messages

    exact: dict[str, str] = {}
    patterns: list[tuple[int, re.Pattern[str], str]] = []
    for key, text in messages.EN.items():
        names = placeholders(text)
        if not names:
            exact[text] = key
            continue
        regex, literal = "", 0
        for prefix, name, _, _ in string.Formatter().parse(text):
            regex += re.escape(prefix)
            literal += len(prefix)
            if name:
                body = (
                    r"\S+"
                    if name in _TOKEN_PLACEHOLDERS
                    else r"'[^']*'|\"[^\"]*\""  # a value shown with !r
                    if name == "quoted"
                    else r".+?"
                )
                regex += f"(?P<{name}>{body})"
        patterns.append((literal, re.compile(regex, re.DOTALL), key))
    # The most specific template first: "unknown customer code {code}" before
    # "unknown {what} {quoted}".
    patterns.sort(key=lambda item: -item[0])
    return exact, tuple((pattern, key) for _, pattern, key in patterns)


def _message_parameter(name: str, value: str, language: str) -> str:
    if name == "details":
        # InvalidInput's summary "field: message; field: message" (see app/errors.py).
        parts = re.split(r"; (?=[\w.\[\]]+: )", value)
        translated = []
        for part in parts:
            field, sep, text = part.partition(": ")
            translated.append(f"{field}{sep}{translate_message(text, language)}" if sep else part)
        return "; ".join(translated)
    if name in _ENUM_PLACEHOLDERS:
        from app import models

        return enum_value_label(getattr(models, _ENUM_PLACEHOLDERS[name]), value, language)
    exact, _ = _message_templates()
    key = exact.get(value)
    return translate(f"messages.{key}", language) if key else value


def translate_message(message: str, language: str, /) -> str:
    """A service's English error message in the user's language (as is when unknown).

    Messages are matched against the English templates of ``catalog/messages.py``; a
    ``{name}`` part takes the service's value (itself translated when it is a known
    phrase or a stored enum value).
    """
    language = normalise_language(language)
    if language == "en" or not message:
        return message
    exact, patterns = _message_templates()
    if message in exact:
        return translate(f"messages.{exact[message]}", language)
    for pattern, key in patterns:
        match = pattern.fullmatch(message)
        if match:
            params = {
                name: _message_parameter(name, value, language)
                for name, value in match.groupdict().items()
            }
            return translate(f"messages.{key}", language, **params)
    return message
