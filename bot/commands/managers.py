"""Manager commands: the service-level report of a period, who holds which role, planned outages."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot.commands.common import MANAGERS, joined, person_named, roles_of, span, when, zone_of
from bot.commands.registry import Command, CommandContext, CommandError, Reply, argument
from bot.notify.broadcast import broadcast_progress, start_outage_broadcast
from bot.notify.views import Outage
from bot.reports.kpis import period
from bot.reports.weekly import compose_figures
from bot.tickets.durations import parse_duration


async def report(context: CommandContext, args: argparse.Namespace) -> Reply:
    """The weekly report's card, for the period asked: the same figures and verdicts."""
    now, zone = context.actions.clock(), zone_of(context)
    covered = period(args.period or "week", now=now, zone=zone)
    async with context.database.transaction() as session:
        figures = await compose_figures(
            session,
            organisation=context.organisation,
            covered=covered,
            now=now,
            period=covered.name,
        )
    extras = {"weekly": figures}
    rendered = context.renderer.render(
        "management", "weekly_report", ticket=None, reader=context.reader, extras=extras
    )
    return Reply(rendered.summary, card={**rendered.card, "fallbackText": rendered.text})


async def whois(context: CommandContext, args: argparse.Namespace) -> Reply:
    person = await person_named(context, args.person)
    roles = sorted(roles_of(context.organisation, person))
    who = person.name or person.email or "They"
    address = f" ({person.email or person.upn})" if person.email or person.upn else ""
    if not roles:
        return Reply(f"{who}{address} holds no role in esmbot.toml: a customer.")
    return Reply(f"{who}{address}: {', '.join(roles)}.")


async def outage(context: CommandContext, args: argparse.Namespace) -> Reply:
    zone = zone_of(context)
    try:
        start = datetime.fromisoformat(f"{args.date}T{args.time}").replace(tzinfo=zone)
    except ValueError:
        raise CommandError(
            f"I can't read {args.date} {args.time} as a start: write it like 2026-12-01 22:00 "
            f"(your time, {zone.key})."
        ) from None
    try:
        length = parse_duration(args.duration)
    except ValueError as error:
        raise CommandError(str(error)) from None
    if length.business:
        raise CommandError("An outage lasts clock time: write it like 2h or 90 minutes.")
    end = start + timedelta(**{length.unit: length.amount})
    now = context.actions.clock()
    if end <= now:
        raise CommandError("That outage would be over already; check the date.")
    notifier = context.actions.notifier
    if notifier is None:
        raise CommandError("I can't send messages from here; nothing was announced.")
    announced = Outage(
        service=context.organisation.service,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        text=joined(args.text),
    )
    async with context.database.transaction() as session:
        broadcast_id = await start_outage_broadcast(
            session,
            notifier=notifier,
            outage=announced,
            requested_by_person_id=context.person.id,
            now=now,
        )
        progress = await broadcast_progress(session, broadcast_id)
    if context.actions.on_commit is not None:
        context.actions.on_commit()  # the dispatcher starts on the rows at once
    customers = progress.total
    return Reply(
        f"Planned outage announced ({when(start, zone)}, {span(end - start)}). "
        f"{customers} customer{'s' if customers != 1 else ''} will hear of it at the pace "
        "Teams allows; the management channel gets a notice."
    )


MANAGER_COMMANDS = (
    Command(
        name="report",
        example="/report week",
        run=report,
        roles=MANAGERS,
        arguments=(
            argument("period", nargs="?", type=str.lower, choices=("today", "week", "month")),
        ),
    ),
    Command(
        name="whois",
        example="/whois @Sam",
        run=whois,
        roles=MANAGERS,
        arguments=(argument("person", metavar="@person"),),
    ),
    Command(
        name="outage",
        example="/outage 2026-12-01 22:00 2h Checkout maintenance",
        run=outage,
        roles=MANAGERS,
        arguments=(
            argument("date"),
            argument("time"),
            argument("duration"),
            argument("text", nargs="+"),
        ),
    ),
)
