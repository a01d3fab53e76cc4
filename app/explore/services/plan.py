"""The Explore layer planned once: every number the settings decide on one working image.

A LayerPlan is made once per request from the request's ImageSettings and the working
image's shape (H, W, C), before any work, and everything downstream reads it instead of
deriving its own copy:

    validation     make_plan: reflect pad < n, the conv window and the pooling window fit
                   (core's GeometryError, with the whole layer's advice: LayerGeometryError);
                   LayerPlan.check_work: the window reads within max_work_elements (413)
    admission      LayerPlan.cost, steps_cost, arrays_cost: the bytes a request holds
    the run        app/explore/services/layer.py reads hparameters, conv_kwargs, the
                   geometries and the stages from it
    /api/geometry  app/explore/services/geometry.py words the plan's LayerGeometryError

The numbers themselves are core's (conv_geometry, pool_geometry, transpose_geometry,
transposed_counterpart, fit_limits, workspace): the plan decides which of core's
functions the layer calls with which settings, once. It lives in the app, not in core,
because it reads the request's schema, the server's limits and the app's byte model.

Adding an option to the layer is one edit here (and the schema's field): the plan's
property that hands it to core, and, when it changes sizes, the geometry below.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.explore.schemas.image import FIRST_PAGE, STAGES_WITH_STEPS, ImageSettings
from app.platform.bounds import (
    FIXED_BYTES,
    check_conv_work,
    check_pool_work,
    over_limit,
    page_cost,
    step_numbers,
)
from app.platform.config import Settings
from core import Geometry, GeometryError, conv_geometry, pool_geometry, workspace
from core.geometry import Limit, fit_limits, pad_limit_check
from core.transpose import TransposeGeometry, transpose_geometry, transposed_counterpart


def check_settings(s: ImageSettings, limits: Settings) -> ImageSettings:
    """The settings within the server's limits: a default size is capped at max_size; a
    size or a number of filters the client chose beyond a limit is a 422."""
    if "size" not in s.model_fields_set and s.size > limits.max_size:
        s = s.model_copy(update={"size": limits.max_size})
    if s.size > limits.max_size:
        raise over_limit(f"settings.size is {s.size}", limits, "max_size")
    if len(s.filters) > limits.max_filters:
        raise over_limit(f"settings.filters has {len(s.filters)} filters", limits,
                         "max_filters")
    return s


# --- what the settings alone decide (before the image is known) ------------------------------


def has_transpose(s: ImageSettings) -> bool:
    """The backward_transpose stage exists for pad_mode constant only: the other modes fold
    the gradient of the pad cells back into dA_prev, which a transposed convolution does not."""
    return s.pad_mode == "constant"


def layer_stages(s: ImageSettings) -> tuple[str, ...]:
    """The layer's stages in order (ImageOut.stages)."""
    return ("pad", "conv_forward", *(["relu"] if s.relu else []),
            *(["pool_forward", "pool_backward"] if s.pool is not None else []),
            "conv_backward", *(["backward_transpose"] if has_transpose(s) else []))


def stage_step_numbers(s: ImageSettings, stage: str) -> int:
    """Numbers one step record of `stage` carries under these settings."""
    if stage.startswith("pool") and s.pool is not None:
        return step_numbers("pool", s.pool.f, 1)
    if stage == "backward_transpose":  # windows of dZ_up: one number per filter
        return step_numbers("conv", s.f, len(s.filters))
    return step_numbers("conv", s.f, s.channels)


# --- what the settings decide on an image of a given shape ------------------------------------


class LayerGeometryError(GeometryError):
    """core's GeometryError about one part of the layer, its message unchanged (what
    /api/image answers), carrying the whole layer's advice as data for /api/geometry.

    `where`: the part, "" for the convolution or "Pooling over Z (n_H x n_W): ".
    `advice`: core.geometry.fit_limits over the layer's settings (each setting's range that
    alone makes the whole layer fit); `broken`: those the current settings break (what to
    change); `problem`: `where` and core's problem.
    `said`: the Limits core's own message names; `rewordable`: True when core's advice
    sentence names the raising function's settings (a pooling's f, min(n_H_prev, n_W_prev))
    and is worded again for the layer's, False when it stays true as it is (reflect's
    "pad <= n - 1, or pad_mode ...", which the layer's other Limits are added to).
    """

    def __init__(self, exc: GeometryError, where: str, advice: tuple[Limit, ...],
                 current: dict[str, int | None]) -> None:
        super().__init__(str(exc), advice, where + exc.problem)
        self.broken = tuple(lim for lim in advice if not lim.allows(current[lim.setting]))
        self.where = where
        self.said = exc.advice
        self.rewordable = exc.problem != str(exc)


