"""A period's KPIs held against the organisation's promises: each service level met or missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from bot.config import Organisation
from bot.reports.kpis import SLA_NAMES, Kpis
from bot.tickets.durations import Duration


@dataclass(frozen=True)
class LevelCheck:
    """One deadline of the contract over the period's tickets.

    Every ticket is held to its own deadline (its priority's policy, on the business calendar);
    `target` is the default policy's, the promise as the contract states it. The contract
    promises it for every request, so one missed deadline misses the level.
    """

    name: str  # an SLA name: first_response, resolution, vendor_escalation
    target: Duration
    measured: int  # tickets that had this deadline
    missed: int
    mean: timedelta | None  # the mean time taken, where the KPIs measure it

    @property
    def met(self) -> bool | None:
        """None when no ticket had this deadline: nothing was promised, nothing to judge."""
        return None if not self.measured else self.missed == 0

    @property
    def percent_on_time(self) -> int | None:
        """Rounded down, so that a level with one miss never reads 100 %."""
        if not self.measured:
            return None
        return (self.measured - self.missed) * 100 // self.measured


@dataclass(frozen=True)
class ServiceLevels:
    """The deadlines and satisfaction of one period, each against its target."""

    checks: tuple[LevelCheck, ...]  # in SLA_NAMES order
    csat_average: float | None
    csat_answers: int
    csat_target: float

    @property
    def csat_met(self) -> bool | None:
        return None if self.csat_average is None else self.csat_average >= self.csat_target

    @property
    def verdicts(self) -> tuple[bool | None, ...]:
        return (*(check.met for check in self.checks), self.csat_met)

    @property
    def judged(self) -> int:
        """How many levels had something to judge."""
        return sum(1 for verdict in self.verdicts if verdict is not None)

    @property
    def met(self) -> int:
        return sum(1 for verdict in self.verdicts if verdict)


def service_levels(kpis: Kpis, organisation: Organisation) -> ServiceLevels:
    """The verdicts for the KPIs of a period, against the targets esmbot.toml states."""
    promised = organisation.sla["default"]
    means = {"first_response": kpis.mean_first_response, "resolution": kpis.mean_resolution}
    checks = tuple(
        LevelCheck(
            name=name,
            target=getattr(promised, name),
            measured=kpis.with_deadline.get(name, 0),
            missed=kpis.breaches.get(name, 0),
            mean=means.get(name),
        )
        for name in SLA_NAMES
    )
    return ServiceLevels(
        checks=checks,
        csat_average=kpis.csat_average,
        csat_answers=kpis.csat_answers,
        csat_target=organisation.csat_target,
    )
