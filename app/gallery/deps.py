"""The gallery wing's FastAPI dependencies, each defined once: the query of the animation
routes (AnimationQueryDep, every number bounded by BOUNDS, so a 422 names the field), kept
out of app/gallery/routes.py as every wing's are (app/platform/deps.py, app/network/deps.py).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Depends, Query

from app.gallery import service
from app.gallery.schemas import ANIMATION_RULES
from app.platform.schemas.common import rules, rules_text
from core.animation import OPS

Op = Literal[OPS]  # type: ignore[valid-type]

# The range of each number of the query: the route's validation and the gallery's inputs.
BOUNDS = {"h": (1, 64), "w": (1, 64), "f": (1, 16), "stride": (1, 16), "pad": (0, 16),
          "dilation": (1, 8), "output_padding": (0, 15)}


def _bounded(name: str, **kwargs) -> Any:
    lo, hi = BOUNDS[name]
    return Query(ge=lo, le=hi, **kwargs)


def animation_query(
    op: Annotated[Op, Query(description="Which op's loop to animate. "
                            + rules_text(*ANIMATION_RULES),
                            json_schema_extra=rules(*ANIMATION_RULES))],
    h: Annotated[int, _bounded("h", description="Input height n_H_prev.")] = 5,
    w: Annotated[int, _bounded("w", description="Input width n_W_prev.")] = 5,
    f: Annotated[int, _bounded("f", description="Window size.")] = 3,
    stride: Annotated[int, _bounded("stride")] = 1,
    pad: Annotated[int, _bounded("pad", description="Padding (conv ops; for "
                                                    "conv_transpose the rows and columns "
                                                    "cropped). Pooling has none.")] = 0,
    dilation: Annotated[int, _bounded("dilation", description="Conv ops only.")] = 1,
    output_padding: Annotated[int, _bounded("output_padding", description="conv_transpose only: "
                                         "rows and columns added at the bottom and right, "
                                         "below max(stride, dilation).")] = 0,
    format: Annotated[Literal["gif", "apng"], Query()] = "gif",
    numbers: Annotated[bool, Query(description="false: conv_arithmetic's look (blue input, "
                                               "padding dashed, cyan output, the window "
                                               "shaded). true: every cell's value on the "
                                               "fixed example of core/animation.py.")] = False,
    delay_ms: Annotated[int | None, Query(ge=20, le=5000, description="Each frame's time "
                                          "(default: a loop of about 15 s, 100-700 ms a "
                                          "frame).")] = None,
) -> service.AnimationQuery:
    """The query of both animation routes, each field bounded (a 422 names it)."""
    return service.AnimationQuery(op, h, w, f, stride, pad, dilation, output_padding, format,
                                  numbers, delay_ms)


AnimationQueryDep = Annotated[service.AnimationQuery, Depends(animation_query)]
