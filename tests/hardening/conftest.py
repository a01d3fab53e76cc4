"""Fixtures for the hardening tests: live uvicorn servers (one or more workers) on a socket
the test process bound to 127.0.0.1 port 0, their resident memory read from /proc, their
log captured to a file; and hostile images made in memory with Pillow.

Every request these tests send goes to 127.0.0.1 only, and every loop is bounded in count
and time (see /work/.library/env/README.md, "the network").
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    # no DNS look-ups at all, but loopback still resolves
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


def rss_bytes(pid: int) -> int:
    """Resident memory of one process, from /proc/<pid>/status (VmRSS, in kB)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        out.extend(int(c) for c in text)
    return out


class LiveServer:
    """`python -m app`'s uvicorn serving app.main:app on a socket bound here."""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None, workers: int = 1,
                 access_log: bool = True) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(256)
        self.sock.set_inheritable(True)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 (closed in stop())
        cmd = [sys.executable, str(Path(__file__).with_name("serve.py")),
               "--fd", str(self.sock.fileno()), "--workers", str(workers)]
        if not access_log:
            cmd.append("--no-access-log")
        self.proc = subprocess.Popen(
            cmd, cwd=ROOT, pass_fds=[self.sock.fileno()], stdout=self._log,
            stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
        self.wait_healthy(20)

    def wait_healthy(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as res:
                    if res.status == 200 and len(self.worker_pids()) >= self.workers:
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server did not become healthy:\n{self.log()}")
            time.sleep(0.1)

    def worker_pids(self) -> list[int]:
        """The processes that serve requests (the server itself with one worker)."""
        if self.workers == 1:
            return [self.proc.pid]
        # uvicorn's supervisor spawns the workers (and multiprocessing a resource tracker)
        return [pid for pid in children(self.proc.pid)
                if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

    def rss(self) -> int:
        """Resident memory of the serving processes together, in bytes."""
        return sum(rss_bytes(pid) for pid in self.worker_pids())

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_bytes().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()
        self._log.close()


@pytest.fixture
def start_server(tmp_path) -> Iterator[Callable[..., LiveServer]]:
    """start_server(env={...}, workers=1) -> a LiveServer, stopped after the test."""
    servers: list[LiveServer] = []

    def start(**kwargs) -> LiveServer:
        server = LiveServer(tmp_path / f"server{len(servers)}.log", **kwargs)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory) -> Iterator[LiveServer]:
    """One default server for a whole test module."""
    server = LiveServer(tmp_path_factory.mktemp("server") / "server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()
    pw.stop()
