"""Card templates compiled once are kept in the folder ESMBOT_TEMPLATE_CACHE names, and read back."""

from __future__ import annotations

from bot.app import TEMPLATES, compiled_templates
from bot.config import Settings, load_settings
from bot.notify.render import Renderer
from bot.notify.views import Reader
from tests.unit.card_samples import SAMPLES

TEMPLATE = "customer/ticket_received"


def render(renderer: Renderer) -> dict[str, object]:
    sample = SAMPLES[TEMPLATE]["realistic"]
    audience, message = TEMPLATE.split("/")
    return renderer.render(
        audience, message, ticket=sample.ticket, reader=Reader(), extras=sample.extras
    ).card


def test_compiled_templates_are_kept_where_the_settings_say_and_render_the_same(tmp_path):
    folder = tmp_path / "compiled"
    settings = load_settings({"ESMBOT_TEMPLATE_CACHE": str(folder)})
    assert compiled_templates(Settings()) is None

    first = render(
        Renderer(TEMPLATES, "en", "Europe/Berlin", compiled=compiled_templates(settings))
    )
    kept = sorted(path.name for path in folder.iterdir())
    again = render(
        Renderer(TEMPLATES, "en", "Europe/Berlin", compiled=compiled_templates(settings))
    )

    assert kept  # the template and the macros it imports
    assert sorted(path.name for path in folder.iterdir()) == kept  # the same files, nothing new
    assert again == first == render(Renderer(TEMPLATES, "en", "Europe/Berlin"))
