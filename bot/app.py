"""Builds the aiohttp application: its routes, and the start-up and shutdown of what it owns."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import FileSystemBytecodeCache

from bot.commands import build_registry
from bot.config import Organisation, Settings
from bot.db import Database, utcnow
from bot.dialogs.chat import CustomerChat
from bot.dialogs.storage import SqlStorage
from bot.dialogs.voice import Desk
from bot.directory.service import unbound_audiences
from bot.events.accounts import AccountLookup, LookupSettings
from bot.events.jira_client import JiraClient
from bot.events.jira_system import JiraSystem
from bot.events.routes import Clock, event_routes
from bot.events.writer import EventWriter
from bot.graph.reach import Reacher
from bot.graph.wiring import GraphParts, build_reacher
from bot.notify.compose import Notifier
from bot.notify.dispatcher import DeliverySettings, Dispatcher
from bot.notify.holders import ROLE_OF_AUDIENCE
from bot.notify.metrics import Metrics
from bot.notify.pacing import TENANT_WINDOWS, Pacer, Window
from bot.notify.render import Renderer
from bot.notify.replicas import Replicas
from bot.problems.detector import Detector
from bot.problems.known import problem_suggestion
from bot.reports.dashboard import dashboard_words
from bot.reports.digest import DailyDigest
from bot.reports.links import ReportLinks, link_key
from bot.reports.served import ReportPdfs
from bot.reports.weekly import WeeklyReport
from bot.teams.adapter import create_adapter, create_authentication
from bot.teams.connector_http import ConnectorPoster
from bot.teams.endpoint import messages_route
from bot.teams.handler import EsmbotHandler
from bot.teams.sender import TeamsSender
from bot.teams.tenants import TenantGate
from bot.tickets.actions import TicketActions
from bot.tickets.sweep import Sweeper
from bot.tickets.system import LocalStore, TicketSystem
from bot.web.dashboard import dashboard_routes
from bot.web.errors import error_middleware
from bot.web.health import health_routes
from bot.web.metrics import metrics_routes
from bot.web.report_pdf import report_pdf_routes
from bot.web.tab_sso import KEYS_URL as TAB_KEYS_URL
from bot.web.tab_sso import TabTokens
from scheduler.jobs import leader_jobs
from scheduler.runner import SchedulerRunner

log = logging.getLogger(__name__)

# A round in flight may finish; what it leaves is claimed again after the restart.
SHUTDOWN_GRACE_SECONDS = 5.0
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "messages"

DATABASE = web.AppKey("database", Database)
WRITER = web.AppKey("writer", EventWriter)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
METRICS = web.AppKey("metrics", Metrics)
SCHEDULER = web.AppKey("scheduler", SchedulerRunner)
ACCOUNTS = web.AppKey("accounts", AccountLookup)
POSTER = web.AppKey("poster", ConnectorPoster)
REACHER: web.AppKey[Reacher | None] = web.AppKey("reacher")
LOCAL = web.AppKey("local", bool)


def replica_name(settings: Settings) -> str:
    """The replica's name, the same when it restarts: a new start releases the old one's claims.

    Replicas differ in their host and port. Processes sharing one port on a host
    (ESMBOT_REUSE_PORT) differ in their own port or, with none, in their process id: a
    restarted one then has a new name, and its dead predecessor's claims come back once its
    heartbeat is found dead.
    """
    if settings.replica_name:
        return settings.replica_name
    place = f"{socket.gethostname()}:{settings.own_port or settings.port}"
    if settings.reuse_port and settings.own_port is None:
        place += f":{os.getpid()}"
    return place


def compiled_templates(settings: Settings) -> FileSystemBytecodeCache | None:
    """Where the card templates are kept compiled between starts, if the settings name a folder."""
    if not settings.template_cache:
        return None
    folder = Path(settings.template_cache)
    folder.mkdir(parents=True, exist_ok=True)
    return FileSystemBytecodeCache(str(folder))


def create_app(
    settings: Settings,
    organisation: Organisation,
    *,
    clock: Clock = utcnow,
    delivery: DeliverySettings | None = None,
    dispatch: bool = True,
    schedule: bool = True,
    lookups: LookupSettings | None = None,
    tab_keys_url: str = TAB_KEYS_URL,
    graph: GraphParts | None = None,
) -> web.Application:
    """Everything is built here and passed down: no module-level state anywhere else.

    `dispatch=False` leaves delivery to another process (or to a test that drives it itself);
    `schedule=False` does the same for the sweep of due actions and the leader's jobs;
    `lookups` tunes the look-up of Jira accounts that matched nobody; `tab_keys_url` is where
    the dashboard tab's tokens' signing keys are read (Azure AD's, by tenant); `graph` how
    Microsoft Graph is reached when the settings turn it on (ESMBOT_GRAPH).
    """
    app = web.Application(client_max_size=settings.max_body_bytes, middlewares=[error_middleware])
    organisation = organisation.with_default_tenant(settings.app_tenant_id)
    database = Database(settings.database_url)
    metrics = app[METRICS] = Metrics()
    renderer = Renderer(
        TEMPLATES,
        organisation.default_locale,
        organisation.time_zone,
        compiled=compiled_templates(settings),
    )
    notifier = Notifier(
        renderer,
        organisation,
        jira_base_url=settings.jira_base_url,
        metrics=metrics,
        clock=clock,
        suggest=problem_suggestion(organisation.problems.similarity),
        reaching=settings.graph,
    )
    authentication = create_authentication(settings)
    adapter = create_adapter(authentication, renderer)
    app[POSTER] = adapter.poster
    sender = TeamsSender(adapter, settings.app_id)
    name = replica_name(settings)
    # Teams' limits are the bot's, not a replica's: the dispatchers on one database share them.
    pacer = Pacer(tenant_windows=_tenant_windows(settings))
    dispatcher = Dispatcher(
        database=database,
        send=sender.send,
        reopen=sender.reopen,
        notifier=notifier,
        clock=clock,
        settings=delivery or DeliverySettings(),
        pacer=pacer,
        name=name,
        metrics=metrics,
        replicas=Replicas(database, pacer, name, clock, metrics=metrics),
    )
    reacher = app[REACHER] = (
        build_reacher(
            settings,
            database=database,
            notifier=notifier,
            metrics=metrics,
            clock=clock,
            name=name,
            on_ready=dispatcher.wake,
            parts=graph,
        )
        if settings.graph
        else None
    )

    def wake() -> None:
        """A commit wrote messages: to send, or to reach their person first."""
        dispatcher.wake()
        if reacher is not None:
            reacher.wake()

    lookups = lookups or LookupSettings()
    accounts = app[ACCOUNTS] = AccountLookup(
        database=database,
        client=JiraClient.from_settings(
            settings,
            timeout=lookups.timeout,
            max_attempts=lookups.attempts,
            max_retry_after=lookups.timeout,
        )
        if settings.jira_configured
        else None,
        notifier=notifier,
        metrics=metrics,
        settings=lookups,
        on_commit=wake,
    )
    writer = EventWriter(
        database,
        organisation,
        clock,
        notifier=notifier,
        on_commit=wake,
        on_unmatched=accounts.unmatched,
    )
    app[DATABASE], app[WRITER], app[DISPATCHER] = database, writer, dispatcher
    app[LOCAL] = settings.local_mode
    sweeper = Sweeper(database, organisation, notifier, clock, on_commit=wake)
    links = ReportLinks(
        link_key(
            secret=settings.link_secret,
            app_password=settings.app_password,
            database_url=settings.database_url,
        ),
        settings.base_url,
        clock,
    )
    system = _ticket_system(settings, organisation)
    app[SCHEDULER] = SchedulerRunner(
        database=database,
        organisation=organisation,
        sweeper=sweeper,
        clock=clock,
        name=dispatcher.name,
        jobs=leader_jobs(
            organisation,
            daily=DailyDigest(database, organisation, notifier, clock, on_commit=wake),
            weekly=WeeklyReport(
                database, organisation, notifier, clock, on_commit=wake, links=links
            ),
        ),
        detector=Detector(
            database, organisation, notifier, clock, on_commit=wake, system=system
        ).run,
    )
    actions = TicketActions(
        database=database,
        system=system,
        organisation=organisation,
        clock=clock,
        notifier=notifier,
        on_commit=wake,
    )
    chat = CustomerChat(Desk(database, organisation, actions, renderer), SqlStorage(database))
    handler = EsmbotHandler(
        database=database,
        organisation=organisation,
        registry=build_registry(),
        actions=actions,
        renderer=renderer,
        chat=chat,
        gate=TenantGate(organisation, renderer, metrics),
        links=links,
        jira_base_url=settings.jira_base_url,
    )
    app.add_routes(
        [
            messages_route(adapter, authentication, handler),
            *event_routes(
                database=database,
                writer=writer,
                organisation=organisation,
                settings=settings,
                clock=clock,
                metrics=metrics,
                accounts=accounts,
            ),
            *health_routes(database, gaps=lambda: _unbound(database)),
            *metrics_routes(metrics, database, clock),
            *report_pdf_routes(links, ReportPdfs(database, organisation, renderer, clock)),
            *dashboard_routes(
                database=database,
                organisation=organisation,
                tokens=None
                if settings.local_mode
                else TabTokens(
                    settings.app_id,
                    urlsplit(settings.base_url).netloc,
                    organisation,
                    keys_url=tab_keys_url,
                ),
                clock=clock,
                words_for=partial(dashboard_words, renderer),
            ),
        ]
    )
    app.cleanup_ctx.append(_lifetime(dispatch, schedule))
    return app


async def _unbound(database: Database) -> list[str]:
    async with database.transaction() as session:
        return await unbound_audiences(session, ROLE_OF_AUDIENCE)


async def _warn_of_unbound(database: Database, *, local: bool) -> None:
    """Start-up says which audiences have no channel: their people are written to 1:1. (In
    local mode, where the demo and development bind their channels after start, it only says
    so at DEBUG: an idle bot logs nothing at INFO.)"""
    try:
        unbound = await _unbound(database)
    except Exception as error:  # an unmigrated database says more clearly elsewhere
        log.warning("could not read the channel bindings", exc_info=error)
        return
    for audience in unbound:
        log.log(
            logging.DEBUG if local else logging.WARNING,
            "no channel is bound for an audience: its messages go to its role's holders 1:1"
            " (bind one with /subscribe)",
            extra={"audience": audience},
        )


def _ticket_system(settings: Settings, organisation: Organisation) -> TicketSystem:
    if not settings.jira_configured:
        return LocalStore()
    return JiraSystem(
        JiraClient.from_settings(settings),
        project_key=settings.jira_project_key,
        mapping=organisation.jira,
    )


def _tenant_windows(settings: Settings) -> tuple[Window, ...]:
    if settings.teams_rate_per_second:
        return (Window(1, settings.teams_rate_per_second),)
    return TENANT_WINDOWS


def _lifetime(dispatch: bool, schedule: bool):  # noqa: ANN202 - aiohttp's type is private
    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        await _warn_of_unbound(app[DATABASE], local=app[LOCAL])
        task = asyncio.create_task(app[DISPATCHER].run(), name="dispatcher") if dispatch else None
        reacher = app[REACHER]
        reaching = (
            asyncio.create_task(reacher.run(), name="reacher") if dispatch and reacher else None
        )
        if schedule:
            app[SCHEDULER].start()
        yield
        # Delivery first: the dispatcher withdraws its heartbeat row on the way out, which must
        # not wait behind a scheduler job that shutdown cut off inside its transaction (on
        # SQLite that job's connection keeps the write lock until it is closed).
        if reaching is not None and reacher is not None:
            reacher.stop()
            await asyncio.wait_for(reaching, SHUTDOWN_GRACE_SECONDS)
            await reacher.graph.close()
        if task is not None:
            app[DISPATCHER].stop()
            try:
                await asyncio.wait_for(task, SHUTDOWN_GRACE_SECONDS)
            except TimeoutError:
                log.warning("delivery still busy at shutdown; its rows are sent after restart")
        await app[SCHEDULER].stop()
        await app[WRITER].close()
        await app[ACCOUNTS].close()
        await app[POSTER].close()
        await app[DATABASE].close()
        log.info("stopped cleanly")

    return lifetime
