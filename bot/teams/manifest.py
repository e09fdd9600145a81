"""The Teams app package: manifest.json from the template and the registry, zipped with icons."""

from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.commands import Registry, build_registry
from bot.commands.registry import Command
from bot.notify.words import load_words

MANIFEST_DIR = Path(__file__).resolve().parent.parent.parent / "manifest"
TEMPLATE = MANIFEST_DIR / "manifest.template.json"
ICONS = ("color.png", "outline.png")
WORDS_DIR = MANIFEST_DIR.parent / "templates" / "messages" / "i18n"
# The manifest itself is in English; every other language of the words gets a localization
# file in the package (de.json), which Teams picks by the user's Teams language.
LANGUAGE = "en"
LOCALIZATION_SCHEMA = (
    "https://developer.microsoft.com/en-us/json-schemas/teams/v{version}/"
    "MicrosoftTeams.Localization.schema.json"
)
# What Teams shows of the app, from the words' [manifest] section.
_ABOUT = {
    "name.full": "manifest.name_full",
    "description.short": "manifest.description_short",
    "description.full": "manifest.description_full",
}

# Teams shows at most ten commands per list and cuts descriptions longer than this.
MAX_COMMANDS = 10
MAX_DESCRIPTION = 128

# The registry says "channel" where the manifest says "team"; the order is the manifest's.
TEAMS_SCOPES = {"personal": "personal", "team": "channel", "groupChat": "groupChat"}

# Which commands earn a place in each menu, most useful first. Commands everyone may use come
# before these (customers see the same menu as agents), and commands not named here come after
# them alphabetically, so a new command still shows up while there is room. The rest stay
# reachable through /help.
PRIORITY: dict[str, tuple[str, ...]] = {
    "personal": (
        "help", "queue", "ack", "assign", "reply", "note", "status", "sla", "resolve", "report",
        "ask", "escalate", "priority", "close", "reopen", "whois", "outage",
    ),
    "team": (
        "help", "queue", "ack", "assign", "reply", "status", "sla", "resolve", "subscribe",
        "report", "note", "escalate", "ask", "priority", "close", "reopen", "unsubscribe",
        "outage", "whois",
    ),
    "groupChat": (
        "help", "queue", "ack", "assign", "reply", "note", "status", "sla", "resolve", "escalate",
        "ask", "priority", "close", "reopen", "report", "whois", "outage",
    ),
}  # fmt: skip

# The message extension's commands; their title and description are the words'
# manifest.command.<id>.title and .description, a parameter's manifest.command.<id>.<name>.title
# and .description, in every language.
COMPOSE_COMMANDS: tuple[dict[str, Any], ...] = (
    {"id": "createTicket", "type": "action", "context": ["message"], "fetchTask": True},
    {
        "id": "searchTickets",
        "type": "query",
        "context": ["compose", "commandBox"],
        "initialRun": True,
        "parameters": [{"name": "q", "inputType": "text"}],
    },
)

DEFAULT_WEBSITE = "https://example.com/"

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$")
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def check_app_id(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError(
            f"{value!r} is not a GUID: give the Azure Bot's Microsoft App ID, "
            "like 00000000-0000-0000-0000-000000000000"
        )
    return value.lower()


def check_host(value: str) -> str:
    if "://" in value or "/" in value or ":" in value:
        raise ValueError(
            f"{value!r} is not a host name: give the bot's public host only, without "
            "https://, a port or a path (for example bot.example.com)"
        )
    host = value.lower().removesuffix(".")
    labels = host.split(".")
    # A public DNS name: at least two labels, and a top-level label that is not all digits
    # (which rules out IP addresses; Teams needs a name the certificate is issued for).
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.match(label) for label in labels)
        or labels[-1].isdigit()
    ):
        raise ValueError(
            f"{value!r} is not a host name: give the bot's public DNS name, "
            "for example bot.example.com"
        )
    return host


