"""Command-line interface: ``python -m app COMMAND``; user errors print one line, exit 2."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal

from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from app import config
from app.errors import CRMError, InvalidInput
from app.models import Role

EXIT_USER_ERROR = 2
EXIT_DATABASE_ERROR = 1


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        message = f"{value!r} is not a date of the form YYYY-MM-DD"
        raise argparse.ArgumentTypeError(message) from None


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError("must not be negative")
    return number


def cmd_migrate(args: argparse.Namespace) -> int:
    """Create the schema or upgrade it to the newest revision (or --to a revision)."""
    from app.db import get_engine, migrate_to, open_engine, table_names

    if getattr(args, "to", None):
        # No automatic upgrade to head first: --to may name an older revision.
        engine = open_engine(args.database_url, create=True)
        try:
            before, after = migrate_to(engine, args.to)
        finally:
            engine.dispose()
        print(f"Schema moved from {before or 'empty'} to {after}.")
        return 0
    engine = get_engine(args.database_url, create=True)
    print(
        f"Database ready at {engine.url.render_as_string(hide_password=True)} "
        f"({len(table_names(engine))} tables)."
    )
    return 0


def cmd_backup(args: argparse.Namespace) -> int:
    """Write a consistent online backup of the database to a file."""
    from app.backup import backup

    result = backup(args.database_url, args.file, fmt=args.format)
    snapshot = result.snapshot
    if result.kind == "pg-dump":
        print(f"Backed up the database (schema {snapshot.revision}) to {result.path} with pg_dump.")
        return 0
    print(
        f"Backed up {len(snapshot.tables)} tables ({snapshot.total_rows:,} rows, schema "
        f"{snapshot.revision}) to {result.path} ({result.kind} format)."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    """Replace the database's contents with a backup (refuses a non-empty one)."""
    from app.backup import restore

    result = restore(args.database_url, args.file, force=args.force)
    print(
        f"Restored {result.rows:,} rows from {args.file} (schema {result.backup_revision}); "
        f"the database is now at schema {result.revision}."
    )
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Fill an empty database with the deterministic demo dataset."""
    from app.db import get_engine
    from app.demo import database_is_empty, seed_demo

    engine = get_engine(args.database_url, create=True)
    if args.if_empty and not database_is_empty(engine):
        print("The database already holds customers; demo data not loaded.")
    else:
        started = time.perf_counter()
        counts = seed_demo(engine=engine, scale=args.scale, seed=args.seed, today=args.today)
        elapsed = time.perf_counter() - started
        summary = ", ".join(f"{table} {count:,}" for table, count in counts.items() if count)
        print(f"Loaded the {args.scale} demo dataset in {elapsed:.1f} s: {summary}.")
    if getattr(args, "demo_users", False):
        _print_demo_accounts(engine)
    return 0


def _print_demo_accounts(engine) -> None:  # noqa: ANN001 - sqlalchemy Engine
    from app.demo import DEMO_ACCOUNTS, set_demo_passwords

    passwords = set_demo_passwords(engine)
    if not passwords:
        print("No demo account with its demo password is left (all were changed).")
        return
    print("Demo accounts (demo mode only; sign in at the URL below):")
    rows = [("username", "role", "password")] + [
        (name, DEMO_ACCOUNTS[name][0], password) for name, password in passwords.items()
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise InvalidInput({"password": "no terminal to ask on; use --password-stdin"})
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat the password: "):
        raise InvalidInput({"password": "the two passwords differ"})
    return first


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a user account; the password is asked for or read from stdin."""
    from app.db import get_engine
    from app.services.access import Actor
    from app.services.users import create_user

    password = _read_password(args)
    with Session(get_engine(args.database_url)) as session:
        user = create_user(
            session=session,
            actor=Actor.system(),
            data={
                "username": args.username,
                "display_name": args.display_name or args.username,
                "email": args.email,
                "role": args.role,
                "password": password,
            },
        )
    print(f"Created {user.role.value} user {user.username}.")
    return 0


def _kpi_filters(args: argparse.Namespace, session: Session):  # noqa: ANN202
    from sqlmodel import select

    from app.kpi.base import KpiFilters
    from app.models import User

    owner_id = None
    if args.owner:
        owner = args.owner.strip()
        if owner.isdigit():
            owner_id = int(owner)
        else:
            owner_id = session.exec(select(User.id).where(User.username == owner)).first()
            if owner_id is None:
                raise InvalidInput({"owner": f"no user named {owner!r}"})
    return KpiFilters(
        segment=args.segment,
        region=args.region,
        province=args.province,
        owner_id=owner_id,
        channel=args.channel,
        kind=args.kind,
    )


