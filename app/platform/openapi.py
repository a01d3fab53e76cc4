"""/openapi.json with the models that multipart routes name but FastAPI cannot see.

A route that reads its multipart body itself (no disk spooling: app/platform/multipart.py)
describes the body in `openapi_extra` and refers to the JSON `settings` part's model by
`$ref`; FastAPI only registers the models of declared parameters, so the app registers
those here, once, and every `$ref` resolves (tests/app/test_openapi.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


# The server's own limits, stated where its models carry only hard ceilings: (component,
# property, JSON Schema keyword, Settings field). A client generated from /docs then sends
# what this server accepts (tests/app/test_openapi.py fuzzes the schema).
SERVER_LIMITS = (
    ("ImageSettings", "size", "maximum", "max_size"),
    ("ImageSettings", "filters", "maxItems", "max_filters"),
    ("StepsIn", "limit", "maximum", "max_steps_per_page"),
    ("StepsQuery", "limit", "maximum", "max_steps_per_page"),
)


def state_limits(schema: dict, limits: Any) -> None:
    """Lower the bounds of SERVER_LIMITS in `schema`'s components to `limits`' values."""
    components = schema.get("components", {}).get("schemas", {})
    for model, prop, keyword, field in SERVER_LIMITS:
        node = components.get(model, {}).get("properties", {}).get(prop)
        if node is None:
            continue
        value = getattr(limits, field)
        node[keyword] = min(node.get(keyword, value), value)
        if "default" in node and isinstance(node["default"], int) and keyword == "maximum":
            node["default"] = min(node["default"], value)


def register_models(app: FastAPI, models: Iterable[type[BaseModel]],
                    limits: Callable[[], Any] | None = None) -> None:
    """Add `models` (and the models they use) to the components of app's OpenAPI schema,
    keeping any that FastAPI already wrote, and state the server's `limits()` in it."""
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
            if limits is not None:
                state_limits(schema, limits())
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