def check_version(value: str) -> str:
    if not _SEMVER.match(value):
        raise ValueError(f"{value!r} is not a version: Teams wants three numbers, like 1.0.0")
    return value


def check_https_url(value: str) -> str:
    if not value.lower().startswith("https://") or len(value) > 2048 or " " in value:
        raise ValueError(f"{value!r} is not an https:// address")
    return value


def check_developer_name(value: str) -> str:
    if not value.strip() or len(value) > 32:
        raise ValueError(f"{value!r}: the developer name must be 1 to 32 characters")
    return value


def _ranked(commands: list[Command], scope: str) -> list[Command]:
    order = {name: rank for rank, name in enumerate(PRIORITY.get(scope, ()))}
    return sorted(
        commands,
        key=lambda command: (
            command.roles is not None,
            order.get(command.name, len(order)),
            command.name,
        ),
    )


def _fit(summary: str) -> str:
    if len(summary) <= MAX_DESCRIPTION:
        return summary
    return summary[: MAX_DESCRIPTION - 1].rstrip() + "…"


def _summaries(registry: Registry, words: Mapping[str, object]) -> dict[str, str]:
    """Each command's summary as /help says it in the language of these words."""
    found = {command.summary_key: words.get(command.summary_key) for command in registry}
    missing = sorted(key for key, summary in found.items() if not isinstance(summary, str))
    if missing:
        raise ValueError(f"no phrase {missing[0]!r}: every command needs a summary")
    return {key: str(summary) for key, summary in found.items()}


def _phrase(words: Mapping[str, object], key: str) -> str:
    phrase = words.get(key)
    if not isinstance(phrase, str):
        raise ValueError(f"no phrase {key!r}: the manifest needs it")
    return phrase


def translations(
    manifest: Mapping[str, Any], registry: Registry | None = None
) -> dict[str, dict[str, Any]]:
    """The localization file of each language but English, for the menus `manifest` holds.

    Commands keep their names (they are typed as they are); their descriptions are /help's
    summaries in that language.
    """
    registry = registry or build_registry()
    by_name = {command.name: command for command in registry}
    files = {}
    for language, words in sorted(load_words(WORDS_DIR).items()):
        if language == LANGUAGE:
            continue
        described = _summaries(registry, words)
        strings: dict[str, Any] = {
            "$schema": LOCALIZATION_SCHEMA.format(version=manifest["manifestVersion"]),
            "name.short": manifest["name"]["short"],
            **{field: _phrase(words, key) for field, key in _ABOUT.items()},
        }
        if "staticTabs" in manifest:
            strings["staticTabs[0].name"] = _phrase(words, "manifest.tab_name")
        for number, menu in enumerate(manifest["bots"][0]["commandLists"]):
            for place, entry in enumerate(menu["commands"]):
                command = by_name[entry["title"]]
                prefix = f"bots[0].commandLists[{number}].commands[{place}]"
                strings[f"{prefix}.title"] = command.name
                strings[f"{prefix}.description"] = _fit(described[command.summary_key])
        for place, entry in enumerate(manifest["composeExtensions"][0]["commands"]):
            prefix = f"composeExtensions[0].commands[{place}]"
            for field in ("title", "description"):
                strings[f"{prefix}.{field}"] = _command_phrase(words, entry["id"], field)
            for number, parameter in enumerate(entry.get("parameters", [])):
                for field in ("title", "description"):
                    key = f"{parameter['name']}.{field}"
                    phrase = _command_phrase(words, entry["id"], key)
                    strings[f"{prefix}.parameters[{number}].{field}"] = phrase
        files[f"{language}.json"] = strings
    return files


def compose_commands(words: Mapping[str, object]) -> list[dict[str, Any]]:
    """The message extension's commands, named and described in the language of `words`."""
    return [
        {
            **command,
            "title": _command_phrase(words, command["id"], "title"),
            "description": _command_phrase(words, command["id"], "description"),
            **(
                {
                    "parameters": [
                        {
                            **parameter,
                            "title": _command_phrase(
                                words, command["id"], f"{parameter['name']}.title"
                            ),
                            "description": _command_phrase(
                                words, command["id"], f"{parameter['name']}.description"
                            ),
                        }
                        for parameter in command["parameters"]
                    ]
                }
                if "parameters" in command
                else {}
            ),
        }
        for command in COMPOSE_COMMANDS
    ]


