"""Bot Framework JSON read into msrest's models as `Model.deserialize` reads it, at a fraction of the cost.

`Activity().deserialize(body)` first collects every model class of the schema module, then for
each of an activity's forty-odd attributes copies its description, runs msrest's key extractors
and dispatches on the type's name: a third of a millisecond per incoming activity. `from_wire`
walks the attribute maps directly for what every activity is made of (dicts for models, lists,
strings, booleans, numbers) and hands every other value to msrest's own `deserialize_data`, so
the objects are the same (tests compare the two on many shapes). Whatever goes wrong is done
again by msrest, so that a malformed activity fails with msrest's own error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from msrest import Deserializer
from msrest.serialization import _FLATTEN, Model, _decode_attribute_map_key

M = TypeVar("M", bound=Model)

# The JSON types that msrest's deserialize_basic hands back unchanged for these type names.
_SAME = {"str": str, "bool": bool, "int": int, "float": float}

# The timestamps Teams sends ("2026-12-01T09:30:12.3456789Z", "...+01:00"), which
# `datetime.fromisoformat` reads as msrest does (digits past the sixth dropped), a hundred
# times faster; a year near either end of the range, where msrest refuses what spills over
# in UTC, and any other spelling are msrest's to read.
_TIMESTAMP = re.compile(r"[12]\d{3}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?(Z|[+-]\d\d:\d\d)")


def from_wire(model: type[M], data: dict[str, Any]) -> M:
    """What `model.deserialize(data)` gives (or raises)."""
    reader = _reader_for(model)
    try:
        found = reader.model(model, data)
    except Exception:
        found = None
    if isinstance(found, model):
        return found
    return model.deserialize(data)


@dataclass(frozen=True)
class _Shape:
    """What msrest works out about a model class on every call, worked out once."""

    blank: dict[str, None]  # every attribute, in the attribute map's order
    by_key: dict[str, tuple[str, str]]  # JSON key: attribute, type name
    readonly: tuple[str, ...]
    passed: frozenset[str] | None  # the attributes given to the constructor, if not all


class _Reader:
    """Reads one schema module's models; anything it does not handle raises _Unusual."""

    def __init__(self, deserializer: Deserializer) -> None:
        self._msrest = deserializer
        self._models = deserializer.dependencies
        self._shapes: dict[type[Model], _Shape] = {}

    def model(self, model: type[Model], data: Any) -> Model:
        if type(data) is not dict:
            raise _Unusual
        shape = self._shapes.get(model) or self._shape(model)
        # An activity names a dozen of its forty-odd attributes: the rest stay None.
        values: dict[str, Any] = dict(shape.blank)
        extra: dict[str, Any] = {}
        for key, value in data.items():
            known = shape.by_key.get(key)
            if known is None:
                extra[key] = value
            elif value is not None:
                values[known[0]] = self._value(value, known[1])
        passed = shape.passed
        found = model(**(values if passed is None else {a: values[a] for a in passed}))
        for attr in shape.readonly:
            setattr(found, attr, values[attr])
        if extra:
            found.additional_properties = extra
        return found

    def _value(self, value: Any, kind: str) -> Any:
        if value is None:
            return None
        same = _SAME.get(kind)
        if same is not None and type(value) is same:
            return value
        if kind[0] == "[" and kind[-1] == "]" and type(value) is list:
            return [self._value(item, kind[1:-1]) for item in value]
        if kind == "iso-8601" and type(value) is str and _TIMESTAMP.fullmatch(value):
            return datetime.fromisoformat(value)  # a day or hour out of range: ValueError
        model = self._models.get(kind)
        if isinstance(model, type) and issubclass(model, Model) and type(value) is dict:
            return self.model(model, value)
        # Dates, "object" values, enums, dicts of models, and any value of another type than
        # its declaration's: exactly msrest's answer, since msrest gives it.
        return self._msrest.deserialize_data(value, kind)

    def _shape(self, model: type[Model]) -> _Shape:
        attribute_map: dict[str, dict[str, Any]] = model._attribute_map
        validation: dict[str, dict[str, Any]] = getattr(model, "_validation", {})
        if getattr(model, "_subtype_map", None) or "additional_properties" in attribute_map:
            raise _Unusual  # polymorphic or open models: msrest's own rules apply
        by_key = {
            description["key"]: (attr, description["type"])
            for attr, description in attribute_map.items()
        }
        # msrest takes every key it does not know as an additional property; with flattened
        # ("a.b"), escaped or shared keys the known ones would be more than the keys above.
        known = {_decode_attribute_map_key(_FLATTEN.split(key)[0]) for key in by_key if key}
        if len(by_key) != len(attribute_map) or known != set(by_key):
            raise _Unusual
        readonly = tuple(name for name, rule in validation.items() if rule.get("readonly"))
        constant = {name for name, rule in validation.items() if rule.get("constant")}
        passed = set(attribute_map) - set(readonly) - constant
        shape = _Shape(
            blank=dict.fromkeys(attribute_map),
            by_key=by_key,
            readonly=readonly,
            passed=None if passed == set(attribute_map) else frozenset(passed),
        )
        self._shapes[model] = shape
        return shape


class _Unusual(Exception):
    """A shape this reader leaves to msrest."""


def _reader_for(model: type[Model]) -> _Reader:
    reader = _READERS.get(model.__module__)
    if reader is None:
        reader = _READERS[model.__module__] = _Reader(Deserializer(model._infer_class_models()))
    return reader


_READERS: dict[str, _Reader] = {}
