"""Fixtures for the server tests: an app per test with its own settings, a synchronous
client over httpx's ASGITransport (each request runs in a fresh event loop), and images
made in memory with Pillow."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from apptools import Client

from app.main import create_app
from app.platform.config import Settings


@pytest.fixture
def make_client() -> Callable[..., Client]:
    """make_client(max_size=64, ...) -> a Client on a fresh app with those limits."""

    def make(**limits) -> Client:
        return Client(create_app(Settings(**limits)))

    return make


@pytest.fixture
def client(make_client) -> Client:
    return make_client()