def _command_phrase(words: Mapping[str, object], command: str, field: str) -> str:
    return _phrase(words, f"manifest.command.{command}.{field}")


def command_lists(
    registry: Registry, words: Mapping[str, object] | None = None
) -> list[dict[str, Any]]:
    """One list per Teams scope that has commands: the most useful ten, by PRIORITY."""
    described = _summaries(registry, load_words(WORDS_DIR)[LANGUAGE] if words is None else words)
    lists = []
    for teams_scope, scope in TEAMS_SCOPES.items():
        usable = [command for command in registry if scope in command.scopes]
        chosen = _ranked(usable, teams_scope)[:MAX_COMMANDS]
        if chosen:
            lists.append(
                {
                    "scopes": [teams_scope],
                    "commands": [
                        {"title": command.name, "description": _fit(described[command.summary_key])}
                        for command in chosen
                    ],
                }
            )
    return lists


def _fill(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item, values) for item in value]
    if isinstance(value, str):

        def lookup(match: re.Match[str]) -> str:
            if match.group(1) not in values:
                raise ValueError(f"{TEMPLATE.name}: unknown placeholder {match.group(0)}")
            return values[match.group(1)]

        return _PLACEHOLDER.sub(lookup, value)
    return value


def build_manifest(
    *,
    app_id: str,
    host: str | None = None,
    version: str = "1.0.0",
    developer_name: str = "esmbot",
    website_url: str | None = None,
    privacy_url: str | None = None,
    terms_of_use_url: str | None = None,
    registry: Registry | None = None,
    jira_url: str | None = None,
) -> dict[str, Any]:
    """The manifest for this bot; developer links default to the bot's host (or example.com)."""
    app_id = check_app_id(app_id)
    host = check_host(host) if host else None
    website = check_https_url(website_url or (f"https://{host}/" if host else DEFAULT_WEBSITE))
    template = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    languages = load_words(WORDS_DIR)
    english = languages[LANGUAGE]
    manifest: dict[str, Any] = _fill(
        template,
        {
            **{key.split(".", 1)[1]: _phrase(english, key) for key in _ABOUT.values()},
            "app_id": app_id,
            "version": check_version(version),
            "developer_name": check_developer_name(developer_name),
            "website_url": website,
            "privacy_url": check_https_url(privacy_url or website),
            "terms_of_use_url": check_https_url(terms_of_use_url or website),
        },
    )
    manifest["bots"][0]["commandLists"] = command_lists(registry or build_registry(), english)
    manifest["composeExtensions"][0]["commands"] = compose_commands(english)
    # Links Teams asks esmbot to unfold: its own ticket links and the Jira site's issues.
    domains = [host] if host else []
    if jira_url:
        domains.append(urlsplit(check_https_url(jira_url)).netloc.lower())
    if domains:
        manifest["composeExtensions"][0]["messageHandlers"] = [
            {"type": "link", "value": {"domains": list(dict.fromkeys(domains))}}
        ]
    manifest["localizationInfo"]["additionalLanguages"] = [
        {"languageTag": language, "file": f"{language}.json"}
        for language in sorted(languages)
        if language != LANGUAGE
    ]
    if host:
        manifest["validDomains"] = [host]
        # The dashboard tab: a personal tab, and one a team or group chat can add; both sign the
        # viewer on through webApplicationInfo (bot/web/tab_sso.py).
        dashboard = f"https://{host}/dashboard"
        manifest["staticTabs"] = [
            {
                "entityId": "dashboard",
                "name": _phrase(english, "manifest.tab_name"),
                "contentUrl": dashboard,
                "websiteUrl": dashboard,
                "scopes": ["personal"],
            }
        ]
        manifest["configurableTabs"] = [
            {
                "configurationUrl": f"{dashboard}/configure",
                "canUpdateConfiguration": True,
                "scopes": ["team", "groupChat"],
                "context": ["channelTab", "privateChatTab"],
            }
        ]
        manifest["webApplicationInfo"] = {"id": app_id, "resource": f"api://{host}/{app_id}"}
    return manifest


