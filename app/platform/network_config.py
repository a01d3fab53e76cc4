"""Limits of the network routes (training jobs, weight uploads, drawings), read once from
`CONVSTEP_NET_<FIELD>` variables, like app/platform/config.py's Settings; tests override
get_network_limits through FastAPI's dependency overrides."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field

from app.platform.config import EnvSettings

ENV_PREFIX = "CONVSTEP_NET_"


class NetworkLimits(EnvSettings):
    """Each one bounds the time or memory a client can ask of the network routes."""

    env_prefix = ENV_PREFIX

    max_jobs: int = Field(2, ge=1, le=64, description="Training jobs running or paused at "
                          "once, on every worker together (the next start gets 503).")
    client_jobs: int = Field(1, ge=1, le=64, description="Training jobs one client may have "
                             "running or paused (a paused job counts until it ends).")
    max_job_epochs: int = Field(30, ge=1, le=1000, description="Most epochs one job may ask "
                                "for (an epoch is 1437 digits, about 0.2 s of one core).")
    max_job_seconds: float = Field(120.0, gt=0, le=86400, description="Most compute time "
                                   "of one job (its minibatches and points; the waits of its "
                                   "pace and its pauses not counted); it then stops.")
    max_job_wall_seconds: float = Field(900.0, gt=0, le=7 * 86400, description="Longest life "
                                        "of one job from its start, running, paced or paused "
                                        "(30 epochs at the slowest pace, 5 steps/s, take about "
                                        "280 s); it then stops, freeing its slot.")
    max_pause_seconds: float = Field(120.0, gt=0, le=86400, description="A job paused for "
                                     "longer stops (it holds its owner's job slot while "
                                     "paused).")
    keep_jobs: int = Field(64, ge=1, le=10_000, description="Ended jobs kept for reading "
                           "their curves and weights; past it the oldest that is not its "
                           "owner's newest is forgotten.")
    client_keep_jobs: int = Field(4, ge=1, le=1000, description="Ended jobs kept per client "
                                  "(its oldest is forgotten first).")
    keep_seconds: float = Field(1800.0, gt=0, le=86400, description="How long an ended job "
                                "is kept.")
    max_weights_bytes: int = Field(1024 * 1024, ge=1024, le=64 * 1024 * 1024, description=
                                   "Largest weight file (the network's weights take 15 KB "
                                   "in float64).")
    weight_sets: int = Field(256, ge=1, le=100_000, description="Uploaded weight sets kept "
                             "(past it the oldest that is not its client's newest is "
                             "forgotten; when all are, an upload gets 503).")
    client_weight_sets: int = Field(8, ge=1, le=10_000, description="Uploaded weight sets "
                                    "kept per client (its oldest is forgotten first).")
    weights_ttl_seconds: float = Field(3600.0, gt=0, le=7 * 86400, description="How long an "
                                       "uploaded weight set is kept after its last upload.")
    job_watchers: int = Field(64, ge=1, le=100_000, description="Streams and long polls "
                              "open on one training job at once (the next gets 503).")
    client_watchers: int = Field(16, ge=1, le=100_000, description="Streams and long polls "
                                 "one client may have open at once (the next gets 503).")
    max_canvas: int = Field(512, ge=8, le=4096, description="Longest side of a drawing sent "
                            "as an array, and of an uploaded photo once decoded.")


@lru_cache
def get_network_limits() -> NetworkLimits:
    """The process-wide network limits (a FastAPI dependency; override it in tests)."""
    return NetworkLimits.from_env()
