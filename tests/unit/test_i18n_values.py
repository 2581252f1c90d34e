"""Stored enum values and service error messages are shown in the user's language."""

from __future__ import annotations

import ast
import enum
import inspect
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import models
from app.i18n import all_messages, enum_label, enum_value_label, translate_message
from app.services import access

ROOT = Path(__file__).resolve().parents[2]

# Exceptions whose message reaches a user (the screen, the import report or the terminal).
ERROR_CALLS = {
    "InvalidInput",
    "Conflict",
    "NotFound",
    "PermissionDenied",
    "DatabaseUnavailable",
    "FileError",
}
# ValueError is a user message only inside pydantic validators and import cell parsers.
VALUE_ERROR_MODULES = {"app/models.py", "app/transfer.py"}
MESSAGE_KEYWORDS = {"message", "conflict_message"}


def _str_enums() -> list[type[enum.Enum]]:
    found = [
        member
        for module in (models, access)
        for _, member in inspect.getmembers(module, inspect.isclass)
        if issubclass(member, str) and issubclass(member, enum.Enum) and member is not enum.Enum
    ]
    return sorted(set(found), key=lambda cls: cls.__name__)


def test_every_member_of_every_str_enum_has_a_label_in_both_languages() -> None:
    messages = all_messages()
    enums = _str_enums()
    assert {"Stage", "Severity", "Role", "Permission", "AuditAction"} <= {e.__name__ for e in enums}
    for enum_class in enums:
        for member in enum_class:
            key = f"enums.{enum_class.__name__}_{member.value}"
            assert messages["en"].get(key), key
            assert messages["vi"].get(key), key


def test_enum_labels_by_member_and_by_stored_value() -> None:
    assert enum_label(models.Stage.won, "vi") == "Thành công"
    assert enum_label(models.Stage.won, "en") == "Won"
    assert enum_label(models.ComplaintStatus.in_progress, "vi") == "Đang xử lý"
    assert enum_value_label(models.Severity, "critical", "vi") == "Nghiêm trọng"
    assert enum_value_label(models.Severity, models.Severity.low, "en") == "Low"
    # Values the enum does not know are shown as stored, never an error.
    assert enum_value_label(models.Severity, "urgent", "vi") == "urgent"
    assert enum_value_label(models.Severity, None, "vi") == ""
    assert enum_label("plain text", "vi") == "plain text"


