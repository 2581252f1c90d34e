"""Fuzz the customer importer with random files mixing valid and invalid rows (SQLite).

For every generated file, on a fresh database holding one customer:
- ``dry_run`` (atomic or not) changes nothing;
- ``atomic`` (all or nothing) changes nothing when any row is bad, and otherwise writes
  exactly the file's rows;
- the default mode writes exactly the valid rows, and reports every invalid row by its
  spreadsheet row number (header = row 1) and column.
"""

from __future__ import annotations

import csv
import io
import shutil
import uuid
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session, select

from app.db import create_raw_engine
from app.models import Customer
from app.transfer import import_file
from tests.unit.factories import SYSTEM, make_customer
from tests.unit.test_bad_input import snapshot

HEADER = ["code", "name", "email", "birth_year", "is_foreign", "owner"]
EXISTING_CODE = "KH000001"

# What makes a row invalid, and the column the report must name ("" = the whole row).
INVALID_KINDS = {
    "empty_name": "name",
    "long_name": "name",
    "bad_code": "code",
    "bad_email": "email",
    "old_birth_year": "birth_year",
    "text_birth_year": "birth_year",
    "bad_bool": "is_foreign",
    "unknown_owner": "owner",
    "ragged": "",
}

# Names: any printable text (Vietnamese, emoji, quotes, delimiters, markup) without
# control characters; the importer strips outer whitespace, so do we.
NAME_ALPHABET = st.characters(
    blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
    blacklist_characters="\u0085\ufeff",
)
names = st.one_of(
    st.text(NAME_ALPHABET, min_size=1, max_size=60).filter(lambda text: text.strip()),
    st.sampled_from(
        [
            "Cty TNHH Thanh Phú",
            "Nguyễn Văn An 😀",
            "'; DROP TABLE customer; --",
            "<script>alert(1)</script>",
            '**Đậm**, "trích dẫn"; tab\tở giữa',
            "=1+1",
        ]
    ),
)
row_specs = st.tuples(
    st.sampled_from(["valid"] * 3 + sorted(INVALID_KINDS)),
    names,
    st.booleans(),  # with an e-mail
    st.one_of(st.none(), st.integers(1900, 2100)),
    st.sampled_from(["", "true", "false", "có", "không"]),
)


def build_file(specs: list[tuple]) -> tuple[bytes, dict[str, tuple], dict[int, str]]:
    """The CSV bytes, the expected valid rows {code: (name, email, birth_year)} and the
    invalid rows {row number: column}."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    valid: dict[str, tuple] = {}
    invalid: dict[int, str] = {}
    for index, (kind, name, with_email, birth_year, is_foreign) in enumerate(specs):
        code = f"KH9{index:05d}"
        email = f"kh{index}@example.vn" if with_email else ""
        year = "" if birth_year is None else str(birth_year)
        cells = [code, name, email, year, is_foreign, ""]
        if kind == "empty_name":
            cells[1] = "   "
        elif kind == "long_name":
            cells[1] = "Đ" * 201
        elif kind == "bad_code":
            cells[0] = f"KH 9{index:05d}"
        elif kind == "bad_email":
            cells[2] = "không phải email"
        elif kind == "old_birth_year":
            cells[3] = "1899"
        elif kind == "text_birth_year":
            cells[3] = "năm ngoái"
        elif kind == "bad_bool":
            cells[4] = "có lẽ"
        elif kind == "unknown_owner":
            cells[5] = "nobody_here"
        elif kind == "ragged":
            cells.append("thừa")
        writer.writerow(cells)
        row_no = index + 2
        if kind == "valid":
            valid[code] = (name.strip(), email or None, birth_year)
        else:
            invalid[row_no] = INVALID_KINDS[kind]
    return buffer.getvalue().encode("utf-8"), valid, invalid


def stored_customers(session: Session) -> dict[str, tuple]:
    session.expire_all()
    return {
        c.code: (c.name, c.email, c.birth_year)
        for c in session.exec(select(Customer).where(Customer.code != EXISTING_CODE)).all()
    }


def run_import(session: Session, data: bytes, **kwargs):  # noqa: ANN201
    result = import_file(
        session=session, actor=SYSTEM, entity="customers", data=data, filename="kh.csv", **kwargs
    )
    session.rollback()
    return result


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=st.lists(row_specs, min_size=1, max_size=12))
def test_random_customer_files(specs: list[tuple], sqlite_template: Path, tmp_path: Path) -> None:
    data, valid, invalid = build_file(specs)
    path = tmp_path / f"{uuid.uuid4().hex}.db"
    shutil.copyfile(sqlite_template, path)
    engine = create_raw_engine(f"sqlite:///{path}")
    try:
        with Session(engine, expire_on_commit=False) as session:
            make_customer(session, code=EXISTING_CODE, name="Khách có sẵn")
            before = snapshot(session)

            for atomic in (True, False):
                dry = run_import(session, data, dry_run=True, atomic=atomic)
                assert not dry.written
                assert snapshot(session) == before, "dry run changed the database"
                assert {e.row for e in dry.errors} == set(invalid)

            atomic_result = run_import(session, data, atomic=True)
            if invalid:
                assert not atomic_result.written
                assert snapshot(session) == before, "a rejected file changed the database"
                result = run_import(session, data)
            else:
                result = atomic_result

            assert result.written
            assert result.inserted == len(valid)
            assert stored_customers(session) == valid
            reported: dict[int, set[str]] = {}
            for error in result.errors:
                assert error.message.strip()
                reported.setdefault(error.row, set()).add(error.column)
            assert set(reported) == set(invalid)
            for row_no, column in invalid.items():
                assert column in reported[row_no], (row_no, column, result.errors)
    finally:
        engine.dispose()