def _format_cell(value: object, unit: str, column: str) -> str:
    if value is None:
        return "n/a"
    if not isinstance(value, int | float | Decimal) or isinstance(value, bool):
        return str(value)
    if column == "change_pct" or unit == "percent":
        return f"{float(value) * 100:,.1f}%"
    if unit == "money":
        return f"{float(value):,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{float(value):,.2f}"


def cmd_kpis(args: argparse.Namespace) -> int:
    """Print every KPI (or --only some) for a period, as a table, JSON or CSV."""
    import csv
    import json

    from app.db import get_engine
    from app.kpi.engine import compute, report_as_json
    from app.kpi.period import Period, month_period
    from app.settings import local_today

    with Session(get_engine(args.database_url)) as session:
        default = month_period(local_today(session=session))
        period = Period(args.date_from or default.start, args.date_to or default.end)
        only = (
            [item.strip() for item in args.only.split(",") if item.strip()] if args.only else None
        )
        compare = {
            "previous": "previous",
            "last-year": "last_year",
            "target": "target",
            "none": None,
        }[args.compare]
        report = compute(session, only, period, _kpi_filters(args, session), compare)
    payload = report_as_json(report)
    if args.format == "json":
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return 0
    columns = ["id", "label", "unit", "value", "compare_value", "change", "change_pct", "target"]
    if args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        for row in payload["kpis"]:
            writer.writerow(["" if row[c] is None else row[c] for c in columns])
        return 0
    print(
        f"KPIs for {period.label()}"
        + (f", compared with {report.compare_period.label()}" if report.compare_period else "")
    )
    rows = [[_format_cell(row[c], row["unit"], c) for c in columns] for row in payload["kpis"]]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    return 0


def cmd_rfm(args: argparse.Namespace) -> int:
    """Print the per-customer RFM table as of a date."""
    from app.db import get_engine
    from app.kpi.base import KpiContext
    from app.kpi.rfm import rfm_table
    from app.settings import local_today

    with Session(get_engine(args.database_url)) as session:
        ctx = KpiContext.create(session=session, filters=_kpi_filters(args, session))
        table = rfm_table(ctx, as_of=args.as_of or local_today(session=session))
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    elif args.format == "json":
        print(table.to_json(orient="records", date_format="iso", force_ascii=False))
    else:
        print(table.to_string(index=False) if not table.empty else "No customer has an order.")
    return 0


