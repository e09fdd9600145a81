"""Bot Framework models as the JSON the connector expects, without msrest's costly round trip.

msrest's `Serializer.body` first rebuilds the model it is given through its deserialiser,
validates it against constraints that no Bot Framework model declares, and then serialises it
attribute by attribute, raising and catching an exception for every attribute left empty (an
Activity has about forty). For a reply carrying a card that took 0.7 ms, most of a turn's
serialisation. `to_wire` gives the same JSON (tests compare the two on many shapes) by walking
the models' attribute maps; whatever it does not know it hands back to msrest.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msrest import Serializer
from msrest.serialization import Model

_PLAIN = {"str": str, "bool": bool, "int": int, "float": float}
_JSON_SCALARS = (str, int, float, bool)


def as_json(model: Model) -> dict[str, Any]:
    """What `model.serialize()` gives, by way of `to_wire`."""
    return to_wire(model, _serializer_for(type(model)))


def _serializer_for(model: type[Model]) -> Serializer:
    serializer = _SERIALIZERS.get(model.__module__)
    if serializer is None:
        serializer = _SERIALIZERS[model.__module__] = Serializer(model._infer_class_models())
    return serializer


_SERIALIZERS: dict[str, Serializer] = {}


def to_wire(model: Model, serializer: Serializer) -> dict[str, Any]:
    """The model's JSON body, as `serializer.body(model, <its type>)` would give it."""
    serialized: dict[str, Any] = {}
    for attr, description in type(model)._attribute_map.items():
        value = getattr(model, attr, None)
        if value is None:
            continue
        serialized[description["key"]] = _value(value, description["type"], serializer)
    return serialized


def _value(value: Any, data_type: str, serializer: Serializer) -> Any:
    if value is None:
        return None
    plain = _PLAIN.get(data_type)
    if plain is not None and type(value) is plain:
        return value
    if data_type == "object" and _is_json(value):
        return value
    if data_type == "iso-8601" and isinstance(value, datetime):
        return Serializer.serialize_iso(value)
    if data_type.startswith("[") and data_type.endswith("]") and isinstance(value, list):
        return [_value(item, data_type[1:-1], serializer) for item in value]
    if data_type.startswith("{") and data_type.endswith("}") and isinstance(value, dict):
        return {key: _value(item, data_type[1:-1], serializer) for key, item in value.items()}
    if isinstance(value, Model) and data_type in serializer.dependencies:
        return to_wire(value, serializer)
    return serializer.serialize_data(value, data_type)


def _is_json(value: Any) -> bool:
    """Plain JSON (what a card parsed from its template is), which msrest would copy unchanged."""
    if value is None or type(value) in _JSON_SCALARS:
        return True
    if type(value) is dict:
        return all(type(key) is str and _is_json(item) for key, item in value.items())
    if type(value) is list:
        return all(_is_json(item) for item in value)
    return False


class WireSerializer(Serializer):
    """msrest's serializer, with request bodies that are models built by `to_wire`."""

    def body(self, data: Any, data_type: str, **kwargs: Any) -> Any:
        model = self.dependencies.get(data_type)
        if isinstance(data, Model) and model is not None and isinstance(data, model) and not kwargs:
            return to_wire(data, self)
        return super().body(data, data_type, **kwargs)


def use_wire_serializer(client: Any) -> None:
    """Has a ConnectorClient's operations write their request bodies through `WireSerializer`."""
    serializer = WireSerializer(client._serialize.dependencies)
    client._serialize = serializer
    for operations in (client.attachments, client.conversations):
        operations._serialize = serializer
