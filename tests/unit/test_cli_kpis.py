"""`python -m app kpis` and `rfm` on demo data: JSON/CSV equal to the library numbers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math

import pytest
from sqlmodel import Session

from app.db import get_engine
from app.demo import seed_demo
from app.kpi.base import KpiContext
from app.kpi.engine import compute, report_as_json
from app.kpi.period import Period
from app.kpi.registry import all_kpis
from app.kpi.rfm import rfm_table
from tests.conftest import DEMO_SEED, DEMO_TODAY
from tests.unit.test_cli import run_cli

PERIOD = ["--from", "2026-03-01", "--to", "2026-06-01"]


def test_kpis_json_lists_every_kpi_and_matches_the_library(seeded_sqlite_url: str) -> None:
    result = run_cli("kpis", *PERIOD, "--format", "json", url=seeded_sqlite_url)
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    assert payload["period"] == {"from": "2026-03-01", "to": "2026-06-01"}
    # Mar + Apr + May = 92 days; 92 days before 2026-03-01 is 2025-11-29.
    assert payload["compare"]["from"] == "2025-11-29"
    ids = [row["id"] for row in payload["kpis"]]
    assert ids == list(all_kpis())
    with Session(get_engine(seeded_sqlite_url)) as session:
        report = compute(session, None, Period(dt.date(2026, 3, 1), dt.date(2026, 6, 1)))
    expected = {row["id"]: row for row in report_as_json(report)["kpis"]}
    for row in payload["kpis"]:
        for key in ("value", "compare_value", "change", "change_pct", "target"):
            assert row[key] == expected[row["id"]][key], (row["id"], key)
    assert {row["unit"] for row in payload["kpis"]} <= {
        "count",
        "money",
        "percent",
        "days",
        "hours",
        "score",
        "level",
    }
    assert payload["kpis"][ids.index("revenue")]["value"] > 0


def test_kpis_only_and_filters_and_csv(seeded_sqlite_url: str) -> None:
    everyone = run_cli(
        "kpis",
        *PERIOD,
        "--only",
        "revenue,active_customers",
        "--format",
        "csv",
        url=seeded_sqlite_url,
    )
    persons = run_cli(
        "kpis",
        *PERIOD,
        "--only",
        "revenue,active_customers",
        "--format",
        "csv",
        "--kind",
        "person",
        url=seeded_sqlite_url,
    )
    assert everyone.returncode == 0 and persons.returncode == 0, everyone.stderr + persons.stderr
    all_rows = {row["id"]: row for row in csv.DictReader(io.StringIO(everyone.stdout))}
    person_rows = {row["id"]: row for row in csv.DictReader(io.StringIO(persons.stdout))}
    assert list(all_rows) == ["revenue", "active_customers"]
    assert 0 < float(person_rows["revenue"]["value"]) < float(all_rows["revenue"]["value"])


def test_kpis_rejects_unknown_owner_and_kpi(seeded_sqlite_url: str) -> None:
    owner = run_cli("kpis", "--owner", "nobody", url=seeded_sqlite_url)
    assert owner.returncode == 2 and "no user named 'nobody'" in owner.stderr
    unknown = run_cli("kpis", "--only", "revenue,happiness", url=seeded_sqlite_url)
    assert unknown.returncode == 2 and "unknown KPI id(s): happiness" in unknown.stderr


def test_rfm_csv_matches_the_library(seeded_sqlite_url: str) -> None:
    result = run_cli("rfm", "--as-of", "2026-06-14", "--format", "csv", url=seeded_sqlite_url)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    with Session(get_engine(seeded_sqlite_url)) as session:
        table = rfm_table(KpiContext.create(session=session), as_of=dt.date(2026, 6, 14))
    assert len(rows) == len(table) > 100
    assert {int(row["r_score"]) for row in rows} == {1, 2, 3, 4, 5}
    first = table.iloc[0]
    assert int(rows[0]["customer_id"]) == int(first["customer_id"])
    assert rows[0]["segment"] == first["segment"]


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


@pytest.mark.usefixtures("seeded_sqlite_template")
def test_every_kpi_is_equal_on_sqlite_and_postgresql(seeded_sqlite_url: str, pg_url: str) -> None:
    seed_demo(engine=get_engine(pg_url), scale="small", seed=DEMO_SEED, today=DEMO_TODAY)
    period = Period(dt.date(2026, 1, 1), dt.date(2026, 6, 1))
    reports = []
    for url in (seeded_sqlite_url, pg_url):
        with Session(get_engine(url)) as session:
            reports.append(report_as_json(compute(session, None, period))["kpis"])
    for on_sqlite, on_pg in zip(*reports, strict=True):
        for key in ("value", "compare_value", "target"):
            assert _close(on_sqlite[key], on_pg[key]), (
                on_sqlite["id"],
                key,
                on_sqlite[key],
                on_pg[key],
            )