def _add_filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--segment", default=None, help="only customers of this segment")
    parser.add_argument("--region", default=None, help="only customers of this region")
    parser.add_argument("--province", default=None, help="only customers of this province")
    parser.add_argument(
        "--owner", default=None, help="only customers of this owner (username or id)"
    )
    parser.add_argument("--channel", default=None, help="only customers acquired via this channel")
    parser.add_argument(
        "--kind",
        choices=["organisation", "person"],
        default=None,
        help="only organisations or only persons",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="python -m app",
        description="CRM management dashboard: database and data commands.",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="database URL (default: $CRM_DATABASE_URL or sqlite:///data/crm.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    migrate = commands.add_parser("migrate", help="create or upgrade the database schema")
    migrate.add_argument(
        "--to",
        default=None,
        metavar="REVISION",
        help="move to this schema revision; a downgrade that would drop data is refused",
    )
    migrate.set_defaults(handler=cmd_migrate)

    backup = commands.add_parser(
        "backup", help="write a consistent backup of the database while it is in use"
    )
    backup.add_argument("file", help="the backup file to write (replaced when complete)")
    backup.add_argument(
        "--format",
        choices=["auto", "sqlite", "portable", "pg-dump"],
        default="auto",
        help="auto: a SQLite file for SQLite (portable if FILE ends in .zip), portable zip "
        "for PostgreSQL; pg-dump: pg_dump's custom format (needs a matching pg_dump)",
    )
    backup.set_defaults(handler=cmd_backup)

    restore = commands.add_parser(
        "restore", help="replace the database's contents with a backup, then upgrade it"
    )
    restore.add_argument("file", help="a backup written by `backup`")
    restore.add_argument(
        "--force", action="store_true", help="replace a database that already holds rows"
    )
    restore.set_defaults(handler=cmd_restore)

    seed = commands.add_parser("seed-demo", help="load the demo dataset into an empty database")
    seed.add_argument(
        "--scale",
        choices=["small", "medium", "large"],
        default="small",
        help="small ≈ 2,000 customers; medium 100,000; large 1,000,000",
    )
    seed.add_argument(
        "--seed",
        type=_positive_int,
        default=20240601,
        help="random seed; the same seed gives the same data",
    )
    seed.add_argument(
        "--today",
        type=_date,
        default=None,
        help="the day the data ends (default: today in the display time zone)",
    )
    seed.add_argument(
        "--if-empty",
        action="store_true",
        help="do nothing (and succeed) when the database already has customers",
    )
    seed.add_argument(
        "--demo-users",
        action="store_true",
        help="give one demo account per role its documented password and print them",
    )
    seed.set_defaults(handler=cmd_seed_demo)

    user = commands.add_parser("create-user", help="create a user account")
    user.add_argument("--username", required=True)
    user.add_argument("--role", choices=[role.value for role in Role], default=Role.staff.value)
    user.add_argument("--display-name", default=None)
    user.add_argument("--email", default=None)
    user.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from the first line of standard input",
    )
    user.set_defaults(handler=cmd_create_user)

    kpis = commands.add_parser(
        "kpis",
        help="print the CRM evaluation KPIs for a period",
        description="Period [--from, --to): --to is the first day NOT included. "
        "Default: the current month.",
    )
    kpis.add_argument(
        "--from",
        dest="date_from",
        type=_date,
        default=None,
        help="first day of the period (YYYY-MM-DD)",
    )
    kpis.add_argument(
        "--to",
        dest="date_to",
        type=_date,
        default=None,
        help="day after the last day of the period (YYYY-MM-DD)",
    )
    kpis.add_argument(
        "--compare",
        choices=["previous", "last-year", "target", "none"],
        default="previous",
        help="what to compare with (default: previous period of the same length)",
    )
    kpis.add_argument("--only", default=None, help="comma-separated KPI ids")
    kpis.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _add_filter_arguments(kpis)
    kpis.set_defaults(handler=cmd_kpis)

    rfm = commands.add_parser("rfm", help="print the per-customer RFM table")
    rfm.add_argument(
        "--as-of", type=_date, default=None, help="the day RFM is computed for (default: today)"
    )
    rfm.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _add_filter_arguments(rfm)
    rfm.set_defaults(handler=cmd_rfm)
    # Import and export (issue 4); the handlers live in app/transfer.py.
    from app.transfer import ON_DUPLICATE, SPECS, cmd_export, cmd_import

    importer = commands.add_parser(
        "import",
        help="import a CSV or .xlsx file (all rows validated; the valid ones written)",
    )
    importer.add_argument("entity", choices=list(SPECS))
    importer.add_argument("file", help="a .csv (UTF-8/UTF-16; , ; or tab) or .xlsx file")
    importer.add_argument("--mapping", default=None, help="JSON {file header: column}")
    importer.add_argument(
        "--dry-run", action="store_true", help="validate and report; write nothing"
    )
    importer.add_argument(
        "--on-duplicate",
        choices=list(ON_DUPLICATE),
        default="skip",
        help="a row whose code already exists: skip it, update the record, or reject it",
    )
    importer.add_argument(
        "--atomic",
        action="store_true",
        help="reject the whole file if any row is bad (default: write the valid rows)",
    )
    # Deprecated: writing the valid rows is now the default; kept so old scripts run.
    importer.add_argument("--skip-bad-rows", action="store_true", help=argparse.SUPPRESS)
    importer.add_argument("--errors", default=None, help="write every row error to this CSV")
    importer.set_defaults(handler=cmd_import)

    exporter = commands.add_parser("export", help="export an entity as CSV or .xlsx")
    exporter.add_argument("entity", choices=list(SPECS))
    exporter.add_argument("file", help="target file; .xlsx for Excel, else CSV")
    exporter.set_defaults(handler=cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the process exit code."""
    args = build_parser().parse_args(argv)
    args.database_url = args.database_url or config.database_url()
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except InvalidInput as exc:
        details = "; ".join(f"{field}: {message}" for field, message in exc.field_errors.items())
        print(f"error: {details}", file=sys.stderr)
        return EXIT_USER_ERROR
    except CRMError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USER_ERROR
    except SQLAlchemyError as exc:
        # A database failing mid-command (server gone, disk full): one line, no traceback.
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())
        print(f"error: the database failed: {reason}", file=sys.stderr)
        return EXIT_DATABASE_ERROR
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error for the user.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
