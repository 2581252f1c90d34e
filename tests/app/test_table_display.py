"""AppTests of components.tables.data_table: locale formats on screen, numbers underneath
(so a header click sorts 9.000 ₫ before 100.000 ₫), empty cells for missing values, big
tables as text."""

from __future__ import annotations

import pandas as pd
from streamlit import dataframe_util
from streamlit.testing.v1 import AppTest


def _small_table(rows: int = 3) -> None:
    from decimal import Decimal

    import pandas as pd

    from components.tables import data_table

    names = ["a", None, "c"] * (rows // 3)
    frame = pd.DataFrame(
        {
            "name": names,
            "amount": [Decimal("9000"), Decimal("100000"), None] * (rows // 3),
            "share": [0.5, 0.25, 0.125] * (rows // 3),
            "year": [2026, 2025, 2024] * (rows // 3),
        }
    )
    data_table(
        frame,
        file_stem="t",
        key_prefix="t",
        formats={"amount": "money", "share": "percent", "year": "plain"},
    )


def _shown(at: AppTest) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """(the values the grid holds, the Styler's display values or None)."""
    table = at.dataframe[0]
    styler = table.proto.arrow_data.styler
    display = (
        dataframe_util.convert_arrow_bytes_to_pandas_df(styler.display_values)
        if styler.display_values
        else None
    )
    return table.value, display


def test_numbers_stay_numbers_and_show_in_the_locale() -> None:
    at = AppTest.from_function(_small_table)
    at.query_params["lang"] = "vi"
    at.run()
    assert not at.exception
    values, display = _shown(at)
    # The grid sorts on these: numbers, not "100.000 ₫" < "9.000 ₫" as text.
    assert [float(v) for v in values["amount"][:2]] == [9000.0, 100000.0]
    assert list(values["share"]) == [0.5, 0.25, 0.125]
    assert display is not None
    assert list(display["amount"]) == ["9.000 ₫", "100.000 ₫", ""]
    assert list(display["share"]) == ["50,0%", "25,0%", "12,5%"]
    assert list(display["year"]) == ["2026", "2025", "2024"]
    # Missing values are empty cells, not the grid's "None".
    assert at.dataframe[0].proto.placeholder == ""


def test_english_formats() -> None:
    at = AppTest.from_function(_small_table)
    at.query_params["lang"] = "en"
    at.run()
    _, display = _shown(at)
    assert display is not None
    assert list(display["amount"])[:2] == ["₫9,000", "₫100,000"]


def test_a_big_table_is_written_as_text() -> None:
    # 24,000 cells: over the styled limit
    at = AppTest.from_function(_small_table, kwargs={"rows": 6_000})
    at.query_params["lang"] = "vi"
    at.run()
    assert not at.exception
    values, display = _shown(at)
    assert display is None
    assert list(values["amount"][:3]) == ["9.000 ₫", "100.000 ₫", ""]
    assert len(values) == 6_000
