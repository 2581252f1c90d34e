"""Tables with CSV and Excel downloads: every table a page shows can be taken away."""

from __future__ import annotations

import enum
import functools
import io
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd
import streamlit as st
from babel.numbers import format_decimal
from pandas.io.formats.style import Styler

from app import formatting as fmt
from app.i18n import enum_labels
from components.i18n import current_language, t

# How a number column is shown: "money" (1.234.567 ₫), "percent" (a fraction as 12,3%),
# "integer" (1.234.568), "number" (1.234.567,5, up to two decimals), "decimal1"/"decimal2"
# (fixed places) and "plain" (a year or an id: no grouping).
NUMBER_FORMATS = ("money", "percent", "integer", "number", "decimal1", "decimal2", "plain")


def format_number_cell(value: Any, kind: str, language: str) -> str:
    """One cell in the locale's format; a missing value is an empty cell."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return str(value)
    if not number.is_finite():
        return str(value)
    if kind == "money":
        return fmt.money(number, language)
    if kind == "percent":
        return fmt.percent(number, language)
    if kind == "integer":
        return fmt.number(round(number), language)
    if kind == "decimal1":
        return fmt.number(number, language, places=1)
    if kind == "decimal2":
        return fmt.number(number, language, places=2)
    if kind == "plain":
        return str(int(number)) if number == number.to_integral_value() else str(number)
    locale = fmt.LOCALES.get(language, fmt.LOCALES["vi"])
    return format_decimal(number, format="#,##0.##", locale=locale)


def localise_numbers(
    frame: pd.DataFrame, formats: Mapping[str, str], language: str
) -> pd.DataFrame:
    """A display copy with the ``formats`` columns as the locale's text (downloads keep
    the numbers): the grid's own formats follow the browser's locale, not the user's
    language, so ``1.234.567,5`` in Vietnamese must be written here."""
    shown = frame.copy()
    for column, kind in formats.items():
        if column in shown.columns:
            shown[column] = pd.Series(
                [format_number_cell(value, kind, language) for value in shown[column]],
                index=shown.index,
                dtype=object,
            )
    return shown


# Above this many cells a table's numbers are written as text (sorting as text): sending
# display values costs ~5 ms per 1,000 cells, and Streamlit refuses a Styler of more than
# pandas' styler.render.max_elements cells.
STYLED_CELLS_LIMIT = 20_000


def styled_numbers(frame: pd.DataFrame, formats: Mapping[str, str], language: str) -> Styler:
    """The frame with the ``formats`` columns displayed in the locale's format while the
    grid keeps their numbers, so a click on the header sorts 9.000 ₫ before 10.000 ₫.

    ``st.dataframe`` shows a pandas Styler's display values over the numbers it holds, and
    reads them through ``Styler._translate``. pandas' own rendering of every cell cost
    80 ms for a 1,000 × 10 table (measured), so this Styler answers with the formatted
    cells only. Streamlit accepts only the Styler class itself (not a subclass), hence the
    two methods replaced on the instance; Streamlit 1.67's marshall_styler calls
    ``_compute()`` then ``_translate(False, False)``, and tests/app/test_table_display.py
    fails if an upgrade reads them differently.
    """
    display = {
        frame.columns.get_loc(column): [
            format_number_cell(value, kind, language) for value in frame[column]
        ]
        for column, kind in formats.items()
        if column in frame.columns
    }
    rows = len(frame)

    def translate(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {
            "body": [
                [
                    {"id": f"row{row}_col{column}", "display_value": texts[row]}
                    for column, texts in display.items()
                ]
                for row in range(rows)
            ]
        }

    styler = Styler(frame)
    styler._compute = lambda: styler  # type: ignore[method-assign]
    styler._translate = translate  # type: ignore[method-assign]
    return styler


def _styleable(frame: pd.DataFrame) -> bool:
    return frame.size <= STYLED_CELLS_LIMIT and frame.columns.is_unique and frame.index.is_unique


def _is_numeric(series: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(series):
        return False
    if pd.api.types.is_numeric_dtype(series):
        return True
    return all(
        isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
        for value in series.dropna()
    )


def _format_of(config: Any) -> str | None:
    """The NUMBER_FORMATS kind a NumberColumn's grid format stands for, if any."""
    if not isinstance(config, Mapping):
        return None
    type_config = config.get("type_config") or {}
    if type_config.get("type") != "number":
        return None
    grid_format = type_config.get("format")
    if grid_format in NUMBER_FORMATS:
        return grid_format
    known = {
        "localized": "number",
        "percent": "percent",
        "%d": "plain",
        "%.0f": "integer",
        "%.1f": "decimal1",
        "%.2f": "decimal2",
    }
    return known.get(grid_format)


