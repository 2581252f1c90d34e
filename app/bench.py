"""The benchmark's domain half (no Streamlit): databases, KPI timings, naive pandas, import.

``scripts/bench.py`` drives a run and adds the Streamlit half (pages under AppTest and
the form write path, in ``scripts/bench_pages.py``). Everything here takes a database
URL, so the same code measures SQLite and PostgreSQL and a test can run it on a tiny
database.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from app.config import PROJECT_ROOT
from app.db import create_raw_engine, get_engine, migrate
from app.kpi.base import KpiContext, KpiFilters
from app.kpi.engine import compute
from app.kpi.overview import OVERVIEW_KPIS
from app.kpi.period import Period, preset_period
from app.kpi.registry import all_kpis
from app.models import COUNTED_ORDER_STATUSES, OPEN_STAGES, User
from app.services.access import Actor
from app.settings import all_settings, display_timezone

BENCH_DIR = PROJECT_ROOT / "data" / "bench"
# The dataset of issue #8: medium scale, fixed seed and "today".
SEED_ARGS = ("--scale", "medium", "--seed", "7", "--today", "2026-06-15", "--demo-users")
BENCH_TODAY = dt.date(2026, 6, 15)
PG_DATABASE = "crm_bench"
COUNTED_TABLES = (
    "customer",
    "interaction",
    "sales_order",
    "order_line",
    "complaint",
    "opportunity",
    "survey_response",
    "app_user",
)
# Issue #8's targets, in seconds unless said otherwise.
TARGET_COLD = 1.0
TARGET_WARM = 0.2
TARGET_NAIVE_RATIO = 10.0
TARGET_WRITE_P95 = 0.050
TARGET_IMPORT = 20.0
TARGET_MEMORY_MB = 1536.0
TARGET_PG_FACTOR = 1.5
COLUMNS = ("section", "item", "n", "median", "min", "max", "p95", "target", "result")


# --------------------------------------------------------------------------- results
@dataclass
class Row:
    """One line of the results table; times in seconds, other units named by ``unit``."""

    section: str
    item: str
    samples: list[float] = field(default_factory=list)
    unit: str = "s"
    target: float | None = None
    # "max": the median (p95 when ``on_p95``) must not exceed the target; "min": not below.
    bound: str = "max"
    on_p95: bool = False
    note: str = ""
    error: str = ""

    @property
    def median(self) -> float | None:
        """The median of the samples (None without samples)."""
        return statistics.median(self.samples) if self.samples else None

    @property
    def p95(self) -> float | None:
        """The 95th percentile (nearest rank); None with fewer than two samples."""
        if len(self.samples) < 2:
            return None
        ordered = sorted(self.samples)
        return ordered[-(-95 * len(ordered) // 100) - 1]

    @property
    def measured(self) -> float | None:
        """The statistic compared with the target."""
        return self.p95 if self.on_p95 else self.median

    @property
    def ok(self) -> bool | None:
        """Whether the target is met (None without a target or without samples)."""
        if self.error:
            return False
        if self.target is None or self.measured is None:
            return None
        if self.bound == "min":
            return self.measured >= self.target
        return self.measured <= self.target

    def cells(self) -> list[str]:
        """The row as table cells, in COLUMNS order."""
        median = self.median
        result = {True: "ok", False: "MISS", None: ""}[self.ok]
        if self.error:
            result = f"ERROR: {self.error}"
        elif self.note:
            result = f"{result} {self.note}".strip()
        target = ""
        if self.target is not None:
            sign = "≥" if self.bound == "min" else "≤"
            stat = "p95 " if self.on_p95 else ""
            target = f"{stat}{sign} {format_value(self.target, self.unit)}"
        return [
            self.section,
            self.item,
            str(len(self.samples)),
            format_value(median, self.unit),
            format_value(min(self.samples) if self.samples else None, self.unit),
            format_value(max(self.samples) if self.samples else None, self.unit),
            format_value(self.p95, self.unit) if self.on_p95 else "",
            target,
            result,
        ]


def format_value(value: float | None, unit: str) -> str:
    """A measured value for the table: seconds as ms below 1 s, ratios with ×, MB."""
    if value is None:
        return ""
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:.1f}×"
    if unit == "MB":
        return f"{value:,.0f} MB"
    return f"{value:,.0f}"


def timed(function: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = function()
    return time.perf_counter() - started, result


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine() -> dict[str, Any]:
    """Cores, memory and software of the machine the benchmark runs on."""
    memory_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_kb = int(line.split()[1])
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": round(memory_kb / 1024 / 1024, 1),
        "cpu": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def row_counts(url: str) -> dict[str, int]:
    """Rows in the big tables of the database."""
    with get_engine(url).connect() as connection:
        return {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608 - table names from COUNTED_TABLES
            for table in COUNTED_TABLES
        }


def database_kind(url: str) -> str:
    """'sqlite' or 'postgresql'."""
    return make_url(url).get_backend_name()


def render_markdown(
    rows: list[Row], *, title: str, info: dict[str, Any], extra_columns: dict | None = None
) -> str:
    """The results as a markdown document: a header of facts, then the table."""
    lines = [f"# {title}", ""]
    lines += [f"- **{key}**: {value}" for key, value in info.items()]
    headers = list(COLUMNS) + list(extra_columns or {})
    lines += ["", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    for row in rows:
        cells = row.cells() + [column.get(id(row), "") for column in (extra_columns or {}).values()]
        lines.append("| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def render_text(rows: list[Row], extra_columns: dict | None = None) -> str:
    """The results as a plain-text table for the terminal."""
    headers = list(COLUMNS) + list(extra_columns or {})
    body = [
        row.cells() + [column.get(id(row), "") for column in (extra_columns or {}).values()]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [headers, *body]) for i in range(len(headers))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [headers, *body]
    )


def rows_as_json(rows: list[Row]) -> list[dict[str, Any]]:
    """The rows as JSON-able dicts (to compare PostgreSQL with an earlier SQLite run)."""
    return [{**asdict(row), "median": row.median, "ok": row.ok} for row in rows]


# --------------------------------------------------------------------------- databases
def seed_command(url: str, seed_args: tuple[str, ...] = SEED_ARGS) -> list[str]:
    """The command generating the (medium) demo database at ``url``."""
    return [sys.executable, "-m", "app", "--database-url", url, "seed-demo", *seed_args]


def ensure_sqlite(path: Path = BENCH_DIR / "medium.db") -> str:
    """The URL of the medium SQLite database, generated once (into a temporary file that
    is renamed when complete, so an interrupted run does not leave half a database)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".partial.db")
        for stale in path.parent.glob(partial.name + "*"):
            stale.unlink()
        print(f"==> Generating the medium SQLite database at {path} (about 2 minutes)")
        url = f"sqlite:///{partial}"
        # The engine factory opens only existing files: `migrate` creates it first.
        migrate_command = [sys.executable, "-m", "app", "--database-url", url, "migrate"]
        subprocess.run(migrate_command, check=True, cwd=PROJECT_ROOT)
        subprocess.run(seed_command(url), check=True, cwd=PROJECT_ROOT)
        checkpoint = create_raw_engine(f"sqlite:///{partial}")
        with checkpoint.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        checkpoint.dispose()
        for suffix in ("-wal", "-shm"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        partial.rename(path)
    return f"sqlite:///{path}"


def ensure_postgresql(
    admin_url: str, database: str = PG_DATABASE, seed_args: tuple[str, ...] = SEED_ARGS
) -> str:
    """The URL of the medium PostgreSQL database on the cluster of ``admin_url``, seeded
    once into ``<database>_seeding`` and renamed when complete."""
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            names = set(connection.execute(text("SELECT datname FROM pg_database")).scalars())
            if database not in names:
                seeding = f"{database}_seeding"
                if seeding in names:
                    connection.execute(text(f'DROP DATABASE "{seeding}" WITH (FORCE)'))  # noqa: S608 - benchmark database name from code
                connection.execute(text(f'CREATE DATABASE "{seeding}"'))  # noqa: S608 - benchmark database name from code
                url = _with_database(admin_url, seeding)
                print("==> Generating the demo PostgreSQL database (medium: several minutes)")
                subprocess.run(seed_command(url, seed_args), check=True, cwd=PROJECT_ROOT)
                connection.execute(text(f'ALTER DATABASE "{seeding}" RENAME TO "{database}"'))  # noqa: S608 - benchmark database names from code
    finally:
        admin.dispose()
    url = _with_database(admin_url, database)
    # A freshly loaded database has no planner statistics yet; ANALYZE is cheap and
    # idempotent, and autovacuum would do it later anyway.
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("ANALYZE"))
    engine.dispose()
    return url


