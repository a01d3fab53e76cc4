"""Client errors as JSON: `{"detail": "...", "code": "..."}` with a 4xx status.

Validation errors keep FastAPI's shape (`{"detail": [{"loc", "msg", "type"}]}`); core's
GeometryError becomes a 422 whose detail is core's own message. Nothing a client sends may
end in a 5xx: every path that reads client input raises one of these.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from core import GeometryError


class ApiError(Exception):
    """A client mistake or a refusal, answered as `{"detail", "code"}` with `status`."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}


def too_large(detail: str, code: str = "too_large") -> ApiError:
    return ApiError(413, code, detail)


def error_body(code: str, detail: str) -> dict[str, str]:
    return {"detail": detail, "code": code}


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.code, exc.detail), status_code=exc.status,
                        headers=exc.headers)


async def _geometry_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(error_body("geometry", str(exc)), status_code=422)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(GeometryError, _geometry_error)
