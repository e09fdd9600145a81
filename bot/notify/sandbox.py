"""Jinja's immutable sandbox, with short paths for what cards read and call."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping, MutableSequence, MutableSet
from functools import cache
from types import FunctionType
from typing import Any

from jinja2.runtime import Context, Macro
from jinja2.sandbox import ImmutableSandboxedEnvironment


class Sandbox(ImmutableSandboxedEnvironment):
    """Jinja's immutable sandbox, answering at once for what cards are made of and call.

    For an instance that is no function, method, type, frame, generator or mutable collection,
    the sandbox's checks come down to refusing names that start with an underscore; working
    that out for every attribute a card reads (abstract-class checks included) took a fifth of
    a render's time. esmbot's own functions and the templates' macros take no context and are
    safe to call: Jinja's checks before each call (for the context it might pass, for methods
    that change data or format strings) took another third.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._own_functions: frozenset[Callable[..., Any]] = frozenset()

    def add_functions(self, **functions: Callable[..., Any]) -> None:
        """Makes esmbot's own plain functions (no Jinja context) callable from templates."""
        for name, function in functions.items():
            if not isinstance(function, FunctionType) or hasattr(function, "jinja_pass_arg"):
                raise TypeError(f"{name} must be a plain function")
        self.globals.update(functions)
        self._own_functions |= frozenset(functions.values())

    def call(self, context: Context, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        # Positional-only: a template may pass any keyword, `obj` and `context` included.
        if type(obj) is Macro or (type(obj) is FunctionType and obj in self._own_functions):
            # What Context.call comes down to for these, checks done.
            kwargs.pop("_loop_vars", None)
            kwargs.pop("_block_vars", None)
            try:
                return obj(*args, **kwargs)
            except StopIteration:
                return self.undefined("a callable raised a StopIteration exception")
        return super().call(context, obj, *args, **kwargs)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if _plain_data(type(obj)) and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass  # Jinja's answer: an item of that name, or undefined
        return super().getattr(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if _plain_data(type(obj)):
            return not attr.startswith("_")
        return super().is_safe_attribute(obj, attr, value)


@cache
def _plain_data(kind: type) -> bool:
    params = getattr(kind, "__dataclass_params__", None)
    return (
        params is not None
        and params.frozen
        and not issubclass(kind, type | MutableSet | MutableMapping | MutableSequence)
    )
