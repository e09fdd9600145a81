"""Matches the people a ticket source names (Jira accounts, e-mails, names) to people esmbot knows."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.directory.models import Person
from bot.tickets.events import PersonRef


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
    memo: dict[PersonRef, Person | None] = session.info.setdefault("matched_people", {})
    if ref in memo:
        return memo[ref]
    memo[ref] = person = await _lookup(session, ref=ref, remember=remember)
    return person


async def _lookup(session: AsyncSession, *, ref: PersonRef, remember: bool) -> Person | None:
    if ref.jira_account_id:
        person = await session.scalar(
            select(Person).where(Person.jira_account_id == ref.jira_account_id)
        )
        if person is not None:
            return person
    person = None
    if ref.email:
        email = ref.email.strip().lower()
        person = await session.scalar(
            select(Person)
            .where(or_(Person.email == email, Person.upn == email))
            .order_by(Person.id)
            .limit(1)
        )
    if person is None and ref.jira_name:
        # Old Jira Server names are usually the mailbox's local part.
        person = await session.scalar(
            select(Person)
            .where(func.lower(Person.email).like(f"{ref.jira_name.lower()}@%"))
            .order_by(Person.id)
            .limit(1)
        )
    if person is not None and remember and ref.jira_account_id and person.jira_account_id is None:
        person.jira_account_id = ref.jira_account_id
    return person
