"""Helpers for the server tests (a synchronous client over httpx's ASGITransport, images
made in memory with Pillow), imported by name so that they never depend on which conftest
module pytest loaded first."""

from __future__ import annotations

import asyncio
import io
import json
from concurrent.futures import ThreadPoolExecutor

import anyio
import httpx
import numpy as np
from PIL import Image


class Client:
    """httpx over ASGI, synchronous: `client.post("/api/...", json=...)`."""

    def __init__(self, app) -> None:
        self.app = app

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
                return await c.request(method, url, **kwargs)

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return anyio.run(go)
        # a loop already runs in this thread (Playwright's, when browser tests ran first in
        # this process): the request gets a thread of its own, so test order does not matter
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(anyio.run, go).result()

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def image(self, settings: dict | str, file: bytes | None = None, *,
              filename: str = "upload.png", content_type: str = "image/png") -> httpx.Response:
        """POST /api/image as the page does: multipart with settings and an optional file."""
        text = settings if isinstance(settings, str) else json.dumps(settings)
        files = {"settings": (None, text, "application/json")}
        if file is not None:
            files["file"] = (filename, file, content_type)
        return self.post("/api/image", files=files)


def encode_image(im: Image.Image, fmt: str, **params) -> bytes:
    buf = io.BytesIO()
    im.save(buf, format=fmt, **params)
    return buf.getvalue()


def gradient_rgb(width: int = 40, height: int = 30) -> Image.Image:
    """A smooth RGB test picture: red grows to the right, green downwards, blue constant."""
    x = np.linspace(0, 255, width)[None, :].repeat(height, 0)
    y = np.linspace(0, 255, height)[:, None].repeat(width, 1)
    arr = np.stack([x, y, np.full_like(x, 80)], axis=-1).astype(np.uint8)
    return Image.fromarray(arr, "RGB")


def decode_arr(arr: dict) -> np.ndarray:
    """ARR -> numpy, as the page decodes it."""
    import base64

    assert arr["dtype"] == "float32"
    data = np.frombuffer(base64.b64decode(arr["data"]), dtype="<f4")
    return data.reshape(arr["shape"])
