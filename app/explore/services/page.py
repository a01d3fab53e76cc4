"""The Explore page's boot data: the samples, the default settings, every limit and bound
its controls need, and the presets, so that the page copies none of them."""

from __future__ import annotations

from app.explore.schemas.image import FIRST_PAGE, ImageSettings, _range, control_bounds
from app.explore.schemas.transpose import PRESET_F, TRANSPOSE_PRESETS, TransposeOpSettings
from app.platform.config import Settings
from app.platform.samples import DEFAULT_SAMPLE, SAMPLE_NAMES, sample_info
from core import PRESETS
from core.upsampling import UPSAMPLING


def limits_for_page(limits: Settings) -> dict:
    """Every bound the page's controls need, so that the page copies none: the server's
    limits (max_upload_bytes, max_pixels, max_size, max_filters, max_steps_per_page), the
    length of the first step pages /api/image sends (first_page_steps), and {"min", "max"}
    of every number a person sets (control_bounds: size, f, stride, pad, dilation,
    pad_value, filters, weight, bias, pool_f, pool_stride, seed; and the transposed op's
    t_f, t_stride, t_pad, t_output_padding, t_dilation)."""
    return {
        **{k: getattr(limits, k) for k in ("max_upload_bytes", "max_pixels", "max_size",
                                           "max_filters", "max_steps_per_page")},
        "first_page_steps": min(FIRST_PAGE, limits.max_steps_per_page),
        **control_bounds(limits),
        # the transposed-convolution op's numbers, under the page's URL keys (t_<field>)
        **{f"t_{k}": _range(TransposeOpSettings, k)
           for k in ("f", "stride", "pad", "output_padding", "dilation")},
    }


def transpose_boot() -> dict:
    """The transposed-convolution op's defaults (its own settings, not the image's), its
    kernels, which of them take their size from the stride, and the f a preset that takes
    one starts with."""
    defaults = TransposeOpSettings().model_dump(mode="json",
                                                 exclude={"sample", "size", "color"})
    return {"defaults": defaults, "kernels": list(TRANSPOSE_PRESETS),
            "upsampling": list(UPSAMPLING), "preset_f": PRESET_F}


def boot_data(limits: Settings) -> dict:
    """What the page needs before its first request (embedded as JSON in the HTML)."""
    return {
        "samples": [sample_info(n) for n in SAMPLE_NAMES],
        "default_settings": ImageSettings(
            sample=DEFAULT_SAMPLE, size=min(ImageSettings.model_fields["size"].default,
                                            limits.max_size)).model_dump(mode="json"),
        "limits": limits_for_page(limits),
        "presets": list(PRESETS),
        "transpose": transpose_boot(),
    }
