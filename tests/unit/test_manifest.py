"""The Teams app package: the official schema, the icons, the zip and the menus against /help."""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from jsonschema import Draft6Validator

from bot.commands import Registry, build_registry
from bot.commands.registry import Command, CommandContext, Reply
from bot.commands.runner import run_command
from bot.config import load_organisation
from bot.config.organisation import ROLES
from bot.directory.models import Conversation, Person
from bot.notify.compose import Notifier
from bot.notify.render import Renderer
from bot.notify.words import load_words
from bot.teams.manifest import (
    LANGUAGE,
    MANIFEST_DIR,
    MAX_COMMANDS,
    TEAMS_SCOPES,
    WORDS_DIR,
    build_manifest,
    command_lists,
    main,
    translations,
)

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "playground/node_modules/@microsoft/app-manifest/build/json-schemas/teams"
APP_ID = "00000000-0000-0000-0000-000000000001"
HOST = "bot.example.com"
JIRA = "https://esmos.atlassian.net/"
ENGLISH = load_words(WORDS_DIR)[LANGUAGE]


def official_schema(version: str, name: str = "MicrosoftTeams.schema.json") -> dict[str, Any]:
    """The schema from Microsoft's npm package; skipped without it, except in CI."""
    path = SCHEMAS / f"v{version}" / name
    if not path.is_file():
        reason = f"{path.relative_to(ROOT)} is missing (run `make playground-deps`, needs npm)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI requires it")
        pytest.skip(reason)
    return cast(dict[str, Any], json.loads(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize(
    ("host", "jira_url"),
    [(HOST, "https://esmos.atlassian.net"), (HOST, None), (None, None), (None, JIRA)],
)
def test_the_manifest_validates_against_the_official_schema(host, jira_url):
    manifest = build_manifest(app_id=APP_ID, host=host, jira_url=jira_url)
    schema = official_schema(manifest["manifestVersion"])

    # These schemas say draft-04 but use draft-06's `const` (for manifestVersion): Draft6 checks it.
    Draft6Validator.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft6Validator(schema).iter_errors(manifest)
    ]
    assert errors == []
    assert manifest["$schema"].endswith(
        f"/v{manifest['manifestVersion']}/MicrosoftTeams.schema.json"
    )


def test_the_placeholders_are_filled_in():
    manifest = build_manifest(app_id=APP_ID.upper(), host="Bot.Example.com", version="2.3.4")

    assert "{{" not in json.dumps(manifest)
    assert manifest["id"] == manifest["bots"][0]["botId"] == APP_ID
    assert manifest["version"] == "2.3.4"
    assert manifest["validDomains"] == [HOST]
    assert manifest["webApplicationInfo"] == {"id": APP_ID, "resource": f"api://{HOST}/{APP_ID}"}
    assert manifest["developer"]["websiteUrl"] == f"https://{HOST}/"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert manifest["bots"][0]["supportsFiles"] is False
    assert manifest["bots"][0]["isNotificationOnly"] is False


def test_the_message_extension_makes_tickets_of_messages_finds_them_and_unfolds_their_links():
    manifest = build_manifest(app_id=APP_ID, host=HOST, jira_url=JIRA)
    extension = manifest["composeExtensions"][0]
    german = translations(manifest)["de.json"]

    assert extension["botId"] == APP_ID
    action, search = extension["commands"]
    assert (action["id"], action["type"], action["context"]) == (
        "createTicket",
        "action",
        ["message"],
    )
    assert action["fetchTask"] is True and action["title"] == "Create a ticket"
    assert german["composeExtensions[0].commands[0].title"] == "Ticket erstellen"
    assert (search["id"], search["type"], search["initialRun"]) == ("searchTickets", "query", True)
    assert search["parameters"][0]["name"] == "q"
    assert german["composeExtensions[0].commands[1].parameters[0].title"] == "Suche"
    # Links to esmbot's own host and to the Jira site's issues are sent to esmbot to unfold.
    assert extension["messageHandlers"] == [
        {"type": "link", "value": {"domains": [HOST, "esmos.atlassian.net"]}}
    ]
    # Without either there is nothing to unfold, and no handler.
    assert "messageHandlers" not in build_manifest(app_id=APP_ID)["composeExtensions"][0]


def test_without_a_host_there_is_no_web_application_info():
    manifest = build_manifest(app_id=APP_ID, website_url="https://desk.example.org/")

    assert "webApplicationInfo" not in manifest
    assert manifest["validDomains"] == []
    assert manifest["developer"]["privacyUrl"] == "https://desk.example.org/"


def _paeth(left: int, up: int, corner: int) -> int:
    guess = left + up - corner
    return min((abs(guess - left), left), (abs(guess - up), up), (abs(guess - corner), corner))[1]


def read_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """Width, height, colour type and the unfiltered rows of an 8-bit, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, chunks, idat = 8, {}, b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        (crc,) = struct.unpack(">I", data[position + 8 + length : position + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = body
        idat += body if kind == b"IDAT" else b""
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert depth == 8 and interlace == 0
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour]
    stride, raw, rows, previous = (
        width * channels,
        zlib.decompress(idat),
        [],
        bytes(width * channels),
    )
    for index in range(height):
        kind, line = raw[index * (stride + 1)], bytearray(raw[index * (stride + 1) + 1 :][:stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up, corner = previous[i], previous[i - channels] if i >= channels else 0
            predictions = (0, left, up, (left + up) // 2, _paeth(left, up, corner))
            line[i] = (line[i] + predictions[kind]) % 256
        rows.append(bytes(line))
        previous = line
    return width, height, colour, rows


def test_the_colour_icon_is_192_pixels_in_full_colour():
    width, height, colour, rows = read_png((MANIFEST_DIR / "color.png").read_bytes())

    assert (width, height) == (192, 192)
    assert colour in (2, 6)  # truecolour, with or without alpha
    assert len({row[i : i + 3] for row in rows for i in range(0, len(row), 3)}) > 2


def test_the_outline_icon_is_32_pixels_white_on_transparent():
    width, height, colour, rows = read_png((MANIFEST_DIR / "outline.png").read_bytes())

    assert (width, height) == (32, 32)
    assert colour == 6  # truecolour with alpha
    pixels = [row[i : i + 4] for row in rows for i in range(0, len(row), 4)]
    assert all(pixel[3] == 0 or pixel[:3] == b"\xff\xff\xff" for pixel in pixels)
    alphas = [pixel[3] for pixel in pixels]
    assert 0 in alphas and 255 in alphas


def test_the_package_holds_the_manifest_its_translations_and_both_icons_at_its_root(
    tmp_path, capsys
):
    out = tmp_path / "esmbot.zip"

    code = main(["--app-id", APP_ID, "--host", HOST, "--version", "1.2.3", "--out", str(out)])

    assert code == 0
    assert str(out) in capsys.readouterr().out
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == [
            "color.png", "de.json", "manifest.json", "outline.png"
        ]  # fmt: skip
        manifest = json.loads(archive.read("manifest.json"))
        german = json.loads(archive.read("de.json"))
        for icon in ("color.png", "outline.png"):
            assert archive.read(icon) == (MANIFEST_DIR / icon).read_bytes()
    assert manifest == build_manifest(app_id=APP_ID, host=HOST, version="1.2.3")
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert german == translations(manifest)["de.json"]
    assert manifest["localizationInfo"] == {
        "defaultLanguageTag": "en",
        "additionalLanguages": [{"languageTag": "de", "file": "de.json"}],
    }


def test_the_german_strings_validate_against_the_official_localization_schema():
    manifest = build_manifest(app_id=APP_ID, host=HOST)
    german = translations(manifest)["de.json"]
    schema = official_schema(manifest["manifestVersion"], "MicrosoftTeams.Localization.schema.json")

    Draft6Validator.check_schema(schema)
    problems = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft6Validator(schema).iter_errors(german)
    ]
    assert problems == []
    assert german["$schema"].endswith(
        f"/v{manifest['manifestVersion']}/MicrosoftTeams.Localization.schema.json"
    )


def test_every_german_menu_entry_is_its_command_with_the_german_help_summary():
    registry = build_registry()
    manifest = build_manifest(app_id=APP_ID)
    german = translations(manifest, registry)["de.json"]
    words = load_words(WORDS_DIR)["de"]
    by_name = {command.name: command for command in registry}

    entries = 0
    for number, menu in enumerate(manifest["bots"][0]["commandLists"]):
        for place, entry in enumerate(menu["commands"]):
            prefix = f"bots[0].commandLists[{number}].commands[{place}]"
            summary = str(words[by_name[entry["title"]].summary_key])
            assert german[f"{prefix}.title"] == entry["title"]  # typed as it is, in any language
            shown = summary if len(summary) <= 128 else summary[:127].rstrip() + "…"
            assert german[prefix + ".description"] == shown
            assert german[prefix + ".description"] != entry["description"], entry["title"]
            entries += 1
    assert entries == sum(len(menu["commands"]) for menu in manifest["bots"][0]["commandLists"])
    assert german["name.full"] == "esmbot — Service-Desk"
    assert german["description.short"].startswith("Ihr IT-Service-Desk in Teams")
    assert manifest["description"]["short"].startswith("Your IT service desk in Teams")


def test_every_listed_command_is_in_the_registry_with_its_english_summary():
    registry = build_registry()
    lists = build_manifest(app_id=APP_ID)["bots"][0]["commandLists"]

    scopes = [entry["scopes"] for entry in lists]
    # One list per scope, as Teams recommends, in the manifest's own order.
    assert scopes == [[scope] for scope in TEAMS_SCOPES if [scope] in scopes]
    for entry in lists:
        (teams_scope,) = entry["scopes"]
        titles = [command["title"] for command in entry["commands"]]
        assert 0 < len(titles) <= MAX_COMMANDS and len(set(titles)) == len(titles)
        for listed in entry["commands"]:
            command = registry.get(listed["title"])
            assert command is not None, listed["title"]
            assert TEAMS_SCOPES[teams_scope] in command.scopes
            summary, description = str(ENGLISH[command.summary_key]), listed["description"]
            assert description == summary or (
                len(summary) > 128 and description == summary[:127].rstrip() + "…"
            )
            assert len(description) <= 128


async def help_lists(registry: Registry, scope: str, roles: frozenset[str]) -> dict[str, str]:
    """The commands /help names, with their summaries, for someone with these roles in this
    kind of conversation, asking in the manifest's language."""
    organisation = load_organisation(ROOT / "esmbot.example.toml")
    renderer = Renderer(ROOT / "templates" / "messages", LANGUAGE, organisation.time_zone)
    context = CommandContext(
        database=cast(Any, None),
        actions=cast(Any, SimpleNamespace(notifier=Notifier(renderer, organisation))),
        person=Person(name="Pat", locale=LANGUAGE, roles=sorted(roles)),
        conversation=Conversation(conversation_id="c", scope=scope, service_url="https://x"),
        roles=roles,
        organisation=organisation,
    )
    reply = await run_command(registry, context, "/help")
    lines = re.findall(r"^- /(\S+)[^\n]*?: (.+)$", reply.text, re.MULTILINE)
    assert lines, reply.text
    # Only what can be typed there: /help may or may not leave out the other scopes' commands.
    return {
        name: summary
        for name, summary in lines
        if scope in cast(Command, registry.get(name)).scopes
    }


@pytest.mark.parametrize("teams_scope", list(TEAMS_SCOPES))
async def test_each_menu_matches_what_help_shows_there(teams_scope):
    registry = build_registry()
    scope = TEAMS_SCOPES[teams_scope]
    menus = {entry["scopes"][0]: entry for entry in command_lists(registry)}
    listed = [command["title"] for command in menus[teams_scope]["commands"]]

    everything = await help_lists(registry, scope, frozenset(ROLES))
    assert set(listed) <= set(everything)
    # The menu describes each command in the words /help uses (shortened only past 128).
    for entry in menus[teams_scope]["commands"]:
        summary = everything[entry["title"]]
        assert summary.startswith(entry["description"].removesuffix("…"))
    if len(everything) <= MAX_COMMANDS:
        assert set(listed) == set(everything)
    else:
        assert len(listed) == MAX_COMMANDS
    # What a customer (no role) may type comes first, so a customer's menu is never cut short.
    for_customers = await help_lists(registry, scope, frozenset())
    assert set(listed[: len(for_customers)]) == set(for_customers)


async def _noop(context: CommandContext, args: Any) -> Reply:
    return Reply("ok")


def test_a_full_menu_keeps_the_most_useful_ten():
    def command(name: str, roles: frozenset[str] | None = frozenset({"agents"})) -> Command:
        return Command(name=name, example=f"/{name}", run=_noop, roles=roles)

    names = ["ack", "assign", "close", "escalate", "note", "queue", "reopen", "reply", "resolve"]
    registry = Registry(
        [command(name) for name in [*names, "sla", "status", "aardvark", "zebra"]]
        + [command("help", roles=None), command("mine", roles=None)]
    )
    words = {command.summary_key: f"Do {command.name}." for command in registry}

    (personal, *_) = command_lists(registry, words)

    titles = [entry["title"] for entry in personal["commands"]]
    assert personal["scopes"] == ["personal"]
    assert titles == ["help", "mine", "queue", "ack", "assign", "reply", "note", "status", "sla", "resolve"]  # fmt: skip


def test_a_long_summary_is_shortened_for_the_menu():
    summary = "word " * 40
    registry = Registry([Command(name="long", example="/long", run=_noop)])

    description = command_lists(registry, {"commands.long.summary": summary})[0]["commands"][0][
        "description"
    ]

    assert len(description) <= 128 and description.endswith("…")
    assert summary.startswith(description.removesuffix("…"))


def test_a_command_without_a_summary_stops_the_manifest():
    registry = Registry([Command(name="mystery", example="/mystery", run=_noop)])

    with pytest.raises(ValueError, match=r"'commands\.mystery\.summary'"):
        command_lists(registry)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--app-id", "not-a-guid"], "'not-a-guid' is not a GUID"),
        (["--app-id", APP_ID, "--host", "https://bot.example.com/api"], "without https://"),
        (["--app-id", APP_ID, "--host", "bot.example.com:443"], "without https://, a port"),
        (["--app-id", APP_ID, "--host", "10.0.0.1"], "'10.0.0.1' is not a host name"),
        (["--app-id", APP_ID, "--host", "bot_example"], "'bot_example' is not a host name"),
        (["--app-id", APP_ID, "--version", "1.0"], "'1.0' is not a version"),
        (["--app-id", APP_ID, "--privacy-url", "http://x.example"], "not an https:// address"),
        (["--host", HOST], "the following arguments are required: --app-id"),
    ],
)
def test_bad_arguments_exit_with_2_and_say_why(arguments, message, tmp_path, capsys):
    out = tmp_path / "esmbot.zip"

    code = main([*arguments, "--out", str(out)])

    assert code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_a_missing_output_folder_is_a_clear_error(tmp_path, capsys):
    code = main(["--app-id", APP_ID, "--out", str(tmp_path / "nowhere" / "esmbot.zip")])

    assert code == 2
    assert "does not exist" in capsys.readouterr().err


def test_with_a_host_the_dashboard_is_a_personal_and_a_channel_tab():
    manifest = build_manifest(app_id=APP_ID, host=HOST)

    (personal,) = manifest["staticTabs"]
    assert (personal["contentUrl"], personal["scopes"]) == (
        f"https://{HOST}/dashboard",
        ["personal"],
    )
    (channel,) = manifest["configurableTabs"]
    assert channel["configurationUrl"] == f"https://{HOST}/dashboard/configure"
    assert "channelTab" in channel["context"]
    assert manifest["webApplicationInfo"]["resource"] == f"api://{HOST}/{APP_ID}"
    assert "staticTabs" not in build_manifest(app_id=APP_ID)
