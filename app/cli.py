"""Command-line interface: ``python -m app COMMAND``; user errors print one line, exit 2."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import time
from collections.abc import Callable, Sequence

from sqlmodel import Session

from app import config
from app.errors import CRMError, InvalidInput
from app.models import Role

EXIT_USER_ERROR = 2


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
    """Create the schema or upgrade it to the newest revision."""
    from app.db import get_engine, table_names

    engine = get_engine(args.database_url)
    print(
        f"Database ready at {engine.url.render_as_string(hide_password=True)} "
        f"({len(table_names(engine))} tables)."
    )
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Fill an empty database with the deterministic demo dataset."""
    from app.db import get_engine
    from app.demo import database_is_empty, seed_demo

    engine = get_engine(args.database_url)
    if args.if_empty and not database_is_empty(engine):
        print("The database already holds customers; demo data not loaded.")
        return 0
    started = time.perf_counter()
    counts = seed_demo(engine=engine, scale=args.scale, seed=args.seed, today=args.today)
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{table} {count:,}" for table, count in counts.items() if count)
    print(f"Loaded the {args.scale} demo dataset in {elapsed:.1f} s: {summary}.")
    return 0


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
    from app.services.users import create_user

    password = _read_password(args)
    with Session(get_engine(args.database_url)) as session:
        user = create_user(
            session=session,
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
    migrate.set_defaults(handler=cmd_migrate)

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
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