# --------------------------------------------------------------------------- messages
def _module_constants(tree: ast.Module) -> dict[str, list[ast.expr]]:
    """Every value assigned to each plain name in the module (constants and locals alike)."""
    constants: dict[str, list[ast.expr]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                constants.setdefault(target.id, []).append(node.value)
    return constants


def _samples(node: ast.expr, constants: dict[str, list[ast.expr]]) -> Iterator[str]:
    """The message texts an expression can produce; an interpolated value becomes "7"/'X'."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        text = ""
        for part in node.values:
            if isinstance(part, ast.Constant):
                text += str(part.value)
            else:
                assert isinstance(part, ast.FormattedValue)
                # Placeholders standing for one token get a number; quoted ones a repr.
                text += "'X'" if part.conversion == ord("r") else "7"
        yield text
    elif isinstance(node, ast.Dict):
        for value in node.values:
            yield from _samples(value, constants)
    elif isinstance(node, ast.DictComp):
        yield from _samples(node.value, constants)
    elif isinstance(node, ast.IfExp):
        yield from _samples(node.body, constants)
        yield from _samples(node.orelse, constants)
    elif isinstance(node, ast.Name):
        for value in constants.get(node.id, []):
            yield from _samples(value, constants)


def raised_messages() -> set[tuple[str, str]]:
    """(module, message) for every literal user message raised or returned as an error in app/."""
    found: set[tuple[str, str]] = set()
    for path in sorted((ROOT / "app").rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        constants = _module_constants(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                sources: list[ast.expr] = []
                if name in ERROR_CALLS or (name == "ValueError" and module in VALUE_ERROR_MODULES):
                    sources = list(node.args[:1])
                elif name == "RowError" and len(node.args) >= 3:
                    sources = [node.args[2]]
                sources += [kw.value for kw in node.keywords if kw.arg in MESSAGE_KEYWORDS]
                for source in sources:
                    found.update((module, text) for text in _samples(source, constants))
            elif isinstance(node, ast.Assign):
                # errors["field"] = "message" in services that collect several errors.
                target = node.targets[0]
                if isinstance(target, ast.Subscript) and getattr(target.value, "id", "") in {
                    "errors",
                    "missing",
                }:
                    found.update((module, text) for text in _samples(node.value, constants))
    return found


def test_the_collector_finds_the_messages_of_all_kinds_of_raise() -> None:
    texts = {text for _, text in raised_messages()}
    assert "Wrong username or password." in texts  # a module constant
    assert "7 7 does not exist." in texts  # an f-string
    assert "must be a whole number between 3 and 10" in texts  # errors[...] = ...
    assert "is not a number" in texts  # ValueError in an import parser
    assert "refers to a record that does not exist" in texts  # a dict comprehension
    assert len(texts) > 80


def test_every_message_raised_in_app_has_a_vietnamese_translation() -> None:
    untranslated = sorted(
        f"{module}: {text!r}"
        for module, text in raised_messages()
        if text.strip() and translate_message(text, "vi") == text
    )
    assert not untranslated, "\n".join(untranslated)


def test_permission_verbs_and_lock_messages_translate() -> None:
    from app.auth import lock_message

    for verb in access._VERBS.values():
        assert translate_message(f"Your role (staff) is not allowed to {verb}.", "vi").endswith(".")
        assert verb not in translate_message(f"Your role (staff) is not allowed to {verb}.", "vi")
    moment = models.utcnow()
    import datetime as dt

    for minutes in (1, 5):
        text = lock_message(moment + dt.timedelta(minutes=minutes), moment)
        assert translate_message(text, "vi") == (
            f"Tài khoản bị khóa thêm {minutes} phút do đăng nhập sai quá nhiều lần."
        )


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("is required", "là bắt buộc"),
        ("must have at most 40 characters", "chỉ được có tối đa 40 ký tự"),
        ("must be greater than 0", "phải lớn hơn 0"),
        (
            "must be one of small, medium, large",
            "phải là một trong các giá trị: small, medium, large",
        ),
        ("Survey answer 12 does not exist.", "Câu trả lời khảo sát 12 không tồn tại."),
        ("Customer 3 does not exist.", "Khách hàng 3 không tồn tại."),
        (
            "Your role (executive) is not allowed to create or change records.",
            "Vai trò của bạn (Lãnh đạo) không được phép tạo hoặc sửa bản ghi.",
        ),
        ("the opportunity is already lost", "cơ hội đã kết thúc ở giai đoạn Thất bại"),
        ("A customer with code KH-001 already exists.", "Đã có khách hàng mã KH-001."),
        ("unknown product code 'SP 9'", "mã sản phẩm không xác định: 'SP 9'"),
        ("unknown customer code 'KH-9'", "mã khách hàng không xác định: 'KH-9'"),
        ("has 4 values but the header has 6", "có 4 giá trị nhưng dòng tiêu đề có 6"),
        (
            "Invalid input: name: must not be empty; end_date: end date must not be before "
            "the start date",
            "Dữ liệu không hợp lệ: name: không được để trống; end_date: ngày kết thúc không "
            "được trước ngày bắt đầu",
        ),
    ],
)
def test_parametrised_messages_translate_with_their_values(message: str, expected: str) -> None:
    assert translate_message(message, "vi") == expected
    assert translate_message(message, "en") == message


def test_unknown_messages_pass_through() -> None:
    for text in ("", "disk full", "Input should be something new"):
        assert translate_message(text, "vi") == text


def test_errors_from_validation_translate_field_by_field() -> None:
    from pydantic import ValidationError

    from app.errors import from_validation_error

    with pytest.raises(ValidationError) as caught:
        models.CustomerCreate.model_validate({"name": "", "code": "x" * 200})
    errors = from_validation_error(caught.value).field_errors
    for text in errors.values():
        assert translate_message(text, "vi") != text, text


def test_no_two_message_templates_are_the_same() -> None:
    from app.i18n.catalog import messages

    for (key_a, a), (key_b, b) in itertools.combinations(messages.EN.items(), 2):
        assert a != b, (key_a, key_b)
