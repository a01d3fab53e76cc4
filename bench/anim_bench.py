"""Animations (GET /api/animation): the time to draw and encode one, as the route does on a
cache miss (check the query, plan the frames from core's traces, draw them with Pillow,
write the GIF or APNG), its size and its frame count.

Targets (issue 18): a 5 x 5 convolution GIF in under 300 ms, a 28 x 28 one in under 2 s,
each under 2 MB.
"""

from __future__ import annotations

import io

from PIL import Image

from app.gallery import service
from app.platform.config import Settings
from bench.common import interleaved, ms

MB = 1_000_000
# (label, op, h, f, stride, pad, format, numbers, target ms or None)
CASES = [
    ("conv_forward 5 x 5, f 3, pad 1", "conv_forward", 5, 3, 1, 1, "gif", False, 300),
    ("conv_forward 5 x 5, f 3, pad 1, numbers", "conv_forward", 5, 3, 1, 1, "gif", True, 300),
    ("conv_forward 5 x 5, f 3, pad 1", "conv_forward", 5, 3, 1, 1, "apng", False, 300),
    ("conv_transpose 5 x 5, f 3, stride 2, numbers", "conv_transpose", 5, 3, 2, 0, "gif", True,
     None),
    ("conv_forward 28 x 28, f 3, pad 1", "conv_forward", 28, 3, 1, 1, "gif", False, 2000),
    ("conv_forward 28 x 28, f 3, pad 1", "conv_forward", 28, 3, 1, 1, "apng", False, 2000),
    ("conv_backward 28 x 28, f 3, pad 1", "conv_backward", 28, 3, 1, 1, "gif", False, 2000),
    ("pool_forward 28 x 28, f 2, stride 2", "pool_forward", 28, 2, 2, 0, "gif", False, None),
    ("conv_transpose 28 x 28, f 3", "conv_transpose", 28, 3, 1, 0, "gif", False, None),
]


def _query(op, h, f, stride, pad, fmt, numbers) -> service.AnimationQuery:
    return service.AnimationQuery(op, h, h, f, stride, pad, 1, 0, fmt, numbers, None)


def run(quick: bool) -> str:
    limits = Settings()
    rounds = 2 if quick else 5
    contenders, outputs = {}, {}
    for label, op, h, f, stride, pad, fmt, numbers, _ in CASES:
        q = _query(op, h, f, stride, pad, fmt, numbers)
        key = f"{label} ({fmt})"

        def go(q=q, key=key):
            outputs[key] = service.render(q, service.check(q, limits), limits)

        contenders[key] = go
    times = interleaved(contenders, rounds)
    lines = [
        "## Animations (bench/anim_bench.py)",
        "",
        "GET /api/animation on a cache miss: the query checked, the frames planned from "
        "core's traces, drawn with Pillow and written as GIF or APNG (what the route runs in "
        f"its thread). Median of {rounds} interleaved rounds after a warm-up. Targets: a "
        "5 x 5 conv GIF <= 300 ms, a 28 x 28 one <= 2000 ms, every one <= 2 MB.",
        "",
        "| animation | format | frames | frame size | ms | bytes | target |",
        "| --- | --- | ---: | --- | ---: | ---: | --- |",
    ]
    for label, op, h, f, stride, pad, fmt, numbers, target in CASES:
        key = f"{label} ({fmt})"
        data = outputs[key]
        im = Image.open(io.BytesIO(data))
        plan = service.check(_query(op, h, f, stride, pad, fmt, numbers), limits)
        t = times[key]
        verdicts = [f"<= 2 MB: {'met' if len(data) <= 2 * MB else 'MISSED'}"]
        if target is not None:
            verdicts.insert(0, f"<= {target} ms: {'met' if t * 1e3 <= target else 'MISSED'}")
        lines.append(f"| {label} | {fmt} | {getattr(im, 'n_frames', 1)} | "
                     f"{plan.layout.width} x {plan.layout.height} | {ms(t)} | {len(data)} | "
                     f"{'; '.join(verdicts)} |")
    return "\n".join(lines)
