"""Limits and knobs of the server, read once from the environment: the only reader of
CONVSTEP_* variables (network_config.py's NetworkLimits reads through EnvSettings too).

Every field has a default and an environment variable `CONVSTEP_<FIELD NAME IN CAPITALS>`,
for example `CONVSTEP_MAX_UPLOAD_BYTES=20000000`. Tests override `get_settings` through
FastAPI's dependency overrides (or pass a Settings to `create_app`). ServeSettings: how the
process serves (python -m app's defaults, uvicorn's protocol and proxy options).
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import ClassVar, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

ENV_PREFIX = "CONVSTEP_"


class EnvSettings(BaseModel):
    """Frozen limits read once from `<env_prefix><FIELD NAME IN CAPITALS>` variables (blank
    ones count as unset); the shared reader of Settings and network_config.py's
    NetworkLimits."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    env_prefix: ClassVar[str] = ENV_PREFIX

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Self:
        """The limits from the environment; a bad value stops the server with its name."""
        environ = os.environ if environ is None else environ
        values = {}
        for name in cls.model_fields:
            raw = environ.get(cls.env_prefix + name.upper())
            if raw is not None and raw.strip() != "":
                values[name] = raw.strip()
        try:
            return cls.model_validate(values, strict=False)
        except ValidationError as exc:
            problems = "; ".join(
                f"{cls.env_prefix}{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors()
            )
            raise ValueError(f"Bad convstep setting: {problems}") from None


