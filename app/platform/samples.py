"""The built-in sample images (app/platform/samples/), with their licences.

A client names a sample; the name is looked up in SAMPLES and never used as a path.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image

SAMPLES_DIR = Path(__file__).resolve().parent / "samples"
CREDIT = "scikit-image sample data (skimage/data)"


@dataclass(frozen=True)
class Sample:
    name: str
    file: str
    title: str
    licence: str
    credit: str
    media_type: str

    @property
    def path(self) -> Path:
        return SAMPLES_DIR / self.file


SAMPLES: dict[str, Sample] = {s.name: s for s in (
    Sample("chelsea", "chelsea.jpg", "Chelsea the cat", "CC0",
           f"Stefan van der Walt; {CREDIT}", "image/jpeg"),
    Sample("coffee", "coffee.jpg", "A cup of coffee", "CC0",
           f"Rachel Michetti; {CREDIT}", "image/jpeg"),
    Sample("camera", "camera.png", "Man with a camera", "CC0",
           f"Lav Varshney; {CREDIT}", "image/png"),
    Sample("text", "text.png", "Text on paper", "public domain (no known copyright "
           "restrictions)", CREDIT, "image/png"),
)}
SAMPLE_NAMES = tuple(SAMPLES)
DEFAULT_SAMPLE = "chelsea"


@cache
def sample_bytes(name: str) -> bytes:
    """The sample's file, read once."""
    return SAMPLES[name].path.read_bytes()


@cache
def sample_info(name: str) -> dict:
    """{"name", "title", "width", "height", "mode", "licence", "credit"} for the picker."""
    s = SAMPLES[name]
    with Image.open(s.path) as im:
        width, height, mode = im.width, im.height, im.mode
    return {"name": s.name, "title": s.title, "width": width, "height": height, "mode": mode,
            "licence": s.licence, "credit": s.credit}