def _with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


# --------------------------------------------------------------------------- KPI timings
def bench_period(today: dt.date = BENCH_TODAY, preset: str = "this_month") -> Period:
    """The period the pages show by default (the month of ``today``)."""
    return preset_period(preset, today)


def time_kpis(
    url: str, period: Period, repeats: int, kpi_ids: Iterable[str] | None = None
) -> list[Row]:
    """Each KPI function on its own: a fresh context (no shared memo) per run."""
    registry = all_kpis()
    engine = get_engine(url)
    rows = []
    for kpi_id in kpi_ids or registry:
        definition = registry[kpi_id]
        row = Row("kpi", kpi_id)
        for _ in range(repeats):
            with Session(engine) as session:
                ctx = KpiContext.create(session=session)
                seconds, _ = timed(lambda ctx=ctx, kpi=definition: kpi.compute(ctx, period))
            row.samples.append(seconds)
        rows.append(row)
    return rows


def ours_overview(url: str, period: Period) -> dict[str, Any]:
    """The Overview's eight KPI values through the KPI engine (no comparison period)."""
    with Session(get_engine(url)) as session:
        report = compute(session, list(OVERVIEW_KPIS), period, KpiFilters(), None)
    return {result.id: result.value for result in report.kpis}


def naive_overview(url: str, period: Period) -> dict[str, Any]:
    """The same eight numbers the naive way: read whole tables, aggregate in pandas."""
    engine = get_engine(url)
    with Session(engine) as session:
        settings = all_settings(session=session)
        tz = display_timezone(session=session)
    start, end = (pd.Timestamp(instant) for instant in period.utc_bounds(tz))
    prev_start, _ = (pd.Timestamp(instant) for instant in period.previous().utc_bounds(tz))
    with engine.connect() as connection:
        orders = pd.read_sql(
            "SELECT customer_id, ordered_at, status, amount, cost FROM sales_order", connection
        )
        complaints = pd.read_sql(
            "SELECT severity, opened_at, resolved_at FROM complaint", connection
        )
        answers = pd.read_sql(
            "SELECT id, customer_id, answered_at, nps FROM survey_response", connection
        )
        opportunities = pd.read_sql(
            "SELECT id, amount, created_at, closed_at FROM opportunity", connection
        )
        history = pd.read_sql(
            "SELECT id, opportunity_id, to_stage, changed_at FROM opportunity_stage_history",
            connection,
        )

    def utc(column: pd.Series) -> pd.Series:
        return pd.to_datetime(column, utc=True, format="mixed")

    counted = orders[orders["status"].isin([status.value for status in COUNTED_ORDER_STATUSES])]
    counted = counted.assign(ordered_at=utc(counted["ordered_at"]))
    in_period = counted[(counted["ordered_at"] >= start) & (counted["ordered_at"] < end)]
    in_previous = counted[(counted["ordered_at"] >= prev_start) & (counted["ordered_at"] < start)]
    revenue = float(in_period["amount"].astype(float).sum())
    cost = float(in_period["cost"].astype(float).sum())
    active = set(in_period["customer_id"])
    previous = set(in_previous["customer_id"])
    first = counted.groupby("customer_id")["ordered_at"].min()

    answers = answers[answers["nps"].notna()].assign(answered_at=utc(answers["answered_at"]))
    answers = answers[(answers["answered_at"] >= start) & (answers["answered_at"] < end)]
    latest = answers.sort_values(["answered_at", "id"]).groupby("customer_id").tail(1)
    promoters = int((latest["nps"] >= 9).sum())
    detractors = int((latest["nps"] <= 6).sum())

    sla = {"critical": 4, "high": 24, "medium": 72, "low": 168} | (settings.get("sla_hours") or {})
    opened, resolved = utc(complaints["opened_at"]), utc(complaints["resolved_at"])
    limits = pd.to_timedelta(complaints["severity"].map(sla).astype(float), unit="h")
    past_sla = (
        (opened < end) & (resolved.isna() | (resolved >= end)) & (opened < end - limits)
    ).sum()

    history = history.assign(changed_at=utc(history["changed_at"]))
    history = history[history["changed_at"] < end].sort_values(["changed_at", "id"])
    stage_now = history.groupby("opportunity_id")["to_stage"].last()
    opportunities = opportunities.assign(
        created_at=utc(opportunities["created_at"]), closed_at=utc(opportunities["closed_at"])
    )
    open_now = opportunities[
        (opportunities["created_at"] < end)
        & (opportunities["closed_at"].isna() | (opportunities["closed_at"] >= end))
    ].join(stage_now, on="id", how="inner")
    open_now = open_now[open_now["to_stage"].isin([stage.value for stage in OPEN_STAGES])]
    probabilities = settings.get("stage_probabilities") or {}
    weighted = float(
        (open_now["amount"].astype(float) * open_now["to_stage"].map(probabilities).fillna(0)).sum()
    )

    return {
        "revenue": revenue,
        "profit": revenue - cost,
        "active_customers": len(active),
        "new_customers": int(((first >= start) & (first < end)).sum()),
        "churn_rate": len(previous - active) / len(previous) if previous else None,
        "nps": (promoters - detractors) / len(latest) * 100 if len(latest) else None,
        "open_past_sla": int(past_sla),
        "weighted_pipeline": weighted,
    }