def translate_enum_columns(
    frame: pd.DataFrame,
    columns: Mapping[str, type[enum.Enum]],
    language: str | None = None,
) -> pd.DataFrame:
    """A copy of ``frame`` with the stored enum values of ``columns`` as their labels
    (``{"stage": Stage}``: "won" → "Thành công"); unknown values are kept as stored."""
    language = language or current_language()
    shown = frame.copy()
    for column, enum_class in columns.items():
        if column not in shown.columns:
            continue
        labels = enum_labels(enum_class, language)
        shown[column] = pd.Series(
            [
                labels.get(value.value if isinstance(value, enum.Enum) else value, value)
                if isinstance(value, str)
                else value
                for value in shown[column]
            ],
            index=shown.index,
            dtype=object,
        )
    return shown


def to_excel_bytes(frame: pd.DataFrame, *, sheet_name: str = "data") -> bytes:
    """The frame as an .xlsx file (openpyxl); time zones dropped, which Excel cannot hold."""
    export = frame.copy()
    for column in export.columns:
        if isinstance(export[column].dtype, pd.DatetimeTZDtype):
            export[column] = export[column].dt.tz_localize(None)
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        export.to_excel(
            writer, index=False, sheet_name=re.sub(r"[\[\]:*?/\\]", "_", sheet_name)[:31] or "data"
        )
    return buffer.getvalue()


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV with a byte-order mark, so Excel shows Vietnamese correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def download_buttons(frame: pd.DataFrame, *, file_stem: str, key_prefix: str) -> None:
    """CSV and Excel download buttons for a frame; the files are built when clicked.

    Building an .xlsx costs ~0.15 s per table with openpyxl, so building every table's
    files on every run made warm page runs slow; Streamlit calls these on click.
    """
    left, right = st.columns(2)
    left.download_button(
        t("common.download_csv"),
        data=functools.partial(to_csv_bytes, frame),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"{key_prefix}_csv",
        # A download changes nothing on the page: no rerun.
        on_click="ignore",
        icon=":material/download:",
    )
    right.download_button(
        t("common.download_excel"),
        data=functools.partial(to_excel_bytes, frame, sheet_name=file_stem),
        file_name=f"{file_stem}.xlsx",
        key=f"{key_prefix}_xlsx",
        on_click="ignore",
        icon=":material/table_view:",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def data_table(
    frame: pd.DataFrame,
    *,
    file_stem: str,
    key_prefix: str,
    column_config: dict | None = None,
    height: int | str = "auto",
    formats: Mapping[str, str] | None = None,
) -> None:
    """A read-only table with its downloads, or the empty-state note when it has no rows.

    Number columns named in ``formats`` (column → a NUMBER_FORMATS kind), and those whose
    ``column_config`` is a formatted NumberColumn, are shown in the user's locale
    (``1.234.567 ₫``) and still sort as numbers; the CSV and Excel downloads keep the
    numbers. Missing values show as empty cells, not the grid's "None".
    """
    if frame.empty:
        st.info(t("common.no_data") + " " + t("common.no_data_hint"), icon=":material/info:")
        return
    config = dict(column_config or {})
    kinds = {
        column: kind
        for column, kind in ((c, _format_of(v)) for c, v in config.items())
        if kind and column in frame.columns
    }
    kinds.update({c: k for c, k in (formats or {}).items() if c in frame.columns})
    language = current_language()
    shown = frame
    styled = _styleable(shown)
    numeric = {c: k for c, k in kinds.items() if styled and _is_numeric(shown[c])}
    as_text = {c: k for c, k in kinds.items() if c not in numeric}
    for column in kinds:
        old = config.get(column)
        if isinstance(old, Mapping):
            label, help_text = old.get("label"), old.get("help")
        else:
            label, help_text = (old if isinstance(old, str) else None), None
        column_type = (
            st.column_config.NumberColumn if column in numeric else st.column_config.TextColumn
        )
        config[column] = column_type(label, help=help_text, alignment="right")
    shown = localise_numbers(shown, as_text, language)
    st.dataframe(
        styled_numbers(shown, numeric, language) if numeric else shown,
        hide_index=True,
        width="stretch",
        column_config=config or None,
        height=height,
        key=f"{key_prefix}_table",
        placeholder="",  # a missing value is an empty cell, not the grid's "None"
    )
    download_buttons(frame, file_stem=file_stem, key_prefix=key_prefix)
