"""multipart/form-data read fully in memory, within a byte limit (nothing is spooled to disk).

Starlette's form parser spools file parts over 1 MiB to a temporary file; an upload must
never touch the disk, so every route that takes a file reads its body with `read_upload`:
the route's own file limit (a FileLimit: its bytes and the words naming it) refuses a
declared Content-Length at once and a streamed body as soon as it passes, and the parts are
split with python-multipart's parser. (BodyLimitMiddleware bounds every multipart body by
the largest file limit first.)
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from fastapi import Request
from pydantic import BaseModel
from python_multipart.exceptions import FormParserError, MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from app.platform.errors import ApiError
from app.platform.schemas.common import server_limit

MAX_PARTS = 4
# The multipart envelope and the settings JSON travel next to the uploaded file.
MULTIPART_OVERHEAD = 64 * 1024
# python-multipart refuses longer boundaries (RFC 2046 itself allows 1 to 70 characters).
MAX_BOUNDARY = 256
# Nothing from an upload is logged: the parser's own warnings are dropped (the client gets
# the same words in its 422).
QUIET = logging.getLogger("app.platform.multipart.parser")
QUIET.addHandler(logging.NullHandler())
QUIET.propagate = False
QUIET.setLevel(logging.CRITICAL + 1)


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytearray


async def read_body(request: Request, limit: int, what: str) -> bytes:
    """The whole request body, refused with 413 as soon as it passes `limit` bytes."""
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > limit:
            raise ApiError(413, "body_too_large",
                           f"The request body is larger than {limit} bytes, the limit for {what}.")
    return bytes(chunks)


def is_multipart(content_type: str | None) -> bool:
    return parse_options_header(content_type or "")[0] == b"multipart/form-data"


def _fields_wanted(fields: Mapping[str, bool]) -> str:
    """"a 'file' field and an optional 'settings' field (JSON text)" for {file: True, ...}."""
    return " and ".join(f"{'a' if required else 'an optional'} '{name}' field"
                        + (" (JSON text)" if name == "settings" else "")
                        for name, required in fields.items())


def boundary_of(content_type: str | None, fields: Mapping[str, bool]) -> bytes:
    """The boundary of a multipart/form-data Content-Type: 415 for another type (naming the
    `fields` the route reads, name -> required), 422 for a boundary longer than
    MAX_BOUNDARY characters."""
    kind, params = parse_options_header(content_type or "")
    if kind != b"multipart/form-data" or not params.get(b"boundary"):
        shown = content_type if content_type is None or len(content_type) <= 120 else (
            content_type[:120] + "...")
        raise ApiError(415, "unsupported_media_type",
                       f"Send multipart/form-data with {_fields_wanted(fields)}; got "
                       f"Content-Type {shown or 'none'!r}.")
    boundary = params[b"boundary"]
    if len(boundary) > MAX_BOUNDARY:
        raise ApiError(422, "bad_multipart",
                       f"Content-Type: the multipart boundary is {len(boundary)} characters "
                       f"long; the limit is {MAX_BOUNDARY} (RFC 2046 allows 1 to 70).")
    return boundary


def parse(body: bytes, boundary: bytes) -> dict[str, Part]:
    """Parts by field name; 422 for a malformed body, a repeated or an unnamed field."""
    parts: list[Part] = []
    headers: dict[bytes, bytes] = {}
    field = bytearray()
    value = bytearray()
    current: list[Part] = []

    def on_part_begin() -> None:
        headers.clear()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        value.extend(data[start:end])

    def on_header_end() -> None:
        headers[bytes(field).lower()] = bytes(value)
        field.clear()
        value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(headers.get(b"content-disposition", b""))
        name = options.get(b"name")
        if name is None:
            raise ApiError(422, "bad_multipart", "Every multipart part needs a "
                           "Content-Disposition with a name ('settings' or 'file').")
        filename = options.get(b"filename")
        part = Part(name.decode("utf-8", "replace"),
                    None if filename is None else filename.decode("utf-8", "replace"),
                    headers.get(b"content-type", b"").decode("latin-1") or None, bytearray())
        parts.append(part)
        if len(parts) > MAX_PARTS:
            raise ApiError(422, "bad_multipart", f"Too many form fields (more than {MAX_PARTS}); "
                           "send 'settings' and optionally 'file'.")
        current[:] = [part]

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current[0].data.extend(data[start:end])

    try:
        parser = MultipartParser(boundary, {
            "on_part_begin": on_part_begin, "on_header_field": on_header_field,
            "on_header_value": on_header_value, "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished, "on_part_data": on_part_data,
        })
    except FormParserError as exc:  # a boundary python-multipart refuses
        raise ApiError(422, "bad_multipart",
                       f"Content-Type: the multipart boundary is refused ({exc}).") from None
    parser.logger = QUIET  # its warnings quote the upload's bytes: they go to the client only
    try:
        parser.write(body)
        parser.finalize()
    except (MultipartParseError, FormParserError) as exc:
        raise ApiError(422, "bad_multipart",
                       f"The multipart body cannot be parsed ({exc}).") from None
    if parser.state != MultipartState.END:
        raise ApiError(422, "bad_multipart", "The multipart body ends before its closing "
                       "boundary: the upload is incomplete.")
    by_name: dict[str, Part] = {}
    for part in parts:
        if part.name in by_name:
            raise ApiError(422, "bad_multipart", f"The form field '{part.name}' appears twice.")
        by_name[part.name] = part
    return by_name


def file_body(description: str, settings: type[BaseModel] | None = None, *,
              limit: str) -> dict:
    """The OpenAPI requestBody of a multipart route reading a `file` of at most the server
    setting `limit` bytes (its maxLength, app/platform/openapi.py fills in the value) and a
    JSON `settings` part, the model `settings`, for routes that read their body with
    read_upload instead of FastAPI's form parameters. The model goes in the models that
    app/main.py registers (a test resolves every $ref of /openapi.json)."""
    props = {"file": {"type": "string", "format": "binary",
                      "description": f"{description} At most {limit} bytes (maxLength).",
                      **server_limit(maxLength=limit)}}
    if settings is not None:
        props["settings"] = {"$ref": f"#/components/schemas/{settings.__name__}"}
    return {"required": True, "content": {"multipart/form-data": {
        "schema": {"type": "object", "required": ["file"], "properties": props,
                   "additionalProperties": False},
        "encoding": {"settings": {"contentType": "application/json"}}}}}


@dataclass(frozen=True)
class FileLimit:
    """The largest file a route reads, and the words naming it in its 413s, e.g.
    FileLimit(10485760, "max_upload_bytes = 10485760 (CONVSTEP_MAX_UPLOAD_BYTES)")."""

    bytes: int
    name: str

    @property
    def body_bytes(self) -> int:
        """The largest body: the file and the form around it."""
        return self.bytes + MULTIPART_OVERHEAD


def upload_limit(settings) -> FileLimit:
    """Images and photos: Settings.max_upload_bytes."""
    n = settings.max_upload_bytes
    return FileLimit(n, f"max_upload_bytes = {n} (CONVSTEP_MAX_UPLOAD_BYTES)")


def weights_limit(net_limits) -> FileLimit:
    """Weight files: NetworkLimits.max_weights_bytes."""
    n = net_limits.max_weights_bytes
    return FileLimit(n, f"max_weights_bytes = {n} (CONVSTEP_NET_MAX_WEIGHTS_BYTES)")


async def read_upload(request: Request, limit: FileLimit,
                      fields: Mapping[str, bool]) -> dict[str, Part]:
    """The parts of a multipart upload by field name, every route's one way to read a file:
    415 not multipart, 413 `body_too_large` for a body over limit.body_bytes (a declared
    Content-Length before reading anything, a streamed body as soon as it passes), 422 for a
    field not in `fields` (name -> required) or a required one missing, 413
    `file_too_large` for a file part over limit.bytes. Every 413 names the route's limit."""
    boundary = boundary_of(request.headers.get("content-type"), fields)
    most = limit.body_bytes
    what = f"a file of at most {limit.name} plus {MULTIPART_OVERHEAD} bytes for the form"
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > most:
        raise ApiError(413, "body_too_large", f"The request body is {int(declared)} bytes; "
                       f"the limit is {most} bytes, {what}.")
    parts = parse(await read_body(request, most, what), boundary)
    unknown = sorted(set(parts) - set(fields))
    if unknown:
        raise ApiError(422, "bad_multipart", f"Unknown form field(s) {unknown}: send "
                       f"{_fields_wanted(fields)}.")
    for name, required in fields.items():
        if required and name not in parts:
            raise ApiError(422, "no_file" if name == "file" else "bad_multipart",
                           f"{name}: the form has no '{name}' part.")
    upload = parts.get("file")
    if upload is not None and len(upload.data) > limit.bytes:
        raise ApiError(413, "file_too_large", f"file is {len(upload.data)} bytes; the limit "
                       f"is {limit.name}.")
    return parts