def same_number(ours: Any, naive: Any) -> bool:
    """Whether two KPI values agree (money to the cent; floats to 1e-9 relative)."""
    if ours is None or naive is None:
        return ours is None and naive is None
    ours, naive = float(ours), float(naive)
    tolerance = max(0.01, abs(ours) * 1e-9)
    return abs(ours - naive) <= tolerance


def compare_overview(url: str, period: Period, repeats: int) -> tuple[list[Row], dict[str, Any]]:
    """Time ours vs naive for the eight Overview KPIs; raise when the numbers differ."""
    ours_row = Row("overview KPIs", "8 KPIs, KPI engine")
    naive_row = Row("overview KPIs", "8 KPIs, naive pandas.read_sql + pandas")
    ours = naive = {}
    for _ in range(repeats):
        seconds, ours = timed(lambda: ours_overview(url, period))
        ours_row.samples.append(seconds)
        seconds, naive = timed(lambda: naive_overview(url, period))
        naive_row.samples.append(seconds)
    differ = {
        kpi_id: (ours[kpi_id], naive[kpi_id])
        for kpi_id in OVERVIEW_KPIS
        if not same_number(ours[kpi_id], naive[kpi_id])
    }
    if differ:
        raise AssertionError(f"naive and KPI-engine numbers differ: {differ}")
    ratio = Row(
        "overview KPIs",
        "ratio naive / ours (median over median)",
        samples=[naive_row.median / ours_row.median] if ours_row.median else [],
        unit="x",
        target=TARGET_NAIVE_RATIO,
        bound="min",
        note="numbers agree",
    )
    return [ours_row, naive_row, ratio], {"ours": ours, "naive": naive}


