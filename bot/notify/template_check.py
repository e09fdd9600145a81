"""Checks the templates before their first render (all output goes through json) and the words."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import chain

from jinja2 import Environment, nodes

from bot.notify.template_error import TemplateError
from bot.notify.words import BASE_LANGUAGE


class TemplateChecker:
    """Remembers the templates it has passed, so that each is read and checked once."""

    def __init__(self, env: Environment) -> None:
        self._env = env
        self._checked: set[str] = set()

    def check(self, name: str) -> None:
        """Loads a template and the ones it uses, refusing any output not passed to json."""
        if name in self._checked:
            return
        try:
            if self._env.loader is None:
                raise LookupError("the environment has no template loader")
            source, _, _ = self._env.loader.get_source(self._env, name)
            tree = self._env.parse(source, name)
        except Exception as error:  # not found, or a syntax error with its line
            raise TemplateError(f"{type(error).__name__}: {error}", template=name) from None
        macros = {macro.name for macro in tree.find_all(nodes.Macro)} | {"caller"}
        imports = {node.target for node in tree.find_all(nodes.Import)}
        for from_import in tree.find_all(nodes.FromImport):
            macros |= {name if isinstance(name, str) else name[1] for name in from_import.names}
        for output in tree.find_all(nodes.Output):
            for child in output.nodes:
                if not _is_safe_output(child, macros, imports):
                    message = (
                        f"line {child.lineno}: every {{{{ }}}} must end in '| json' or call a macro"
                    )
                    raise TemplateError(message, template=name)
        self._checked.add(name)
        uses: Iterator[nodes.Import | nodes.FromImport | nodes.Include | nodes.Extends] = chain(
            tree.find_all(nodes.Import),
            tree.find_all(nodes.FromImport),
            tree.find_all(nodes.Include),
            tree.find_all(nodes.Extends),
        )
        for used in uses:
            if isinstance(used.template, nodes.Const):
                self.check(used.template.value)


def missing_phrases(languages: Mapping[str, Mapping[str, object]]) -> dict[str, list[str]]:
    """Per language, the keys English has and it lacks (they are said in English meanwhile)."""
    base = languages.get(BASE_LANGUAGE, {})
    missing = {
        language: sorted(set(base) - set(words))
        for language, words in languages.items()
        if language != BASE_LANGUAGE
    }
    return {language: keys for language, keys in missing.items() if keys}


def _is_safe_output(node: nodes.Node, macros: set[str], imports: set[str]) -> bool:
    if isinstance(node, nodes.TemplateData | nodes.Filter):
        return not isinstance(node, nodes.Filter) or node.name == "json"
    callee = node.node if isinstance(node, nodes.Call) else None
    if isinstance(callee, nodes.Getattr) and isinstance(callee.node, nodes.Name):
        return callee.node.name in imports  # m.header(...) from an imported macro file
    return isinstance(callee, nodes.Name) and callee.name in macros