class Settings(EnvSettings):
    """The server's limits. Each one bounds time or memory that a client can ask for."""

    redis_url: str = Field(
        "", max_length=2000,
        description="redis://host:port/db of a Redis that every worker and host shares (the "
        "network's weights, training jobs and quotas); empty: kept in this process.",
    )
    max_upload_bytes: int = Field(
        10 * 1024 * 1024, ge=1024, le=1024**3,
        description="Largest uploaded file, in bytes (the whole request body may be 64 KiB more).",
    )
    max_json_bytes: int = Field(
        8 * 1024 * 1024, ge=1024, le=1024**3,
        description="Largest JSON request body, in bytes (262144 numbers written with full "
        "float64 precision take about 5.5 MB).",
    )
    max_pixels: int = Field(
        40_000_000, ge=1, le=1_000_000_000,
        description="Largest decoded image (width x height) an upload may declare.",
    )
    max_decode_bytes: int = Field(
        96 * 1024 * 1024, ge=1024 * 1024, le=16 * 1024**3,
        description="Largest decoded image in bytes: width x height x the bytes per pixel "
        "of the mode it decodes to (1 for 8-bit gray and palette, 2 for 16-bit gray, 4 for "
        "RGB, RGBA, CMYK and 32-bit); a JPEG counts at the 1/2, 1/4 or 1/8 scale it is "
        "decoded at. A lower pixel limit for the wide modes: decoding costs about this "
        "much memory at most.",
    )
    max_size: int = Field(
        512, ge=8, le=4096,
        description="Largest working size (longest side of the working image, in pixels).",
    )
    max_filters: int = Field(8, ge=1, le=64, description="Most filters in one image request.")
    max_array_elements: int = Field(
        262_144, ge=16, le=100_000_000,
        description="Most elements in one array of an array-route request.",
    )
    max_work_elements: int = Field(
        32_000_000, ge=1024, le=10_000_000_000,
        description="Most window reads in one convolution (m*n_H*n_W*f*f*n_C_prev) or "
        "pooling (m*n_H*n_W*n_C*f*f): bounds the time and memory one request asks for.",
    )
    max_steps_per_page: int = Field(
        256, ge=1, le=100_000, description="Most step records in one page (the `limit`).",
    )
    max_page_numbers: int = Field(
        1_048_576, ge=1024, le=1_000_000_000,
        description="Most numbers in one page of step records: limit x the numbers of one "
        "step (3 f*f*n_C_prev for a convolution step, 3 f*f for a pooling step). The "
        "default fits the page's own pages (64 steps of f = 31 on RGB).",
    )
    cache_entries: int = Field(
        64, ge=1, le=100_000,
        description="Most entries (working images and layer results) in the steps cache.",
    )
    memory_budget_bytes: int = Field(
        512 * 1024 * 1024, ge=16 * 1024 * 1024, le=256 * 1024**3,
        description="Memory budget of one worker, in bytes: the requests in flight (each "
        "counted by an upper bound of what it allocates, known before it starts) and the "
        "steps cache together. A request runs only when its bytes fit beside the others "
        "(the cache gives up entries to make room), waits otherwise (max_queue, "
        "queue_wait_s: then 503), and one that alone is over the budget is a 413. The "
        "process itself adds about 70-90 MiB (Python, NumPy, Pillow, FastAPI).",
    )
    cache_bytes: int = Field(
        256 * 1024 * 1024, ge=1024 * 1024, le=64 * 1024**3,
        description="A cap on the steps cache, in bytes of array data, within "
        "memory_budget_bytes, which it shares with the work in flight (a layer result is "
        "about 25 MB at size 256 with 8 filters, 100 MB at 512).",
    )
    body_timeout_s: float = Field(
        30.0, gt=0.0, le=3600.0,
        description="Longest time a client may take to send its request body (408 after).",
    )
    max_heavy: int = Field(
        2, ge=1, le=1024,
        description="Heavy requests (those that may allocate more than 8 MiB: most image "
        "requests, large array calls) computed at the same time; light ones (the exercise's "
        "arrays, a page of steps) need no slot, only room in memory_budget_bytes.",
    )
    max_queue: int = Field(
        32, ge=0, le=10_000,
        description="Heavy requests that may wait for a free slot; more get 503 at once.",
    )
    queue_wait_s: float = Field(
        10.0, ge=0.0, le=600.0,
        description="Longest wait for a free slot before a heavy request gets 503.",
    )

    max_animation_frames: int = Field(
        4096, ge=1, le=1_000_000,
        description="Most frames in one /api/animation answer (one per step of the op).",
    )
    max_animation_pixels: int = Field(
        400_000_000, ge=10_000, le=100_000_000_000,
        description="Most frames x pixels of a frame in one /api/animation answer: bounds "
        "the drawing time (a 28 x 28 convolution is 784 frames of 748 x 406 pixels, "
        "about 238 million).",
    )
    max_animation_bytes: int = Field(
        16 * 1024 * 1024, ge=64 * 1024, le=4 * 1024**3,
        description="Largest /api/animation answer in bytes; one that grows past it while "
        "it is encoded stops with a 413.",
    )

    gzip_level: int = Field(
        1, ge=0, le=9,
        description="zlib level of gzip for answers to clients that accept it (0 = never "
        "compress). Level 1 is about 9 ms per MB of base64 text and gzips a display-encoded "
        "image answer to 40 %; higher levels save a few per cent for two to five times the "
        "time (bench/api_bench.py).",
    )


class ServeSettings(EnvSettings):
    """How `python -m app` serves: its flags' defaults and uvicorn's options (read by
    app/__main__.py and app/platform/protocol.py, in the serving process)."""

    host: str = Field("127.0.0.1", min_length=1, max_length=255,
                      description="Interface to bind (--host).")
    port: int = Field(8000, ge=1, le=65535, description="TCP port (--port).")
    workers: int = Field(1, ge=1, le=256, description="Worker processes (--workers).")
    header_timeout_s: float = Field(
        10.0, gt=0.0, le=3600.0,
        description="Longest time a client may take to send a whole request head (the "
        "connection is closed after).")
    forwarded_allow_ips: str = Field(
        "", max_length=4096,
        description="Addresses of a reverse proxy whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed (comma separated, uvicorn's --forwarded-allow-ips); "
        "empty: none.")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (a FastAPI dependency; override it in tests)."""
    return Settings.from_env()
