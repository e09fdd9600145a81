"""The service-level report: a period's KPIs against the contract, weekly for management and on
/report for any manager."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Organisation
from bot.reports.availability import least_available, period_availability
from bot.reports.kpis import Period, iso_week, period_kpis, previous_week
from bot.reports.links import ReportLink
from bot.reports.once import ManagementReport
from bot.reports.service_levels import ServiceLevels, service_levels

TEMPLATE = "management/weekly_report"
LISTED = 10  # types and owners named; the card counts the rest, so it stays small


@dataclass(frozen=True)
class WeeklyFigures:
    """What the report shows: one ISO week's tickets (those opened in it), as of `at`."""

    week: str  # the ISO week covered (for /report, the one it starts in), e.g. 2026-W48
    start: datetime  # its Monday 00:00, local time
    end: datetime  # the next Monday 00:00
    at: datetime
    opened: int
    by_type: tuple[tuple[str, int], ...]  # most first, at most LISTED
    more_types: int  # tickets of the types left out
    by_owner: tuple[tuple[str, int], ...]  # most first, at most LISTED
    more_owners: int
    unassigned: int
    levels: ServiceLevels
    responded: int
    resolved: int
    first_contact: int
    reopened: int
    low_rated: int
    not_solved: int
    mean_interactions: float | None
    # What the report covers: "iso_week" (the weekly report), or /report's "today", "week"
    # or "month", the last `days` days up to `at`.
    period: str = "iso_week"
    days: int = 7
    # (service, share available, downtime) of each service with an outage in the period.
    availability: tuple[tuple[str, float, timedelta], ...] = ()

    @property
    def number(self) -> int:
        """The week's number within its ISO year."""
        return int(self.week.rsplit("W", 1)[1])

    @property
    def last_moment(self) -> datetime:
        """The last second of the week, whose local date is its Sunday."""
        return self.end - timedelta(seconds=1)


async def compose_weekly(
    session: AsyncSession, *, organisation: Organisation, fire: datetime, now: datetime
) -> WeeklyFigures:
    """Last week's figures: the ISO week before the one the report falls in."""
    covered = previous_week(fire, zone=organisation.time_zone)
    return await compose_figures(
        session, organisation=organisation, covered=covered, now=now, period="iso_week"
    )


async def compose_figures(
    session: AsyncSession,
    *,
    organisation: Organisation,
    covered: Period,
    now: datetime,
    period: str,
) -> WeeklyFigures:
    """The figures of the tickets opened in `covered`, as of `now`."""
    kpis = await period_kpis(
        session,
        start=covered.start,
        end=covered.end,
        now=now,
        organisation=organisation,
    )
    types, owners = list(kpis.by_type.items()), list(kpis.by_owner.items())
    return WeeklyFigures(
        week=iso_week(covered.start.astimezone(organisation.time_zone).date()),
        start=covered.start,
        end=covered.end,
        at=now,
        opened=kpis.opened,
        by_type=tuple(types[:LISTED]),
        more_types=sum(count for _, count in types[LISTED:]),
        by_owner=tuple(owners[:LISTED]),
        more_owners=sum(count for _, count in owners[LISTED:]),
        unassigned=kpis.unassigned,
        levels=service_levels(kpis, organisation),
        responded=kpis.responded,
        resolved=kpis.resolved,
        first_contact=kpis.first_contact,
        reopened=kpis.reopened,
        low_rated=kpis.low_rated,
        not_solved=kpis.not_solved,
        mean_interactions=kpis.mean_interactions,
        period=period,
        days=max(1, round((covered.end - covered.start).total_seconds() / 86400)),
        availability=least_available(
            await period_availability(session, start=covered.start, end=covered.end, now=now),
            LISTED,
        ),
    )


class WeeklyReport(ManagementReport):
    """The leader's weekly job: writes the week's report for the management channel, once.

    The outbox row's dedupe key is the ISO week the report falls in (weekly:2026-W49), so a
    second replica, a new leader or a run repeated after a restart writes nothing.
    """

    async def __call__(self, fire: datetime | None = None) -> bool:
        """True when this call wrote the report; `fire` names the week (default: this one)."""
        now = self.clock()
        fire = fire or now

        async def compose(session: AsyncSession) -> dict[str, object]:
            figures = await compose_weekly(
                session, organisation=self.organisation, fire=fire, now=now
            )
            return {"weekly": figures, "pdf_url": self._pdf_link(figures)}

        week = iso_week(fire.astimezone(self.organisation.time_zone).date())
        return await self.write_once(
            template=TEMPLATE, dedupe_key=f"weekly:{week}", compose=compose
        )

    def _pdf_link(self, figures: WeeklyFigures) -> str | None:
        """The week's PDF, Monday to Sunday, in the organisation's language."""
        if self.links is None:
            return None
        zone = self.organisation.time_zone
        link = ReportLink(
            figures.start.astimezone(zone).date(),
            figures.last_moment.astimezone(zone).date(),
            self.organisation.default_locale,
        )
        return self.links.pdf(link)
