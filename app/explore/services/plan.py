"""The Explore layer planned once: every number the settings decide on one working image.

A LayerPlan is made once per request from the request's ImageSettings and the working
image's shape (H, W, C), before any work, and everything downstream reads it instead of
deriving its own copy:

    validation     make_plan: reflect pad < n, the conv window and the pooling window fit
                   (core's GeometryError, with the whole layer's advice: LayerGeometryError);
                   LayerPlan.check_work: the window reads within max_work_elements (413)
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

from app.explore.schemas.image import ImageSettings
from app.platform.bounds import check_conv_work, check_pool_work, over_limit
from app.platform.config import Settings
from core import Geometry, GeometryError, conv_geometry, pool_geometry
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


# --- what the settings decide on an image of a given shape ------------------------------------


class LayerGeometryError(GeometryError):
    """core's GeometryError about one part of the layer, its message unchanged (what
    /api/image answers), carrying the whole layer's advice as data for /api/geometry.

    `where`: the part, "" for the convolution or "Pooling over Z (n_H x n_W): ".
    `advice`: core.geometry.fit_limits over the layer's settings (each setting's range that
    alone makes the whole layer fit); `problem`: `where` and core's problem.
    `said`: the Limits core's own message names; `rewordable`: True when core's advice
    sentence names the raising function's settings (a pooling's f, min(n_H_prev, n_W_prev))
    and is worded again for the layer's, False when it stays true as it is (reflect's
    "pad <= n - 1, or pad_mode ...", which the layer's other Limits are added to).
    """

    def __init__(self, exc: GeometryError, where: str, advice: tuple[Limit, ...]) -> None:
        super().__init__(str(exc), advice, where + exc.problem)
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
    def border(self) -> int:
        """dZ_up's border, dilation*(f - 1) - pad = f_eff - 1 - pad (negative: a crop)."""
        return self.conv.f_eff - 1 - self.conv.pad

    def check_work(self, limits: Settings) -> None:
        """413 too_much_work when the convolution's or the pooling's window reads are over
        max_work_elements."""
        g, p = self.conv, self.pool
        check_conv_work("settings", 1, g.n_H, g.n_W, g.f, self.n_C_prev, limits)
        if p is not None:
            check_pool_work("settings.pool", 1, p.n_H, p.n_W, self.n_C, p.f, limits)

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
        advice = fit_limits(H, W, s.f, stride=s.stride, pad=s.pad, dilation=s.dilation,
                            pool_f=s.pool.f if s.pool else None, pad_mode=s.pad_mode)
        raise LayerGeometryError(exc, where, advice) from None
    return LayerPlan(s, H, W, C, len(s.filters), conv, pool,
                     _transpose(conv) if s.pad_mode == "constant" else None)


def _transpose(conv: Geometry) -> TransposeGeometry:
    """The transposed convolution that gives dA_prev from dZ: the layer's f, stride, pad and
    dilation, output_padding the rows and columns the forward floor dropped."""
    back = transposed_counterpart(conv.n_H_prev, conv.n_W_prev, conv.f, stride=conv.stride,
                                  pad=conv.pad, dilation=conv.dilation)
    return transpose_geometry(conv.n_H, conv.n_W, conv.f, stride=conv.stride, pad=conv.pad,
                              dilation=conv.dilation, output_padding=back["output_padding"])