def write_package(
    manifest: dict[str, Any], out: Path, localized: Mapping[str, dict[str, Any]] | None = None
) -> None:
    """manifest.json, its localization files and both icons at the zip's root, as Teams wants."""

    def add(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
        # A fixed timestamp: the same inputs give the same bytes, so packages can be compared.
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_DEFLATED
        archive.writestr(info, data)

    with zipfile.ZipFile(out, "w") as archive:
        add(archive, "manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False).encode())
        for name, strings in (translations(manifest) if localized is None else localized).items():
            add(archive, name, json.dumps(strings, indent=2, ensure_ascii=False).encode())
        for icon in ICONS:
            add(archive, icon, (MANIFEST_DIR / icon).read_bytes())


def _argument(check: Callable[[str], str]) -> Callable[[str], str]:
    """A check as an argparse type, so that its own message reaches the user."""

    def convert(value: str) -> str:
        try:
            return check(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot manifest",
        description="Build the Teams app package (manifest.json and icons, zipped) to upload.",
    )
    parser.add_argument(
        "--app-id",
        required=True,
        type=_argument(check_app_id),
        help="the Azure Bot's Microsoft App ID",
    )
    parser.add_argument(
        "--host", type=_argument(check_host), help="the bot's public host, e.g. bot.example.com"
    )
    parser.add_argument(
        "--version",
        default="1.0.0",
        type=_argument(check_version),
        help="the app's version; raise it for every upload (default 1.0.0)",
    )
    parser.add_argument(
        "--developer-name",
        default="esmbot",
        type=_argument(check_developer_name),
        help="who publishes the app (default esmbot)",
    )
    parser.add_argument(
        "--website-url",
        type=_argument(check_https_url),
        help="default: https://<host>/, or example.com without a host",
    )
    parser.add_argument(
        "--privacy-url", type=_argument(check_https_url), help="default: the website"
    )
    parser.add_argument("--terms-url", type=_argument(check_https_url), help="default: the website")
    parser.add_argument(
        "--jira-url",
        type=_argument(check_https_url),
        help="the Jira site (JIRA_BASE_URL), whose issue links Teams then unfolds into cards",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("esmbot.zip"),
        help="where to write the zip (default esmbot.zip)",
    )
    return parser


def main(argv: list[str]) -> int:
    parser = _parser()
    # `python -m bot manifest -- --app-id ...` passes the separator through; it means nothing here.
    if argv[:1] == ["--"]:
        argv = argv[1:]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse has printed the usage and the reason; hand back its code (2, or 0 for --help).
        return exit_.code if isinstance(exit_.code, int) else 2
    out: Path = args.out
    if not out.parent.is_dir():
        print(f"{parser.prog}: error: the folder {out.parent} does not exist", file=sys.stderr)
        return 2
    manifest = build_manifest(
        app_id=args.app_id,
        host=args.host,
        version=args.version,
        developer_name=args.developer_name,
        website_url=args.website_url,
        privacy_url=args.privacy_url,
        terms_of_use_url=args.terms_url,
        jira_url=args.jira_url,
    )
    try:
        write_package(manifest, out)
    except OSError as error:
        print(f"{parser.prog}: error: cannot write {out}: {error}", file=sys.stderr)
        return 1
    commands = sum(len(entry["commands"]) for entry in manifest["bots"][0]["commandLists"])
    print(
        f"wrote {out.resolve()} (manifest {manifest['manifestVersion']}, "
        f"app version {manifest['version']}, {commands} menu entries); "
        "upload it in Teams under Apps → Manage your apps → Upload an app"
    )
    return 0