# --------------------------------------------------------------------------- import/export
def customers_csv(url: str, limit: int) -> tuple[bytes, int, float]:
    """(CSV of up to ``limit`` customers from the exporter, rows, seconds of the export)."""
    from app.transfer import export_file

    with Session(get_engine(url)) as session:
        seconds, data = timed(
            lambda: export_file(
                session=session, actor=Actor.system(), entity="customers", filename="c.csv"
            )
        )
    reader = csv.reader(io.StringIO(data.decode("utf-8-sig")))
    header = next(reader)
    rows = list(reader)
    if len(rows) > limit:
        # A slice can name referrers outside it; drop the referral so every row imports.
        rows = rows[:limit]
        referral = header.index("referred_by_code")
        for row in rows:
            row[referral] = ""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8"), len(rows), seconds


def fresh_database(url: str) -> str:
    """An empty, migrated database beside ``url`` (replaced when it exists)."""
    if database_kind(url) == "sqlite":
        source = Path(make_url(url).database or "")
        target = source.with_name(source.stem + "-import.db")
        for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")):
            path.unlink(missing_ok=True)
        fresh = f"sqlite:///{target}"
    else:
        name = f"{make_url(url).database}_import"
        admin = create_engine(_with_database(url, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # noqa: S608 - benchmark database name from code
            connection.execute(text(f'CREATE DATABASE "{name}"'))  # noqa: S608 - benchmark database name from code
        admin.dispose()
        fresh = _with_database(url, name)
    engine = create_raw_engine(fresh)
    migrate(engine)
    engine.dispose()
    return fresh


def bench_import(url: str, limit: int, repeats: int = 1) -> tuple[list[Row], dict[str, Any]]:
    """Export customers from ``url``, import them into a fresh database, export again;
    ``repeats`` times, each into a new empty database."""
    data, count, first_export = customers_csv(url, limit)
    label = f"{count:,} customers"
    imported = Row(
        "import/export",
        f"import {label} from CSV into a fresh database",
        # The target is for 100,000 rows; a --quick run imports fewer and has none.
        target=TARGET_IMPORT if count >= 100_000 else None,
    )
    exported = Row("import/export", f"export {label} (fresh database)")
    source = Row("import/export", "export every customer (benchmark database)")
    facts: dict[str, Any] = {}
    for index in range(repeats):
        source.samples.append(first_export if index == 0 else customers_csv(url, limit)[2])
        seconds, export_seconds, facts = _import_once(url, data)
        imported.samples.append(seconds)
        exported.samples.append(export_seconds)
        if facts["stored"] != count or facts["row errors"] or facts["exported_rows"] != count:
            imported.error = "not every row was imported and exported"
    imported.note = f"{facts['stored']:,} rows stored, {facts['row errors']} row errors"
    return [imported, exported, source], {"csv_rows": count, **facts}


def _import_once(url: str, data: bytes) -> tuple[float, float, dict[str, int]]:
    from app.transfer import export_file, import_file

    target = fresh_database(url)
    engine = get_engine(target)
    with Session(get_engine(url)) as source, Session(engine) as session:
        # The owner column names users by username; the fresh database needs them too.
        for username, display_name, role in source.exec(
            select(User.username, User.display_name, User.role)
        ).all():
            session.add(User(username=username, display_name=display_name, role=role))
        session.commit()
    with Session(engine) as session:
        seconds, result = timed(
            lambda: import_file(
                session=session,
                actor=Actor.system(),
                entity="customers",
                data=data,
                filename="customers.csv",
            )
        )
    with Session(engine) as session:
        stored = int(
            session.connection().execute(text("SELECT count(*) FROM customer")).scalar_one()
        )
        export_seconds, exported = timed(
            lambda: export_file(
                session=session, actor=Actor.system(), entity="customers", filename="c.csv"
            )
        )
    # The next repetition replaces this database: close the engine's connections first.
    from app.db import forget_engine

    forget_engine(target)
    rows = sum(1 for _ in csv.reader(io.StringIO(exported.decode("utf-8-sig")))) - 1
    return (
        seconds,
        export_seconds,
        {
            "stored": stored,
            "row errors": len(getattr(result, "errors", []) or []),
            "exported_rows": rows,
        },
    )
