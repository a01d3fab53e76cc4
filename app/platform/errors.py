"""Client errors as JSON: `{"detail": "...", "code": "..."}` with a 4xx status.

Validation errors keep FastAPI's shape (`{"detail": [{"loc", "msg", "type"}]}`); core's
GeometryError becomes a 422 whose detail is core's own message. Nothing a client sends may
end in a 5xx: every path that reads client input raises one of these.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from app.platform.middleware.security_headers import PAGE_CSP, STATIC_HEADERS
from app.platform.nav import nav
from app.platform.schemas.common import ErrorOut
from core import GeometryError


class ApiError(StarletteHTTPException):
    """A client mistake or a refusal, answered as `{"detail", "code"}` with `status`: the one
    error type of the app (the body limits' and the admission's refusals are ApiErrors too).

    An HTTPException, so that one raised while FastAPI reads a body (the body limits, from
    `receive`) reaches its handler unchanged instead of becoming FastAPI's generic 400."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status, detail, headers=headers or {})
        self.status = status
        self.code = code
        self.detail = detail


def error_body(code: str, detail: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


def wants_html(request: Request) -> bool:
    """A browser asking for a page: a GET or HEAD whose Accept names text/html, outside
    /api/, /static/ and /openapi.json (those answer JSON whatever the Accept says)."""
    path = request.url.path
    return (request.method in ("GET", "HEAD")
            and "text/html" in request.headers.get("accept", "")
            and not path.startswith(("/api/", "/static/", "/openapi.json")))


_PAGE_TITLES = {404: "No page at this address", 405: "No page at this address",
                422: "This address asks for something the page does not have"}


def error_page(request: Request, status: int, reason: str,
               details: list[str] | None = None) -> Response:
    """The HTML error page (templates/error.html: the site nav, the reason, a link home)."""
    links = nav(request, "")
    home = links[0]["href"] if links else "/"
    title = _PAGE_TITLES.get(status, "This page could not be shown")
    return request.app.state.templates.TemplateResponse(
        request, "error.html", {"nav": links, "title": title, "reason": reason,
                                "details": details or [], "home": home},
        status_code=status)


def _validation_lines(errors: list[dict]) -> list[str]:
    """One line per invalid query value: `fn = 'nonsense': Input should be ...`."""
    lines = []
    for e in errors:
        loc = [str(x) for x in e.get("loc", ()) if x not in ("query", "path", "body")]
        given = e.get("input")
        small = isinstance(given, str | int | float) and _small_input(given)
        shown = f" = {given!r}" if small else ""
        lines.append(f"{'.'.join(loc) or 'the address'}{shown}: {e.get('msg', '')}")
    return lines


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    if wants_html(request) and 400 <= exc.status < 500:
        return error_page(request, exc.status, exc.detail)
    return JSONResponse(error_body(exc.code, exc.detail), status_code=exc.status,
                        headers=exc.headers)


def _small_input(value: Any) -> bool:
    """Echo an input back only when it is a short scalar (never NaN, never a whole array)."""
    if isinstance(value, bool) or value is None:
        return True
    if isinstance(value, int | float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= 200


async def _validation_error(request: Request, exc: Exception) -> Response:
    """FastAPI's `{"detail": [{"loc", "msg", "type", ...}]}`, made safe to serialise (a
    browser asking for a page gets the same lines on the HTML error page)."""
    assert isinstance(exc, RequestValidationError)
    if wants_html(request):
        return error_page(request, 422, "A value in the address is not one the page knows:",
                          _validation_lines(list(exc.errors())))
    detail = []
    for e in exc.errors():
        item = {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                "type": str(e.get("type", ""))}
        if "input" in e and _small_input(e["input"]):
            item["input"] = e["input"]
        if e.get("ctx"):
            item["ctx"] = {k: v if _small_input(v) else str(v) for k, v in e["ctx"].items()}
        detail.append(item)
    return JSONResponse({"detail": detail}, status_code=422)


async def _geometry_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(error_body("geometry", str(exc)), status_code=422)


# FastAPI's words when a JSON body is not UTF-8 text (it answers 400, an undocumented
# status with no code); valid UTF-8 that is not JSON is already a 422 "json_invalid".
_UNPARSABLE_BODY = "There was an error parsing the body"


def json_problem(cause: BaseException | None) -> str:
    """What is wrong with a JSON body that json.loads could not turn into values."""
    if isinstance(cause, RecursionError):
        return ("JSON decode error: the body nests arrays or objects too deeply; the "
                "arrays of this API have at most 4 levels.")
    if isinstance(cause, ValueError) and "integer string conversion" in str(cause):
        return ("JSON decode error: an integer in the body has more than 4300 digits; "
                "numbers of this API are at most 1e6 in size.")
    return "JSON decode error: the body is not UTF-8 text; send JSON as UTF-8."


# The server's own log (uvicorn's, at info level): one line per client that hung up.
SERVER_LOG = logging.getLogger("uvicorn.error")


async def _client_disconnect(request: Request, _exc: Exception) -> Response:
    """A client that hung up before its request body arrived (starlette's ClientDisconnect,
    from any route that reads a body): one line at info level, no traceback. The answer
    is never sent; the connection is gone."""
    SERVER_LOG.info("%s %s: the client disconnected before its request body arrived.",
                    request.method, request.url.path)
    return Response(status_code=400)


async def _http_error(request: Request, exc: Exception) -> Response:
    """A JSON body FastAPI cannot parse (not UTF-8, nested too deeply, an integer too long
    for Python) is a 422 like any other invalid JSON, saying which; a browser asking for a
    page that does not exist gets the HTML error page; the rest as FastAPI. A body FastAPI
    could not read because the client hung up is a disconnect."""
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc.__cause__, ClientDisconnect):
        return await _client_disconnect(request, exc.__cause__)
    if exc.status_code in (404, 405) and wants_html(request):
        return error_page(request, exc.status_code,
                          f"convstep has no page at {request.url.path}.")
    if exc.status_code == 400 and exc.detail == _UNPARSABLE_BODY:
        return JSONResponse({"detail": [{
            "loc": ["body"], "type": "json_invalid", "msg": json_problem(exc.__cause__)}]},
            status_code=422)
    return await http_exception_handler(request, exc)


async def _internal_error(_request: Request, exc: Exception) -> JSONResponse:
    """An unexpected error: a 500 with every security header. Starlette sends it from its
    outermost middleware, outside SecurityHeadersMiddleware, so the headers are set here;
    the traceback still goes to the server's log, never to the client."""
    return JSONResponse(error_body("internal_error", "The server failed on this request; "
                                   "it has been logged."), status_code=500,
                        headers={**STATIC_HEADERS, "Content-Security-Policy": PAGE_CSP})


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnect)
    app.add_exception_handler(GeometryError, _geometry_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _internal_error)


# The errors of the routes that take weights ids and uploads (network and filters), for /docs.
UPLOAD_ERRORS = {
    404: {"model": ErrorOut, "description": "Unknown weights id or training job."},
    413: {"model": ErrorOut, "description": "A file or drawing over a limit."},
    415: {"model": ErrorOut, "description": "Not multipart, or not a file this route reads."},
    422: {"description": "Invalid fields, no digit in the drawing, or a weight file whose "
                         "tensors do not fit (the message names the tensor and the shapes)."},
    503: {"model": ErrorOut, "description": "Busy (too many computations or training jobs)."},
}
