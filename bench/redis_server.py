"""A throwaway redis-server for the shared-state tests and the class benchmark: Debian's
`redis-server` (scripts/setup.sh installs it) on a free loopback port, nothing written to
disk (no RDB snapshots, no append-only file), stopped at the end of the block.

    with RedisServer() as redis:
        ... CONVSTEP_REDIS_URL=redis.url ...
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time

from bench.common import free_port, stop_process


class RedisServer:
    def __enter__(self) -> RedisServer:
        exe = shutil.which("redis-server")
        if exe is None:
            raise RuntimeError("redis-server is not installed: run ./scripts/setup.sh --dev "
                               "(it installs Debian's redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = tempfile.TemporaryDirectory(prefix="convstep-redis-")
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self._dir.name, "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def flush(self) -> None:
        """Forget every key (between two tests)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"FLUSHALL\r\n")
            assert s.recv(16).startswith(b"+OK")

    def __exit__(self, *exc) -> None:
        stop_process(self.proc)
        self._dir.cleanup()
