"""Errors meant for users: each carries a message a person can act on."""

from __future__ import annotations

from pydantic import ValidationError


class CRMError(Exception):
    """Base class for errors whose message is shown to the user as is."""


class DatabaseUnavailable(CRMError):
    """The database cannot be opened or prepared."""


class NotFound(CRMError):
    """A referenced record does not exist."""


class Conflict(CRMError):
    """The change conflicts with existing data (e.g. a duplicate code)."""


class PermissionDenied(CRMError):
    """The acting user's role does not allow this."""


class InvalidInput(CRMError):
    """Input failed validation; ``field_errors`` maps each field to what is wrong."""

    def __init__(self, field_errors: dict[str, str]):
        self.field_errors = dict(field_errors)
        summary = "; ".join(f"{field}: {msg}" for field, msg in self.field_errors.items())
        super().__init__(f"Invalid input: {summary}")


def _humanise(error: dict) -> str:
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    if kind == "missing":
        return "is required"
    if kind == "string_too_short":
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else (f"must have at least {ctx.get('min_length')} characters")
        )
    if kind == "string_too_long":
        return f"must have at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return "has an invalid format"
    if kind in {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}:
        bound = {
            "greater_than": "greater than",
            "greater_than_equal": "at least",
            "less_than": "less than",
            "less_than_equal": "at most",
        }[kind]
        limit = next(iter(ctx.values()), "")
        return f"must be {bound} {limit}"
    if kind == "enum":
        return f"must be one of {ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", error.get("msg", "is invalid")))
    return str(error.get("msg", "is invalid"))


def from_validation_error(exc: ValidationError) -> InvalidInput:
    """Turn a pydantic ValidationError into field-by-field messages."""
    field_errors: dict[str, str] = {}
    for error in exc.errors():
        location = ".".join(str(part) for part in error.get("loc", ())) or "input"
        field_errors.setdefault(location, _humanise(error))
    return InvalidInput(field_errors)
