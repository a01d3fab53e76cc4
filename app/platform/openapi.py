"""/openapi.json as this server enforces it: the models multipart routes name but FastAPI
cannot see, the server's own limits, and integer bounds written as integers.

- A route that reads its multipart body itself (no disk spooling: app/platform/multipart.py)
  describes the body in `openapi_extra` and refers to the JSON `settings` part's model by
  `$ref`; FastAPI only registers the models of declared parameters, so the app registers
  those here, once, and every `$ref` resolves (tests/app/test_openapi.py).
- A bound that a server setting decides (size at most max_size, epochs at most
  max_job_epochs, ...) is declared where the field is, as `x-convstep-limits`
  {keyword: setting} (app/platform/schemas/common.py's `server_limit`); here every such
  keyword is lowered to this server's value, so a client generated from /docs stays
  within it (tests/app/test_openapi_acceptance.py fuzzes the schema).
- A rule across fields (or on what the server holds) that JSON Schema cannot say is an
  `x-convstep-rules` entry (app/platform/schemas/common.py's Rule); the settings it
  depends on are given here with this server's values.
- FastAPI's OpenAPI models keep `minimum`/`maximum` as floats (`"maximum": 64.0`): for an
  integer that reads, to JSON Schema tools, as "2.0 is allowed", which this server's
  strict JSON refuses; they are written back as integers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.platform.network_config import get_network_limits
from app.platform.schemas.common import LIMITS_KEY, RULES_KEY, WHOLE_INTEGERS

REF = "#/components/schemas/{model}"
BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")


def _nodes(node: Any):
    """Every dict in a JSON document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def state_limits(schema: dict, values: dict[str, Any]) -> None:
    """Lower every `x-convstep-limits` keyword of `schema` to the setting's value in
    `values` (and a default over it, which the server caps the same way), give the values
    of the settings the rules depend on, add each rule's words to the fields it names, and
    write integer bounds as integers."""
    for node in _nodes(schema):
        for keyword, setting in node.get(LIMITS_KEY, {}).items():
            value = values[setting]
            node[keyword] = min(node.get(keyword, value), value)
            default = node.get("default")
            if keyword == "maximum" and isinstance(default, int | float) and default > value:
                node["default"] = value
        for rule in node.get(RULES_KEY, ()):
            if isinstance(rule.get("settings"), list):
                rule["settings"] = {name: values[name] for name in rule["settings"]}
            for name in rule.get("fields", ()):
                field = node["properties"][name]
                if rule["says"] not in field.get("description", ""):
                    field["description"] = f"{field.get('description', '')} {rule['says']}".strip()
        if node.get("type") == "integer":
            for keyword in BOUNDS:
                if isinstance(node.get(keyword), float) and node[keyword].is_integer():
                    node[keyword] = int(node[keyword])


def register_models(app: FastAPI, models: Iterable[type[BaseModel]],
                    limits: Callable[[], Any] | None = None) -> None:
    """Add `models` (and the models they use) to the components of app's OpenAPI schema,
    keeping any that FastAPI already wrote, and state the server's `limits()` (and its
    network limits, as the app's dependency gives them) in it."""
    models = tuple(models)
    build = app.openapi

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = build()
            _, defs = models_json_schema([(m, "validation") for m in models],
                                         ref_template=REF)
            known = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, model_schema in defs.get("$defs", {}).items():
                known.setdefault(name, model_schema)
            network = app.dependency_overrides.get(get_network_limits, get_network_limits)()
            values = {**network.model_dump(), **(limits().model_dump() if limits else {})}
            schema[RULES_KEY] = [WHOLE_INTEGERS.schema()]  # the document's own rules
            state_limits(schema, values)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
