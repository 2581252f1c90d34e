"""The benchmark's machinery in --quick mode on the small demo database (no timing asserts)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import streamlit as st

from app import bench

ROOT = Path(__file__).resolve().parents[2]
# scripts/ is not a package: load scripts/bench.py by its path.
_spec = importlib.util.spec_from_file_location("bench_script", ROOT / "scripts" / "bench.py")
bench_script = sys.modules.setdefault("bench_script", importlib.util.module_from_spec(_spec))
_spec.loader.exec_module(bench_script)


PAGES = ("overview", "customer")


@pytest.fixture
def quick_run(seeded_sqlite_url: str, tmp_path: Path):  # noqa: ANN201 - (rows, info, out)
    """One quick run of every section, with two pages to keep it short."""
    options = bench_script.quick_options(pages=list(PAGES), import_rows=300)
    try:
        rows, info = bench_script.run_benchmark(seeded_sqlite_url, options)
        bench_script.report(rows, info, tmp_path)
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
    return rows, info, tmp_path


def test_quick_run_has_every_row_and_column_and_writes_show(quick_run) -> None:  # noqa: ANN001
    rows, info, out = quick_run
    by_section: dict[str, list[str]] = {}
    for row in rows:
        by_section.setdefault(row.section, []).append(row.item)
    pages = [f"{page} ({user})" for user in ("manager", "staff1") for page in PAGES]
    for section in ("page cold", "page warm", "page warm A→B→A"):
        assert sorted(by_section[section]) == sorted(pages)
    # One row per KPI of the registry (all 56), in catalogue order.
    assert by_section["kpi"] == list(bench.all_kpis())
    assert len(by_section["kpi"]) == 56
    assert len(by_section["overview KPIs"]) == 3
    assert len(by_section["write"]) == 2
    assert len(by_section["import/export"]) == 3
    assert len(by_section["memory"]) == 2
    assert not [row.item for row in rows if row.error]
    assert info["database"] == "sqlite"
    assert "customer" in info["rows"] and info["machine cores"]

    markdown = (out / "results-sqlite.md").read_text(encoding="utf-8")
    header = "| " + " | ".join(bench.COLUMNS) + " |"
    assert header in markdown
    table = [line for line in markdown.splitlines() if line.startswith("| ")]
    assert len(table) == len(rows) + 1
    assert all(line.count(" | ") == len(bench.COLUMNS) - 1 for line in table)
    stored = json.loads((out / "results-sqlite.json").read_text())
    assert len(stored["rows"]) == len(rows)

    write, render = [row for row in rows if row.section == "write"]
    assert len(write.samples) == 5 and write.p95 is not None
    assert render.note == "shown after 1/1 writes"
    assert info["import"] == "csv_rows 300, stored 300, row errors 0, exported_rows 300"


def test_naive_overview_agrees_with_the_kpi_engine(seeded_sqlite_url: str) -> None:
    period = bench.bench_period()
    ours = bench.ours_overview(seeded_sqlite_url, period)
    naive = bench.naive_overview(seeded_sqlite_url, period)
    assert set(ours) == set(naive) == set(bench.OVERVIEW_KPIS)
    assert ours["active_customers"] > 0  # the small dataset has orders in June 2026
    for kpi_id in bench.OVERVIEW_KPIS:
        assert bench.same_number(ours[kpi_id], naive[kpi_id]), kpi_id
    rows, _ = bench.compare_overview(seeded_sqlite_url, period, repeats=1)
    assert rows[-1].note == "numbers agree"


def test_rows_judge_targets() -> None:
    assert bench.Row("x", "fast", samples=[0.1, 0.3, 0.2], target=0.25).ok is True
    assert bench.Row("x", "slow", samples=[0.3, 0.3, 0.1], target=0.25).ok is False
    ratio = bench.Row("x", "ratio", samples=[12.0], unit="x", target=10.0, bound="min")
    assert ratio.ok is True and ratio.cells()[3] == "12.0×"
    tail = bench.Row("x", "p95", samples=[0.01] * 19 + [0.9], target=0.05, on_p95=True)
    assert tail.p95 == 0.01 and tail.ok is True
    tail.samples += [0.9]
    assert tail.p95 == 0.9 and tail.ok is False
    assert bench.Row("x", "none", samples=[1.0]).ok is None
