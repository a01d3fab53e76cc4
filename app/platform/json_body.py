"""JSON request bodies read within their limit and parsed off the event loop, at a cost.

FastAPI parses a JSON body with json.loads on the event loop and then validates the Python
lists it built, also on the loop: one 8 MB body of zeros held the loop for 2 s and took
+273 MB before any element check (issue 10, item 5). A route of `JSONBodyRoute` instead:

1. reads the raw body (BodyLimitMiddleware bounds it by max_json_bytes): a request that
   waits holds at most these bytes;
2. counts, in the raw bytes, a lower bound of the numbers it holds (commas that follow a
   number) and refuses with 413 a body holding more than its arrays may
   (max_array_elements each), and an upper bound of what parsing it costs
   (PARSE_BYTES_PER_TOKEN per comma or opening bracket);
3. parses and validates it in one pass (pydantic's JSON parser, `strict` when the route
   asks for it: "1", true or "3" are then no numbers) in the thread pool, holding that
   cost in the memory budget (app/platform/heavy.py);
4. hands the model to FastAPI, which passes an instance of the body's model through as it
   is (no second validation).

A body that is not JSON, nests too deeply or holds an integer too long to be a number is a
422 saying so, located under "body" like FastAPI's own errors.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from app.platform.config import Settings, get_settings
from app.platform.errors import ApiError
from app.platform.heavy import admitted

# Upper bound of what parsing costs per token (a comma or an opening bracket) of the raw
# JSON, measured with pydantic's parser: 111 bytes per token for a (1, 512, 512, 1) array
# (one list object per number), 74 for rows of 4 numbers, 15 for rows of 16.
PARSE_BYTES_PER_TOKEN = 128
# Numbers a body may hold besides its arrays' elements (pad_value pairs, shape, scalars).
SCALAR_ALLOWANCE = 64


def numbers_at_least(raw: bytes) -> int:
    """A lower bound of the numbers in a JSON text: its commas, less those that follow the
    end of an array, an object, a string, true, false or null. (A comma after spaces is
    not counted: the bound stays a lower one.)"""
    not_after_number = sum(raw.count(s) for s in (b"],", b"},", b'",', b"e,", b"l,"))
    return raw.count(b",") - not_after_number


def parse_cost(raw: bytes) -> int:
    """Upper bound of the bytes that parsing `raw` into Python lists allocates."""
    return len(raw) + PARSE_BYTES_PER_TOKEN * (raw.count(b",") + raw.count(b"[") + 1)


def _array_fields(model: type[BaseModel]) -> int:
    """How many of the model's fields are arrays (nested lists), at any depth of models."""
    n = 0
    for field in model.model_fields.values():
        text = str(field.annotation)
        if text.startswith("list[") or "typing.Annotated[list[" in text:
            n += 1
    return n


def _located(exc: ValidationError, raw: bytes) -> RequestValidationError:
    """pydantic's errors, located under "body" as FastAPI locates them, with the JSON
    parser's words for a body that is not JSON."""
    errors = []
    for e in exc.errors(include_url=False):
        e = dict(e)
        e["loc"] = ("body", *e.get("loc", ()))
        if e.get("type") == "json_invalid":
            e["msg"] = _json_words(str(e.get("ctx", {}).get("error", e.get("msg", ""))))
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                e["msg"] = "JSON decode error: the body is not UTF-8 text; send JSON as UTF-8."
            e["input"] = None
        errors.append(e)
    return RequestValidationError(errors)


def _json_words(error: str) -> str:
    if "recursion limit" in error:
        return ("JSON decode error: the body nests arrays or objects too deeply (" + error
                + "); the arrays of this API have at most 4 levels.")
    if "number out of range" in error:
        return ("JSON decode error: a number in the body is too long to read (" + error
                + "); numbers of this API are at most 1e6 in size.")
    return f"JSON decode error: {error}"


async def parse_body(request: Request, model: type[BaseModel], settings: Settings,
                     strict: bool) -> BaseModel:
    """The request's JSON body as `model`, parsed in the thread pool within the budget."""
    raw = await request.body()
    arrays = _array_fields(model)
    if arrays:
        most = arrays * settings.max_array_elements + SCALAR_ALLOWANCE
        n = numbers_at_least(raw)
        if n > most:
            raise ApiError(413, "too_many_elements",
                           f"body: it holds at least {n} numbers; its {arrays} arrays may hold "
                           f"{settings.max_array_elements} each (max_array_elements, "
                           "CONVSTEP_MAX_ARRAY_ELEMENTS).")

    def parse() -> BaseModel:
        try:
            return model.model_validate_json(raw, strict=strict)
        except ValidationError as exc:
            raise _located(exc, raw) from None

    cost = parse_cost(raw)
    async with admitted(request, cost, "parsing this body"):
        body = await run_in_threadpool(parse)
    request.state.body_cost = cost  # the route counts what the parsed body holds
    return body


def _is_json(content_type: str | None) -> bool:
    """What FastAPI reads as JSON: application/json or application/*+json."""
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/")
                                          and kind.endswith("+json"))


class JSONBodyRoute(APIRoute):
    """An APIRoute whose JSON body model is parsed by parse_body (see the module)."""

    strict = False

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        model = self.body_field.field_info.annotation if self.body_field is not None else None
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            return handler
        strict = self.strict

        async def parse_then_handle(request: Request) -> Response:
            # Only a JSON body with content: FastAPI answers the others (an empty body, or
            # another Content-Type, is its 422 without parsing anything).
            if _is_json(request.headers.get("content-type")) and await request.body():
                overrides = request.app.dependency_overrides
                settings = overrides.get(get_settings, get_settings)()
                request._json = await parse_body(request, model, settings, strict)
            return await handler(request)

        return parse_then_handle


class StrictJSONBodyRoute(JSONBodyRoute):
    """JSONBodyRoute with strict types: a number is a JSON number, never "1" or true."""

    strict = True


