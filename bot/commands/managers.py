"""Manager commands: the service-level report of a period, who holds which role, planned outages."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

from bot.commands.common import MANAGERS, joined, person_named, roles_of, span, when, zone_of
from bot.commands.registry import Command, CommandContext, CommandError, Reply, argument
from bot.notify.broadcast import broadcast_progress, start_outage_broadcast
from bot.notify.views import Outage
from bot.reports.kpis import Kpis, period, period_kpis
from bot.reports.service_levels import LevelCheck, ServiceLevels, service_levels
from bot.tickets.durations import parse_duration

_SLA_NAMES = {
    "first_response": "first response",
    "resolution": "resolution",
    "vendor_escalation": "vendor escalation",
}


async def report(context: CommandContext, args: argparse.Namespace) -> Reply:
    now, zone = context.actions.clock(), zone_of(context)
    covered = period(args.period or "week", now=now, zone=zone)
    async with context.database.transaction() as session:
        kpis = await period_kpis(
            session,
            start=covered.start,
            end=covered.end,
            now=now,
            organisation=context.organisation,
        )
    since = covered.start.astimezone(zone)
    title = (
        f"Report for {covered.label} (since {since:%a %d %b %H:%M}, {zone.key}): "
        f"{_tickets(kpis.opened)} opened."
    )
    levels = service_levels(kpis, context.organisation)
    return Reply("\n".join([title, *report_lines(kpis, levels)]))


def report_lines(kpis: Kpis, levels: ServiceLevels) -> list[str]:
    """The figures, one line each, in the order a manager reads them.

    The verdicts are the weekly report's (bot/reports/service_levels.py), so both say the same.
    """
    lines = []
    if kpis.opened:
        owners = [f"{name} {count}" for name, count in kpis.by_owner.items()]
        owners += [f"unassigned {kpis.unassigned}"] if kpis.unassigned else []
        lines += [
            f"By type: {_listed(kpis.by_type)}",
            f"By priority: {_listed(kpis.by_priority)}",
            f"By status now: {_listed(kpis.by_status)}",
            f"By owner: {', '.join(owners)}",
            "Mean time to first response: "
            + _mean(kpis.mean_first_response, kpis.responded, "answered"),
            "Mean time to resolve: " + _mean(kpis.mean_resolution, kpis.resolved, "resolved"),
        ]
        share = round((kpis.within_sla or 0.0) * 100)
        missed = ", ".join(
            f"{_SLA_NAMES[name]} {count}" for name, count in kpis.breaches.items() if count
        )
        lines.append(
            f"Within SLA: {share} % ({_tickets(kpis.breached_tickets)} breached"
            + (f": {missed})" if missed else ")")
        )
        lines.append("Targets: " + ", ".join(_verdict(check) for check in levels.checks))
        lines.append(f"Reopened: {kpis.reopened}")
        lines.append(f"Resolved on first contact: {kpis.first_contact} of {kpis.resolved} resolved")
        lines.append(
            f"Closed but not solved: {kpis.not_solved} (reopened {kpis.reopened}, "
            f"rated low {kpis.low_rated})"
        )
        lines.append(f"Interactions per ticket: {kpis.mean_interactions or 0:.1f}")
    if kpis.csat_average is None:
        lines.append("Satisfaction: no survey answers in this period.")
    else:
        verdict = "on target" if levels.csat_met else "below target"
        lines.append(
            f"Satisfaction: {kpis.csat_average:.1f} of 4 from {kpis.csat_answers} "
            f"answer{'s' if kpis.csat_answers != 1 else ''}, {verdict} "
            f"({kpis.csat_target:g})"
        )
    return lines


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


def _verdict(check: LevelCheck) -> str:
    promise = f"{_SLA_NAMES[check.name]} within {check.target}"
    if check.met is None:
        return f"{promise} not measured"
    if check.met:
        return f"{promise} met"
    return f"{promise} missed ({check.missed} of {check.measured} late)"


def _tickets(count: int) -> str:
    return f"{count} ticket{'s' if count != 1 else ''}"


def _listed(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in counts.items())


def _mean(value: timedelta | None, count: int, verb: str) -> str:
    if value is None:
        return f"none {verb} yet"
    return f"{span(value)} ({count} {verb})"


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
