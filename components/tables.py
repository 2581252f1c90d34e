"""Tables with CSV and Excel downloads: every table a page shows can be taken away."""

from __future__ import annotations

import io
import re

import pandas as pd
import streamlit as st

from components.i18n import t


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
    """CSV and Excel download buttons for a frame."""
    left, right = st.columns(2)
    left.download_button(
        t("common.download_csv"),
        data=to_csv_bytes(frame),
        file_name=f"{file_stem}.csv",
        mime="text/csv",
        key=f"{key_prefix}_csv",
        icon=":material/download:",
    )
    right.download_button(
        t("common.download_excel"),
        data=to_excel_bytes(frame, sheet_name=file_stem),
        file_name=f"{file_stem}.xlsx",
        key=f"{key_prefix}_xlsx",
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
) -> None:
    """A read-only table with its downloads, or the empty-state note when it has no rows."""
    if frame.empty:
        st.info(t("common.no_data") + " " + t("common.no_data_hint"), icon=":material/info:")
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config=column_config,
        height=height,
        key=f"{key_prefix}_table",
    )
    download_buttons(frame, file_stem=file_stem, key_prefix=key_prefix)
