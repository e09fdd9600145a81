"""The esmbot command line: serve the bot, migrate or check the database, make a report, check Graph."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from pathlib import Path

from bot.config import Organisation, Settings, load_organisation, load_settings
from bot.config.startup import check, listening_line
from bot.errors import ConfigError
from bot.logs import configure_logging

log = logging.getLogger("bot")

EXAMPLE_CONFIG = Path(__file__).resolve().parent.parent / "esmbot.example.toml"


def organisation_for(settings: Settings, *, explicit: bool) -> Organisation:
    """esmbot.toml as configured; without one, the example organisation so the bot still starts
    (`serve` says so in its first line)."""
    path = Path(settings.config_path)
    if not path.is_file() and not explicit and EXAMPLE_CONFIG.is_file():
        path = EXAMPLE_CONFIG
    return load_organisation(path)


def serve(settings: Settings, organisation: Organisation, warnings: list[str]) -> int:
    from aiohttp import web

    from bot.app import create_app
    from bot.heap import freeze_startup_heap
    from bot.migrate import run_upgrade
    from bot.web.serving import serve as serve_app

    run_upgrade(settings.database_url)  # once, before any serving process starts
    example = organisation.source == str(EXAMPLE_CONFIG)
    log.info(listening_line(settings, organisation, example=example))
    for warning in warnings:
        log.warning(warning)

    def make_app() -> web.Application:
        app = create_app(settings, organisation)
        app.on_startup.append(freeze_startup_heap)  # last: after every start-up hook built its part
        return app

    return serve_app(
        make_app,
        host=settings.listen_host,
        port=settings.port,
        reuse_port=settings.reuse_port,
        own_port=settings.own_port,
    )


def database(settings: Settings, action: str) -> int:
    from bot.migrate import drift, run_upgrade

    if action == "upgrade":
        run_upgrade(settings.database_url)
        print("database is up to date")
        return 0
    differences = asyncio.run(drift(settings.database_url))
    for difference in differences:
        print(difference)
    print("no drift" if not differences else f"{len(differences)} differences from the models")
    return 1 if differences else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="esmbot", description="The service desk's Teams bot.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the bot's web server")
    db = commands.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "check"])
    commands.add_parser("demo", help="play the stories against an in-process Teams double")
    outbox = commands.add_parser(
        "outbox", help="list pending or failed messages, retry failed ones"
    )
    outbox.add_argument("rest", nargs=argparse.REMAINDER)
    manifest = commands.add_parser("manifest", help="build the Teams app package (zip)")
    manifest.add_argument("rest", nargs=argparse.REMAINDER)
    report = commands.add_parser("report", help="a period's service-level report: pdf, csv, json")
    report.add_argument("rest", nargs=argparse.REMAINDER)
    seed = commands.add_parser("seed-history", help="fill the database with synthetic history")
    seed.add_argument("rest", nargs=argparse.REMAINDER)
    graph = commands.add_parser("graph", help="Microsoft Graph: check the app's permissions")
    graph.add_argument("action", choices=["check"])
    words = sys.argv[1:] if argv is None else argv
    if words and words[0] in ("outbox", "manifest", "report", "seed-history"):
        # Their own parsers read the rest, options included (REMAINDER misses a leading --flag).
        args = argparse.Namespace(command=words[0], rest=words[1:])
    else:
        args = parser.parse_args(words)
    if args.command == "demo":
        from bot.demo.run import run_demo

        return run_demo()
    if args.command == "manifest":
        from bot.teams.manifest import main as build_manifest

        return build_manifest(args.rest)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        organisation = organisation_for(settings, explicit="ESMBOT_CONFIG" in os.environ)
        warnings = check(settings, organisation) if args.command == "serve" else []
    except ConfigError as error:
        print(f"esmbot: configuration error: {error}", file=sys.stderr)
        return 2
    if args.command == "serve":
        return serve(settings, organisation, warnings)
    if args.command == "outbox":
        from bot.notify.outbox_cli import main as outbox_main

        return outbox_main(settings, args.rest)
    if args.command == "report":
        from bot.app import TEMPLATES
        from bot.reports.cli import main as report_main

        return report_main(settings, organisation, TEMPLATES, args.rest)
    if args.command == "seed-history":
        from bot.demo.seed import main as seed_main
        from bot.migrate import run_upgrade

        run_upgrade(settings.database_url)  # a fresh checkout has no schema yet
        return seed_main(settings, organisation, args.rest)
    if args.command == "graph":
        from bot.graph.check import run_check

        return asyncio.run(run_check(settings))
    return database(settings, args.action)


if __name__ == "__main__":
    sys.exit(main())
