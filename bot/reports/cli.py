"""`esmbot report --from 2026-11-02 --to 2026-11-04 --format pdf --out FILE`: a period's report."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

from sqlalchemy.exc import SQLAlchemyError

from bot.config import Organisation, Settings
from bot.db import Database
from bot.notify.render import Renderer
from bot.notify.views import Reader
from bot.reports.export import as_csv, as_data
from bot.reports.history import period_report
from bot.reports.pdf import render_pdf
from bot.reports.span import SpanError, read_day, span
from bot.reports.trends import Report

OK, REFUSED, USAGE = 0, 1, 2
# What each SpanError means on the command line (the chat says it in the asker's words).
SPAN_PROBLEMS = {
    "bad_day": "{text!r} is not a day: write it as 2026-11-02",
    "backwards": "the period ends ({last}) before it begins ({first})",
    "too_long": "{first} to {last} is longer than a year",
}


class UsageError(Exception):
    """The command line is not a report's: shown with the usage."""


class _Parser(argparse.ArgumentParser):
    # argparse would print and exit on its own; the caller decides the exit code instead.
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message}\n{self.format_usage().rstrip()}")


def parser() -> argparse.ArgumentParser:
    made = _Parser(prog="esmbot report", description="The service levels of a period.")
    made.add_argument("--from", dest="first", required=True, help="first day, e.g. 2026-11-02")
    made.add_argument("--to", dest="last", required=True, help="last day (included)")
    made.add_argument("--format", choices=("pdf", "csv", "json"), default="pdf")
    made.add_argument("--out", required=True, help="the file to write ('-' for standard output)")
    made.add_argument("--language", default=None, help="en or de (default: the organisation's)")
    return made


def main(
    settings: Settings,
    organisation: Organisation,
    templates: Path,
    argv: list[str],
    *,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> int:
    """0 written, 1 the database could not be read, 2 bad usage (said on standard error)."""
    try:
        args = parser().parse_args(argv)
        covered = span(read_day(args.first), read_day(args.last), organisation.time_zone)
    except UsageError as error:
        print(f"esmbot report: {error}", file=sys.stderr)
        return USAGE
    except SpanError as error:
        print(f"esmbot report: {SPAN_PROBLEMS[error.key].format(**error.params)}", file=sys.stderr)
        return USAGE
    renderer = Renderer(templates, organisation.default_locale, organisation.time_zone)
    language = args.language or organisation.default_locale
    if language not in renderer.languages:
        known = ", ".join(sorted(renderer.languages))
        print(f"esmbot report: no words for {language!r} (known: {known})", file=sys.stderr)
        return USAGE
    now = clock()
    try:
        report = asyncio.run(_read(settings, organisation, covered.start, covered.end, now))
    except (SQLAlchemyError, OSError) as error:
        print(f"esmbot report: could not read the database: {error}", file=sys.stderr)
        return REFUSED
    if args.format == "pdf":
        words = renderer.phrases(Reader(locale=language))
        body = render_pdf(report, words=words, organisation=organisation, now=now)
    elif args.format == "csv":
        body = as_csv(report).encode()
    else:
        body = (json.dumps(as_data(report), indent=2, ensure_ascii=False) + "\n").encode()
    if args.out == "-":
        sys.stdout.buffer.write(body)
    else:
        Path(args.out).write_bytes(body)
        print(f"wrote {args.out} ({args.format}, {covered.first} to {covered.last})")
    return OK


async def _read(
    settings: Settings, organisation: Organisation, start: datetime, end: datetime, now: datetime
) -> Report:
    database = Database(settings.database_url)
    try:
        return await period_report(
            database, start=start, end=end, now=now, organisation=organisation
        )
    finally:
        await database.close()
