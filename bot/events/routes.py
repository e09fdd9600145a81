"""The ticket-event endpoints: Jira's webhook, Alertmanager's and the generic event API, answered after the write."""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
from collections.abc import Callable
from datetime import datetime

from aiohttp import web
from sqlalchemy import select

from bot.config import Organisation, Settings
from bot.db import Database
from bot.events.accounts import AccountLookup
from bot.events.alertmanager import SOURCE, NotAnAlert, incident_events, parse_alerts
from bot.events.generic import InvalidEvent, parse_event
from bot.events.jira_auth import jira_refusal
from bot.events.jira_webhook import NotAJiraEvent, parse_webhook
from bot.events.writer import EventWriter
from bot.notify.metrics import Metrics
from bot.tickets.events import TicketEvent
from bot.tickets.flows import Applied
from bot.tickets.lifecycle import IllegalTransition
from bot.tickets.models import Ticket
from bot.tickets.service import next_key
from bot.web.errors import ClientError, Handler, json_error, parse_json_object, read_json_body

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LOCAL_PREFIX = "SR"


def event_routes(
    *,
    database: Database,
    writer: EventWriter,
    organisation: Organisation,
    settings: Settings,
    clock: Clock,
    metrics: Metrics | None = None,
    accounts: AccountLookup | None = None,
) -> list[web.RouteDef]:
    counter = metrics or Metrics()

    async def apply(event: TicketEvent, source: str) -> Applied:
        if accounts is not None:
            # E-mails learned from Jira earlier: no network call stands between event and answer.
            event = accounts.enrich(event)
        try:
            applied = await writer.submit(event)
        except IllegalTransition as error:
            raise ClientError(422, str(error)) from None
        counter.event_received(source, applied.outcome)
        return applied

    async def jira(request: web.Request) -> web.Response:
        raw = await read_json_body(request)
        refusal = jira_refusal(
            settings, raw, request.headers.get("X-Hub-Signature"), request.query.get("token")
        )
        if refusal is not None:
            # Neither the token nor the URL that carries it is logged.
            log.warning("refused a Jira webhook", extra={"reason": refusal})
            return json_error(401, refusal)
        body = parse_json_object(raw)
        try:
            events = parse_webhook(
                body,
                mapping=organisation.jira,
                delivery_id=request.headers.get("X-Atlassian-Webhook-Identifier"),
                now=clock(),
            )
        except NotAJiraEvent as error:
            raise ClientError(400, str(error)) from None
        if not events:
            counter.event_received("jira", "ignored")
            log.info(
                "ignored a Jira event esmbot does not follow",
                extra={"webhook_event": body.get("webhookEvent")},
            )
            return web.json_response(
                {
                    "outcome": "ignored",
                    "reason": f"esmbot does not follow {body.get('webhookEvent')}",
                }
            )
        # One after the other, each in its own commit: a retry of the delivery finds the
        # first a duplicate and still applies the second.
        return _result(*[await apply(event, "jira") for event in events])

    async def generic(request: web.Request) -> web.Response:
        if not settings.api_token:
            return json_error(503, "the event API is switched off: set ESMBOT_API_TOKEN to use it")
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {settings.api_token}".encode()):
            return json_error(401, "missing or wrong bearer token")
        body = parse_json_object(await read_json_body(request))
        key = None
        ticket = body.get("ticket")
        if body.get("type") == "created" and isinstance(ticket, dict) and not ticket.get("key"):
            key = await _local_key(database)
        try:
            event = parse_event(body, key=key, now=clock())
        except InvalidEvent as error:
            raise ClientError(400, str(error)) from None
        return _result(await apply(event, "api"))

    async def alertmanager(request: web.Request) -> web.Response:
        if not settings.api_token:
            return json_error(503, "the event API is switched off: set ESMBOT_API_TOKEN to use it")
        if not _token_given(request.headers.get("Authorization", ""), settings.api_token):
            return json_error(401, "missing or wrong bearer token or basic-auth password")
        body = parse_json_object(await read_json_body(request))
        try:
            alerts = parse_alerts(body)
        except NotAnAlert as error:
            raise ClientError(400, str(error)) from None
        if not alerts:
            return web.json_response({"outcome": "ignored", "reason": "no alerts"})
        applied = []
        # Each alert is an incident of its own; a replayed notification finds every event a
        # duplicate, and a group that mixes firing and resolved alerts is taken alert by alert.
        for alert in alerts:
            key = await _incident_key(database, alert.incident_id)
            for event in incident_events(alert, key=key, now=clock()):
                applied.append(await apply(event, SOURCE))
        return _result(*applied)

    return [
        web.post("/api/events/jira", _counted(counter, "jira", jira)),
        web.post("/api/events/alertmanager", _counted(counter, SOURCE, alertmanager)),
        web.post("/api/events", _counted(counter, "api", generic)),
    ]


def _token_given(header: str, token: str) -> bool:
    """`Bearer <token>`, or basic auth whose password is the token (Alertmanager offers both)."""
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header.removeprefix("Basic ").strip(), validate=True)
        except (ValueError, binascii.Error):
            return False
        password = decoded.decode("utf-8", "replace").partition(":")[2]
        return hmac.compare_digest(password.encode(), token.encode())
    return hmac.compare_digest(header.encode(), f"Bearer {token}".encode())


async def _incident_key(database: Database, incident_id: str) -> str:
    """The key of the incident this outage opened already, or a new one of esmbot's own."""
    async with database.transaction() as session:
        known = await session.scalar(
            select(Ticket.key).where(Ticket.source == SOURCE, Ticket.external_id == incident_id)
        )
        return known or await next_key(session, prefix=LOCAL_PREFIX)


def _counted(metrics: Metrics, source: str, handler: Handler) -> Handler:
    """Counts the requests a handler turned away; it counts those it took itself, by outcome."""

    async def handle(request: web.Request) -> web.StreamResponse:
        try:
            response = await handler(request)
        except (ClientError, web.HTTPClientError):
            metrics.event_received(source, "rejected")
            raise
        except Exception:
            metrics.event_received(source, "error")
            raise
        if response.status >= 400:
            metrics.event_received(source, _outcome(response.status))
        return response

    return handle


def _outcome(status: int) -> str:
    if status == 401:
        return "refused"  # a caller without credentials: worth its own line on a dashboard
    return "rejected" if status < 500 else "error"


async def _local_key(database: Database) -> str:
    # Taken in its own transaction: a number lost to a rejected event is harmless, a shared one not.
    async with database.transaction() as session:
        return await next_key(session, prefix=LOCAL_PREFIX)


def _result(first: Applied, *more: Applied) -> web.Response:
    # One delivery may report two events (a change and a comment): applied if either was.
    outcomes = [applied.outcome for applied in (first, *more)]
    return web.json_response(
        {
            "outcome": "applied" if "applied" in outcomes else first.outcome,
            "ticket": first.ticket_key,
            "changes": [str(change) for applied in (first, *more) for change in applied.changes],
        }
    )