@dataclass(frozen=True)
class LayerPlan:
    """The layer's numbers on one working image: what core will be called with, what it will
    return, what that holds in bytes. Frozen: made once by make_plan, read everywhere."""

    settings: ImageSettings
    n_H_prev: int
    n_W_prev: int
    n_C_prev: int  # the image's channels C
    n_C: int  # filters
    conv: Geometry  # padded size n_H_pad x n_W_pad, f_eff, output n_H x n_W
    pool: Geometry | None  # over Z (n_H x n_W); None without pooling
    # dA_prev as the transposed convolution of dZ (the backward_transpose stage), None
    # without the stage; its output_padding is the rows and columns the forward floor dropped
    transpose: TransposeGeometry | None

    @property
    def shape(self) -> tuple[int, int, int]:
        """(H, W, C) of the working image."""
        return self.n_H_prev, self.n_W_prev, self.n_C_prev

    @property
    def hparameters(self) -> dict:
        """conv_forward's hparameters."""
        return {"stride": self.settings.stride, "pad": self.settings.pad}

    @property
    def conv_kwargs(self) -> dict:
        """conv_forward's (and its trace's) keyword options."""
        s = self.settings
        pad_value = s.pad_value
        return {"pad_mode": s.pad_mode,
                "pad_value": tuple(pad_value) if isinstance(pad_value, list) else pad_value,
                "dilation": s.dilation}

    @property
    def pool_hparameters(self) -> dict | None:
        pool = self.settings.pool
        return None if pool is None else {"stride": pool.stride, "f": pool.f}

    @property
    def W_shape(self) -> tuple[int, int, int, int]:
        """(f, f, C, n_C)."""
        return self.conv.f, self.conv.f, self.n_C_prev, self.n_C

    @property
    def stages(self) -> tuple[str, ...]:
        return layer_stages(self.settings)

    @property
    def step_stages(self) -> tuple[str, ...]:
        """The stages with step records, in order (ImageOut.steps' keys)."""
        return tuple(stage for stage in STAGES_WITH_STEPS if stage in self.stages)

    @property
    def border(self) -> int:
        """dZ_up's border, dilation*(f - 1) - pad = f_eff - 1 - pad (negative: a crop)."""
        return self.conv.f_eff - 1 - self.conv.pad

    def step_numbers(self, stage: str) -> int:
        return stage_step_numbers(self.settings, stage)

    def check_work(self, limits: Settings) -> None:
        """413 too_much_work when the convolution's or the pooling's window reads are over
        max_work_elements."""
        g, p = self.conv, self.pool
        check_conv_work("settings", 1, g.n_H, g.n_W, g.f, self.n_C_prev, limits)
        if p is not None:
            check_pool_work("settings.pool", 1, p.n_H, p.n_W, self.n_C, p.f, limits)

    def cost(self, *, first_pages: int = 0) -> int:
        """Upper bound of the bytes that running the layer holds at its peak
        (app/explore/services/layer.py's run, then its answer): core/workspace.py's bounds
        of conv_forward, conv_backward and the pooling, every array of the result in float64
        and float32, their JSON text (base64 or one byte per value, and its gzip), and
        `first_pages` pages of FIRST_PAGE steps of every stage."""
        s, g, p = self.settings, self.conv, self.pool
        H, W, C = self.shape
        n_C = self.n_C
        X = (1, H, W, C)
        out = g.n_H * g.n_W * n_C
        conv = {"pad_mode": s.pad_mode, "dilation": g.dilation}
        work = (workspace.conv_forward_bytes(X, self.W_shape, self.hparameters, **conv)
                + workspace.conv_backward_bytes(X, self.W_shape, self.hparameters, **conv))
        # input, dA_prev, padded, Z, A, dZ, dA(_pool)
        kept = H * W * C * 3 + g.n_H_pad * g.n_W_pad * C + 4 * out
        if p is not None:
            A = (1, g.n_H, g.n_W, n_C)
            pool_hp, mode = self.pool_hparameters, s.pool.mode
            work += (workspace.pool_forward_bytes(A, pool_hp, mode)
                     + 2 * workspace.pool_backward_bytes(A, pool_hp, mode,
                                                         tie_rule=s.pool.tie_rule))
            kept += 2 * out + 2 * p.n_H * p.n_W * n_C  # pool_mask, dA_pool, pooled, dA
        kept += 2 * g.f * g.f * C * n_C + 2 * n_C
        if self.transpose is not None:  # dZ_up, built in a buffer at most
            # (n_H - 1)*stride + 1 + 2*|border| + output_padding a side, and W_flip
            up_H = (g.n_H - 1) * g.stride + 1 + 2 * abs(self.border) + g.stride
            up_W = (g.n_W - 1) * g.stride + 1 + 2 * abs(self.border) + g.stride
            kept += 2 * up_H * up_W * n_C + g.f * g.f * C * n_C
        pages = first_pages * sum(page_cost(FIRST_PAGE, self.step_numbers(stage))
                                  for stage in self.step_stages)
        # float64 while computing + float32 kept (12 bytes), JSON text and gzip (12 bytes)
        return work + 24 * kept + pages + FIXED_BYTES

    def steps_cost(self, stage: str, limit: int, totals: bool) -> int:
        """Bytes of a /api/steps answer: its page, and the running totals' ARRs."""
        cost = page_cost(limit, self.step_numbers(stage))
        if totals:  # dA_prev_pad or dA_prev, dW, db as float64, float32 and base64
            g = self.conv
            cost += 24 * (g.n_H_pad * g.n_W_pad * self.n_C_prev
                          + g.f * g.f * self.n_C_prev * self.n_C + self.n_C)
        return cost

    def arrays_cost(self, names: int) -> int:
        """Bytes of a /api/arrays answer of `names` arrays: each at most the padded image's
        size per filter, as float32 text and its gzip."""
        g = self.conv
        return 12 * names * g.n_H_pad * g.n_W_pad * max(self.n_C_prev, self.n_C) + 65536


