"""Manager commands: the service-level report of a period, who holds which role, planned outages."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot.commands.common import MANAGERS, joined, person_named
from bot.commands.registry import Command, CommandContext, CommandError, Reply, argument
from bot.notify.broadcast import broadcast_progress, start_outage_broadcast
from bot.notify.views import Outage
from bot.reports.kpis import Period, PeriodName, period
from bot.reports.links import ReportLink
from bot.reports.span import SpanError, read_span
from bot.reports.weekly import compose_figures
from bot.tickets.durations import parse_duration

PERIOD_NAMES: dict[str, PeriodName] = {"today": "today", "week": "week", "month": "month"}


async def report(context: CommandContext, args: argparse.Namespace) -> Reply:
    """The weekly report's card, for the period asked (a name, or days from..to): the same
    figures and verdicts, and a link to the period's PDF report."""
    # In a channel the organisation's zone, in a 1:1 chat the reader's (CommandContext.phrases).
    now, zone = context.actions.clock(), context.phrases().zone
    asked = args.period or "week"
    if asked in PERIOD_NAMES:
        covered = period(PERIOD_NAMES[asked], now=now, zone=zone)
    else:
        try:
            days = read_span(asked, context.organisation.time_zone)
        except SpanError as error:
            raise CommandError(f"commands.report.{error.key}", **error.params) from None
        covered = Period("range", days.start, days.end)
    # A reading transaction: the ticket events never wait behind a report.
    async with context.database.reading() as session:
        figures = await compose_figures(
            session,
            organisation=context.organisation,
            covered=covered,
            now=now,
            period=covered.name,
        )
    extras = {"weekly": figures, "pdf_url": _pdf_link(context, covered)}
    rendered = context.renderer.render(
        "management", "weekly_report", ticket=None, reader=context.reader, extras=extras
    )
    return Reply(rendered.summary, card={**rendered.card, "fallbackText": rendered.text})


def _pdf_link(context: CommandContext, covered: Period) -> str | None:
    """A signed link to the PDF of the local days the period touches, in the asker's language."""
    if context.links is None:
        return None
    zone = context.organisation.time_zone
    first = covered.start.astimezone(zone).date()
    last = (covered.end - timedelta(microseconds=1)).astimezone(zone).date()
    language = context.renderer.language_for(context.reader)
    return context.links.pdf(ReportLink(first, last, language))


async def whois(context: CommandContext, args: argparse.Namespace) -> Reply:
    person = await person_named(context, args.person)
    roles = sorted(context.organisation.person_roles(person))
    words = context.phrases()
    who = person.name or person.email or words.t("commands.whois.they")
    if person.email or person.upn:
        who = words.t("commands.whois.with_address", who=who, address=person.email or person.upn)
    if not roles:
        return Reply(words.t("commands.whois.no_role", who=who))
    # The roles as esmbot.toml names them: that file is where they are changed.
    return Reply(words.t("commands.whois.roles", who=who, roles=", ".join(roles)))


async def outage(context: CommandContext, args: argparse.Namespace) -> Reply:
    words = context.phrases()
    zone = words.zone
    try:
        start = datetime.fromisoformat(f"{args.date}T{args.time}").replace(tzinfo=zone)
    except ValueError:
        raise CommandError(
            "commands.outage.unreadable_start", date=args.date, time=args.time, zone=zone.key
        ) from None
    try:
        length = parse_duration(args.duration)
    except ValueError:
        raise CommandError("commands.outage.bad_duration", text=args.duration) from None
    if length.business:
        raise CommandError("commands.outage.business")
    end = start + timedelta(**{length.unit: length.amount})
    now = context.actions.clock()
    if end <= now:
        raise CommandError("commands.outage.over")
    notifier = context.actions.notifier
    if notifier is None:
        raise CommandError("commands.outage.no_sender")
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
    return Reply(
        words.plural(
            "commands.outage.announced",
            progress.total,
            start=words.when(start),
            length=words.duration(end - start),
        )
    )


MANAGER_COMMANDS = (
    Command(
        name="report",
        example="/report 2026-11-02..2026-11-04",
        run=report,
        roles=MANAGERS,
        arguments=(
            argument("period", nargs="?", type=str.lower, metavar="today|week|month|FROM..TO"),
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
