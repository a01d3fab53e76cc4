"""/openapi.json with the models that multipart routes name but FastAPI cannot see.

A route that reads its multipart body itself (no disk spooling: app/platform/multipart.py)
describes the body in `openapi_extra` and refers to the JSON `settings` part's model by
`$ref`; FastAPI only registers the models of declared parameters, so the app registers
those here, once, and every `$ref` resolves (tests/app/test_openapi.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import FastAPI
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


def register_models(app: FastAPI, models: Iterable[type[BaseModel]]) -> None:
    """Add `models` (and the models they use) to the components of app's OpenAPI schema,
    keeping any that FastAPI already wrote."""
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
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