def make_plan(s: ImageSettings, shape: tuple[int, int, int]) -> LayerPlan:
    """The plan of the layer under settings `s` (within the limits) on a working image of
    `shape` (H, W, C). Raises LayerGeometryError when reflect padding is wider than the
    image, or the conv window or the pooling window does not fit."""
    H, W, C = shape
    where = ""
    try:
        pad_limit_check(H, W, s.pad, s.pad_mode)
        conv = conv_geometry(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation)
        pool = None
        if s.pool is not None:
            where = f"Pooling over Z ({conv.n_H} x {conv.n_W}): "
            pool = pool_geometry(conv.n_H, conv.n_W, s.pool.f, stride=s.pool.stride)
    except GeometryError as exc:
        pool_f = s.pool.f if s.pool else None
        advice = fit_limits(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation,
                            pool_f=pool_f, pad_mode=s.pad_mode)
        current = {"f": s.f, "pad": s.pad, "dilation": s.dilation, "stride": s.stride,
                   "pool_f": pool_f, "n_prev": min(H, W)}  # each Limit's setting
        raise LayerGeometryError(exc, where, advice, current) from None
    return LayerPlan(s, H, W, C, len(s.filters), conv, pool,
                     _transpose(conv) if has_transpose(s) else None)


def _transpose(conv: Geometry) -> TransposeGeometry:
    """The transposed convolution that gives dA_prev from dZ: the layer's f, stride, pad and
    dilation, output_padding the rows and columns the forward floor dropped."""
    back = transposed_counterpart(conv.n_H_prev, conv.n_W_prev, conv.f, stride=conv.stride,
                                  pad=conv.pad, dilation=conv.dilation)
    return transpose_geometry(conv.n_H, conv.n_W, conv.f, stride=conv.stride, pad=conv.pad,
                              dilation=conv.dilation, output_padding=back["output_padding"])
