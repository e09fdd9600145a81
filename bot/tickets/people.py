"""Matches the people a ticket source names (Jira accounts, e-mails, names) to people esmbot knows."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import Person
from bot.tickets.events import PersonRef

_MEMO = "matched_people"
# Built once: every batch of webhooks runs it, and building it costs about what running it does.
_BY_ACCOUNT_OR_EMAIL = (
    select(Person)
    .where(
        or_(
            Person.jira_account_id.in_(bindparam("accounts", expanding=True)),
            Person.email.in_(bindparam("emails", expanding=True)),
            Person.upn.in_(bindparam("emails", expanding=True)),
        )
    )
    .order_by(Person.id)
)


async def match_person(
    session: AsyncSession, *, ref: PersonRef, remember: bool = True
) -> Person | None:
    """The person `ref` names, by id, Jira account, e-mail/UPN or old Jira user name.

    A match found by e-mail learns the Jira account id, so later payloads that carry only the
    account id (as Jira Cloud's do since 2019) still find the person.
    """
    if ref.person_id is not None:
        return await session.get(Person, ref.person_id)
    # Within one transaction (a batch of webhooks) the same few people appear again and again.
    memo: dict[PersonRef, Person | None] = session.info.setdefault(_MEMO, {})
    if ref not in memo:
        await preload_people(session, [ref], remember=remember)
    if ref not in memo:  # only an old Jira user name can still name someone
        memo[ref] = await _by_jira_name(session, ref=ref, remember=remember)
    return memo[ref]


def matched_people(session: AsyncSession) -> list[Person]:
    """The people matched so far in this session's transaction."""
    memo: dict[PersonRef, Person | None] = session.info.get(_MEMO, {})
    return [person for person in memo.values() if person is not None]


async def preload_people(
    session: AsyncSession, refs: Iterable[PersonRef], *, remember: bool = True
) -> None:
    """Matches refs, in order, by Jira account, then e-mail or UPN, with one query for all.

    A ref that only an old Jira user name could match is left to match_person's own query.
    """
    refs = [ref for ref in dict.fromkeys(refs) if ref.person_id is None]
    accounts = {ref.jira_account_id for ref in refs if ref.jira_account_id}
    emails = {ref.email.strip().lower() for ref in refs if ref.email}
    if not refs or not (accounts or emails):
        return
    found = (
        await session.scalars(
            _BY_ACCOUNT_OR_EMAIL, {"accounts": list(accounts), "emails": list(emails)}
        )
    ).all()
    by_account = {person.jira_account_id: person for person in found if person.jira_account_id}
    memo: dict[PersonRef, Person | None] = session.info.setdefault(_MEMO, {})
    for ref in refs:
        if ref in memo:
            continue
        person = by_account.get(ref.jira_account_id) if ref.jira_account_id else None
        if person is None and ref.email:
            email = ref.email.strip().lower()
            person = next((p for p in found if email in (p.email, p.upn)), None)
        if person is None and ref.jira_name:
            continue
        if person is not None and (account := _remember(person, ref, remember)):
            by_account[account] = person
        memo[ref] = person


async def _by_jira_name(session: AsyncSession, *, ref: PersonRef, remember: bool) -> Person | None:
    if not ref.jira_name:
        return None
    # Old Jira Server names are usually the mailbox's local part.
    person = await session.scalar(
        select(Person)
        .where(func.lower(Person.email).like(f"{ref.jira_name.lower()}@%"))
        .order_by(Person.id)
        .limit(1)
    )
    if person is not None:
        _remember(person, ref, remember)
    return person


def _remember(person: Person, ref: PersonRef, remember: bool) -> str | None:
    """Teaches the person the Jira account the ref names, if they have none yet; that account,
    or None when nothing was learnt."""
    if not remember or not ref.jira_account_id or person.jira_account_id:
        return None
    person.jira_account_id = ref.jira_account_id
    return ref.jira_account_id
