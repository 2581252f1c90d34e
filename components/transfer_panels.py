"""Import and export panels of the Import & export page.

Import: upload, automatic column mapping the user can correct, a preview of the first
rows, then "Check" (a dry run) or "Import": every row is validated before anything is
written, with a progress bar; the result shows rows written, skipped as duplicates and
rejected (row, column, reason), the rejected rows downloadable as CSV. By default the
valid rows are written in one transaction; the "atomic" checkbox rejects the whole file
when any row is bad.

The last result is kept in session state with the signature of the import that made it,
so it survives reruns (changing a widget, downloading the report) and a second click on
"Import" with the same file and options within ``REPEAT_WINDOW_SECONDS`` shows it again
instead of importing twice.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pandas as pd
import streamlit as st
from sqlmodel import Session

from app import formatting as fmt
from app.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from app.services.access import Actor, Permission
from components.data import clear_entry_caches, clear_overview_cache, engine
from components.forms import REPEAT_WINDOW_SECONDS, localised, md_escape, show_field_errors
from components.i18n import current_language, t, tm

PREVIEW_ROWS = 10
SHOWN_ERRORS = 1000
RESULT_KEY = "import_form__result"

IMPORT_KEYS = {
    "header": "transfer.import_header",
    "entity": "transfer.import_entity",
    "file": "transfer.import_file",
    "preview": "transfer.import_preview",
    "mapping": "transfer.import_mapping",
    "not_mapped": "transfer.import_not_mapped",
    "on_duplicate": "transfer.import_on_duplicate",
    "on_duplicate_options": {
        "skip": "transfer.import_on_duplicate_options_skip",
        "update": "transfer.import_on_duplicate_options_update",
        "error": "transfer.import_on_duplicate_options_error",
    },
    "atomic": "transfer.import_atomic",
    "atomic_help": "transfer.import_atomic_help",
    "check": "transfer.import_check",
    "run": "transfer.import_run",
    "progress": "transfer.import_progress",
    "errors": "transfer.import_errors",
    "download_errors": "transfer.import_download_errors",
    "no_write": "transfer.import_no_write",
    "repeat": "transfer.import_repeat",
    "metric_rows": "transfer.result_rows",
    "metric_written": "transfer.result_written",
    "metric_skipped": "transfer.result_skipped",
    "metric_rejected": "transfer.result_rejected",
    "metric_written_help": "transfer.result_written_help",
    "column_row": "transfer.errors_row",
    "column_column": "transfer.errors_column",
    "column_reason": "transfer.errors_reason",
}
EXPORT_KEYS = {
    "header": "transfer.export_header",
    "entity": "transfer.export_entity",
    "prepare": "transfer.export_prepare",
    "csv": "transfer.export_csv",
    "xlsx": "transfer.export_xlsx",
    "ready": "transfer.export_ready",
}


def _entity_labels(specs: dict[str, Any]) -> dict[str, str]:
    """What each importable entity is called, in the session's language (the spec's own
    label when the catalog has none)."""
    labels = {}
    for name, spec in specs.items():
        key = f"transfer.entity_{name}"
        labels[name] = label if (label := t(key)) != key else (spec.label or name)
    return labels


def errors_report(result: Any, mapping: dict[str, str] | None = None) -> pd.DataFrame:
    """The rejected rows of an import result: row, column, reason, in the user's language.

    A column is named as in the file when the file calls it differently ("Tên (name)")."""
    text = localised(IMPORT_KEYS)
    headers = {column: header for header, column in (mapping or {}).items()}

    def column_label(column: str) -> str:
        header = headers.get(column)
        return f"{header} ({column})" if header and header != column else column

    return pd.DataFrame(
        [(error.row, column_label(error.column), tm(error.message)) for error in result.errors],
        columns=[text["column_row"], text["column_column"], text["column_reason"]],
    )


def _outcome(result: Any) -> tuple[str, str]:
    """(kind, message) summing up an import: success, warning, error or info."""
    rejected = len({error.row for error in result.errors})
    params = {"rejected": fmt.number(rejected, current_language())}
    if result.dry_run:
        return ("warning" if result.errors else "success"), t("transfer.outcome_dry_run", **params)
    if not result.written:
        return "error", t("transfer.outcome_rejected", **params)
    if result.errors:
        return "warning", t("transfer.outcome_partial", **params)
    return "success", t("transfer.outcome_ok")


def _show_import_result(result: Any, mapping: dict[str, str] | None = None) -> None:
    """Counts, an outcome message and the rejected rows (table and CSV download)."""
    text = localised(IMPORT_KEYS)
    language = current_language()
    rejected = len({error.row for error in result.errors})
    cards = st.columns(4)
    cards[0].metric(text["metric_rows"], fmt.number(result.rows, language), border=True)
    cards[1].metric(
        text["metric_written"],
        fmt.number(result.inserted + result.updated, language),
        help=text["metric_written_help"].format(
            inserted=fmt.number(result.inserted, language),
            updated=fmt.number(result.updated, language),
        ),
        border=True,
    )
    cards[2].metric(text["metric_skipped"], fmt.number(result.skipped, language), border=True)
    cards[3].metric(text["metric_rejected"], fmt.number(rejected, language), border=True)
    kind, message = _outcome(result)
    show = {"success": st.success, "warning": st.warning, "error": st.error}
    show[kind](message)  # catalogue text with numbers only: nothing to escape
    if not result.errors:
        return
    report = errors_report(result, mapping)
    st.caption(text["errors"])
    st.dataframe(report.head(SHOWN_ERRORS), hide_index=True, width="stretch", placeholder="")
    st.download_button(
        text["download_errors"],
        data=report.to_csv(index=False).encode("utf-8-sig"),
        file_name=f"{result.entity}_errors.csv",
        mime="text/csv",
        key="import_form_download_errors",
        # Downloading must not rerun the script: the report stays on screen as it is.
        on_click="ignore",
        icon=":material/download:",
    )


def _signature(upload: Any, data: bytes, entity: str, mapping: dict, options: tuple) -> str:
    """What identifies one import: this upload of the file (uploading it again is a new
    one), its bytes, the entity, the mapping and the options."""
    digest = hashlib.sha256(data)
    upload_id = getattr(upload, "file_id", upload.name)
    digest.update(repr((upload_id, entity, sorted(mapping.items()), options)).encode("utf-8"))
    return digest.hexdigest()


def import_panel(*, actor: Actor, url: str) -> None:
    """Upload, map columns, check (dry run), then import in one transaction."""
    from app.transfer import SPECS, auto_mapping, read_rows

    text = localised(IMPORT_KEYS)
    entity_labels = _entity_labels(SPECS)
    st.subheader(text["header"])
    if not actor.can(Permission.write):
        st.caption(text["no_write"])
        return
    entity = st.selectbox(
        text["entity"],
        list(SPECS),
        format_func=entity_labels.get,
        key="import_form_entity",
    )
    upload = st.file_uploader(
        text["file"], type=["csv", "txt", "tsv", "xlsx"], key="import_form_file"
    )
    if upload is None:
        st.session_state.pop(RESULT_KEY, None)
        return
    data = upload.getvalue()
    try:
        headers, rows = read_rows(data, upload.name)
    except InvalidInput as exc:
        show_field_errors(exc, {"file": t("transfer.file_label")})
        return
    st.caption(text["preview"])
    width = len(headers)
    preview = pd.DataFrame(
        [row[:width] + [""] * (width - len(row)) for row in rows[:PREVIEW_ROWS]],
        columns=[f"{index + 1}. {name}" for index, name in enumerate(headers)],
    )
    st.dataframe(preview, hide_index=True, width="stretch", placeholder="")
    guessed = {column: header for header, column in auto_mapping(entity, headers).items()}
    mapping: dict[str, str] = {}
    with st.expander(text["mapping"], expanded=len(guessed) < len(headers)):
        columns = st.columns(3)
        for index, col in enumerate(SPECS[entity].columns):
            options = [None, *headers]
            default = guessed.get(col.name)
            choice = columns[index % 3].selectbox(
                col.name,
                options,
                index=options.index(default) if default in options else 0,
                format_func=lambda value: text["not_mapped"] if value is None else value,
                key=f"import_form_map_{entity}_{col.name}",
            )
            if choice is not None:
                mapping[choice] = col.name
    left, right = st.columns(2)
    on_duplicate = left.radio(
        text["on_duplicate"],
        list(text["on_duplicate_options"]),
        format_func=text["on_duplicate_options"].get,
        key="import_form_on_duplicate",
    )
    atomic = right.checkbox(
        text["atomic"], value=False, help=text["atomic_help"], key="import_form_atomic"
    )
    left, right = st.columns(2)
    check = left.button(text["check"], key="import_form_check", icon=":material/rule:")
    run = right.button(text["run"], type="primary", key="import_form_run", icon=":material/upload:")
    signature = _signature(upload, data, entity, mapping, (on_duplicate, atomic))
    stored = st.session_state.get(RESULT_KEY)
    if stored and stored["signature"] != signature:
        stored = None  # another file, entity, mapping or option: the result no longer applies
        st.session_state.pop(RESULT_KEY, None)
    if run and stored and stored["signature"] == signature and stored["result"].written:
        if time.monotonic() - stored["at"] < REPEAT_WINDOW_SECONDS:
            # A double click or a browser retry: the file was just imported.
            st.info(text["repeat"], icon=":material/info:")
            _show_import_result(stored["result"], stored["mapping"])
            return
    if check or run:
        result = _run_import(
            actor=actor,
            url=url,
            entity=entity,
            headers=headers,
            rows=rows,
            mapping=mapping,
            dry_run=bool(check),
            on_duplicate=on_duplicate,
            atomic=atomic,
            source=upload.name,
            label=text["progress"],
        )
        if result is None:
            return
        stored = {
            "signature": signature,
            "at": time.monotonic(),
            "result": result,
            "mapping": mapping,
        }
        st.session_state[RESULT_KEY] = stored
    if stored:
        _show_import_result(stored["result"], stored["mapping"])


def _run_import(*, actor: Actor, url: str, label: str, **options: Any) -> Any:
    """Validate and (unless a dry run) write the rows under a progress bar; the result,
    or None after showing why the import could not start."""
    from app.transfer import import_rows

    bar = st.progress(0.0, text=label)
    try:
        with Session(engine(url)) as session:
            result = import_rows(
                session=session,
                actor=actor,
                progress=lambda share: bar.progress(min(max(share, 0.0), 1.0), text=label),
                **options,
            )
    except InvalidInput as exc:
        bar.empty()
        show_field_errors(exc, {})
        return None
    except (PermissionDenied, NotFound, Conflict) as exc:
        bar.empty()
        st.error(md_escape(tm(exc)))
        return None
    bar.progress(1.0, text=label)  # stays, full, above the result
    if result.written:
        clear_overview_cache()
        clear_entry_caches("customers", "products", "campaigns", "partners", "items")
    return result


def export_panel(*, actor: Actor, url: str) -> None:
    """Export an entity as CSV or Excel, in the import format."""
    from app.transfer import SPECS, export_rows, write_table

    text = localised(EXPORT_KEYS)
    entity_labels = _entity_labels(SPECS)
    st.subheader(text["header"])
    entity = st.selectbox(
        text["entity"],
        list(SPECS),
        format_func=entity_labels.get,
        key="export_form_entity",
    )
    state_key = "export_form__files"
    if st.button(text["prepare"], key="export_form_prepare"):
        try:
            with Session(engine(url)) as session:
                headers, rows = export_rows(session=session, actor=actor, entity=entity)
        except PermissionDenied as exc:
            st.error(md_escape(tm(exc)))
            return
        st.session_state[state_key] = {
            "entity": entity,
            "rows": len(rows),
            "csv": write_table(headers, rows, "x.csv"),
            "xlsx": write_table(headers, rows, "x.xlsx"),
        }
    files = st.session_state.get(state_key)
    if not files or files["entity"] != entity:
        return
    st.caption(text["ready"].format(rows=fmt.number(files["rows"], current_language())))
    left, right = st.columns(2)
    left.download_button(
        text["csv"],
        data=files["csv"],
        file_name=f"{entity}.csv",
        mime="text/csv",
        key="export_form_csv",
        on_click="ignore",
    )
    right.download_button(
        text["xlsx"],
        data=files["xlsx"],
        file_name=f"{entity}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key="export_form_xlsx",
        on_click="ignore",
    )
