"""``make bench``: measure pages, KPIs, the write path and import at the medium demo scale.

    .venv/bin/python scripts/bench.py [--db sqlite|postgresql|both] [--quick] [--url URL]

PostgreSQL needs the persistent cluster of ``scripts/bench_postgres.sh`` (``make bench``
starts it and exports ``CRM_BENCH_PG_URL``). Results are printed and written to
``data/bench/results-<db>.md`` (and ``.json``); issue #8 lists the targets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
if str(ROOT / "scripts") not in sys.path:
    sys.path.insert(0, str(ROOT / "scripts"))

from app import bench  # noqa: E402
from app.bench import Row  # noqa: E402

SECTIONS = ("pages", "writes", "kpis", "overview", "import")
# Below this, the PostgreSQL ÷ SQLite factor is shown but not judged.
PG_NOISE_FLOOR = 0.020


@dataclass
class Options:
    """What to run and how often."""

    repeats: int = 5
    writes: int = 50
    renders: int = 5
    import_rows: int = 100_000
    sections: tuple[str, ...] = SECTIONS
    pages: list[str] = field(default_factory=list)
    today: str = bench.BENCH_TODAY.isoformat()


def quick_options(**changes: Any) -> Options:
    """A smoke run: one repetition, a few writes, a small import."""
    return Options(**{"repeats": 1, "writes": 5, "renders": 1, "import_rows": 2_000, **changes})


def run_benchmark(url: str, options: Options) -> tuple[list[Row], dict[str, Any]]:
    """Every measurement of ``options.sections`` on the database at ``url``."""
    import bench_pages

    os.environ["CRM_AS_OF"] = options.today
    info: dict[str, Any] = {
        "database": bench.database_kind(url),
        "url": _hide_password(url),
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        **{f"machine {key}": value for key, value in bench.machine().items()},
        "rows": ", ".join(f"{table} {count:,}" for table, count in bench.row_counts(url).items()),
        "repetitions": options.repeats,
        "as of": options.today,
    }
    period = bench.bench_period(dt.date.fromisoformat(options.today))
    info["KPI period"] = period.label()
    rows: list[Row] = []
    pages = (
        [bench_pages.ROOT / "pages" / f"{name}.py" for name in options.pages]
        if options.pages
        else None
    )
    with bench_pages.database(url, options.today):
        if "pages" in options.sections:
            _say("pages under AppTest (cold, warm, warm after a filter change)")
            rows += bench_pages.bench_pages(url, options.repeats, pages)
            rows.append(
                Row(
                    "memory",
                    "peak resident memory after the page runs",
                    samples=[bench.peak_rss_mb()],
                    unit="MB",
                    target=bench.TARGET_MEMORY_MB,
                )
            )
        if "writes" in options.sections:
            _say(f"form write path ({options.writes} writes, {options.renders} renders)")
            rows += bench_pages.bench_writes(url, options.writes, options.renders)
    if "kpis" in options.sections:
        _say("each KPI function on its own")
        rows += bench.time_kpis(url, period, options.repeats)
    if "overview" in options.sections:
        _say("overview KPIs: KPI engine vs naive pandas")
        overview_rows, values = bench.compare_overview(url, period, options.repeats)
        rows += overview_rows
        info["overview values"] = ", ".join(
            f"{key} {_short(value)}" for key, value in values["ours"].items()
        )
    if "import" in options.sections:
        _say(f"import and export of {options.import_rows:,} customers")
        import_rows, facts = bench.bench_import(url, options.import_rows, options.repeats)
        rows += import_rows
        info["import"] = ", ".join(f"{key} {value:,}" for key, value in facts.items())
    rows.append(
        Row(
            "memory",
            "peak resident memory of the whole run (includes naive pandas, import)",
            samples=[bench.peak_rss_mb()],
            unit="MB",
        )
    )
    return rows, info


def pg_columns(rows: list[Row], sqlite_json: Path) -> dict[str, dict[int, str]]:
    """An extra column comparing each PostgreSQL time with the same row on SQLite."""
    if not sqlite_json.exists():
        return {}
    earlier = {
        (item["section"], item["item"]): item["median"]
        for item in json.loads(sqlite_json.read_text())["rows"]
    }
    column: dict[int, str] = {}
    for row in rows:
        base = earlier.get((row.section, row.item))
        if row.unit != "s" or not base or row.median is None:
            continue
        factor = row.median / base
        verdict = "ok" if factor <= bench.TARGET_PG_FACTOR else "MISS"
        if max(base, row.median) < PG_NOISE_FLOOR:
            # A few milliseconds either way is noise, not a database being slower.
            verdict = "(< 20 ms)"
        column[id(row)] = f"{factor:.2f}× {verdict}"
    return {"PG ÷ SQLite (≤ 1.5×)": column}


def report(rows: list[Row], info: dict[str, Any], out_dir: Path) -> str:
    """Print the results and write results-<db>.md and .json; return the markdown."""
    kind = info["database"]
    extra = pg_columns(rows, out_dir / "results-sqlite.json") if kind == "postgresql" else {}
    missed = [row for row in rows if row.ok is False]
    info = {**info, "targets missed": f"{len(missed)} of {sum(r.ok is not None for r in rows)}"}
    print()
    for key, value in info.items():
        print(f"{key}: {value}")
    print(bench.render_text(rows, extra))
    markdown = bench.render_markdown(
        rows, title=f"make bench: {kind}", info=info, extra_columns=extra
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"results-{kind}.md").write_text(markdown, encoding="utf-8")
    (out_dir / f"results-{kind}.json").write_text(
        json.dumps({"info": info, "rows": bench.rows_as_json(rows)}, default=str, indent=1),
        encoding="utf-8",
    )
    print(f"\nwritten: {out_dir / f'results-{kind}.md'}")
    return markdown


def _say(message: str) -> None:
    print(f"==> {time.strftime('%H:%M:%S')} {message}", flush=True)


def _short(value: Any) -> str:
    return f"{float(value):,.4g}" if value is not None else "—"


def _hide_password(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--quick", action="store_true", help="one repetition, small import")
    parser.add_argument("--url", help="benchmark this database as it is (no generation)")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5)")
    parser.add_argument("--writes", type=int, help="writes for the p50/p95 (default 50)")
    parser.add_argument("--import-rows", type=int, help="customers to import (default 100000)")
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--pages", help="comma-separated page names (default: all 13)")
    parser.add_argument("--out", type=Path, default=bench.BENCH_DIR, help="results folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark on the requested databases; 1 when a measurement failed."""
    args = parse_args(argv)
    options = quick_options() if args.quick else Options()
    for name in ("repeats", "writes", "import_rows"):
        if getattr(args, name) is not None:
            setattr(options, name, getattr(args, name))
    if args.only:
        options.sections = tuple(part.strip() for part in args.only.split(",") if part.strip())
    if args.pages:
        options.pages = [part.strip() for part in args.pages.split(",") if part.strip()]
    kinds = ("sqlite", "postgresql") if args.db == "both" else (args.db,)
    admin_url = os.environ.get("CRM_BENCH_PG_URL", "").strip()
    if not args.url and "postgresql" in kinds and not admin_url:
        print(
            "error: PostgreSQL needs CRM_BENCH_PG_URL; run `make bench` or "
            "`bash scripts/bench_postgres.sh .venv/bin/python scripts/bench.py`",
            file=sys.stderr,
        )
        return 2
    failed = False
    for kind in [None] if args.url else kinds:
        # One database after the other: a failure to generate PostgreSQL's data must not
        # cost the SQLite results.
        try:
            if args.url:
                url = args.url
            elif kind == "sqlite":
                url = bench.ensure_sqlite()
            else:
                url = bench.ensure_postgresql(admin_url)
        except subprocess.CalledProcessError as exc:
            print(f"error: generating the {kind} database failed: {exc}", file=sys.stderr)
            failed = True
            continue
        _say(f"benchmark on {_hide_password(url)}")
        rows, info = run_benchmark(url, options)
        report(rows, info, args.out)
        failed = failed or any(row.error for row in rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
