"""Timing and reporting helpers shared by the benchmark sections.

All timings are taken in one process, in interleaved rounds (round r runs every contender
once, in a fixed order, before round r + 1 starts), so that a change in machine load hits
every contender alike; the table reports the median over rounds, after one warm-up round.
`back_to_back` is the plain variant: each contender runs a group of calls in a row, groups
interleaved, and every call of every group counts.
"""

from __future__ import annotations

import ctypes
import glob
import os
import platform
import socket
import statistics
import subprocess
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def interleaved(contenders: dict[str, Callable[[], object]], rounds: int,
                warmup: int = 1) -> dict[str, float]:
    """Median seconds per contender over `rounds` interleaved rounds (after `warmup`)."""
    return back_to_back(contenders, rounds, calls=1, warmup=warmup)


def back_to_back(contenders: dict[str, Callable[[], object]], rounds: int, calls: int,
                 warmup: int = 1) -> dict[str, float]:
    """Median seconds per call, measured plainly: in each round every contender runs `calls`
    calls back to back (one library, then the other); every call of the rounds after
    `warmup` counts, none is dropped and nothing pauses between them."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for r in range(warmup + rounds):
        for name, fn in contenders.items():
            for _ in range(calls):
                t0 = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - t0
                if r >= warmup:
                    times[name].append(elapsed)
    return {name: statistics.median(ts) for name, ts in times.items()}


def ms(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    value = seconds * 1e3
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


@dataclass
class Row:
    """One line of a results table: two medians, their ratio and the target it is held to."""

    case: str
    ours: float
    other: float | None
    target: str  # e.g. "<= 0.8x" or ">= 500x"
    ratio_kind: str = "ours/other"  # or "other/ours" for speed-ups

    @property
    def ratio(self) -> float | None:
        if self.other is None:
            return None
        return self.ours / self.other if self.ratio_kind == "ours/other" else self.other / self.ours

    @property
    def verdict(self) -> str:
        r = self.ratio
        if r is None:
            return "not measured"
        op, limit = self.target.split()
        limit_value = float(limit.rstrip("x"))
        ok = r <= limit_value if op == "<=" else r >= limit_value
        return "pass" if ok else "**miss**"


def table(rows: list[Row], headers: tuple[str, str, str, str]) -> str:
    """Markdown table: case | ours | other | ratio | target | result."""
    case_h, ours_h, other_h, ratio_h = headers
    lines = [f"| {case_h} | {ours_h} | {other_h} | {ratio_h} | target | result |",
             "| --- | ---: | ---: | ---: | --- | --- |"]
    for row in rows:
        ratio = "–" if row.ratio is None else f"{row.ratio:.2f}x"
        if row.ratio is not None and row.ratio >= 100:
            ratio = f"{row.ratio:.0f}x"
        lines.append(f"| {row.case} | {ms(row.ours)} | {ms(row.other)} | {ratio} | "
                     f"{row.target} | {row.verdict} |")
    return "\n".join(lines)


def ratio_text(row: Row) -> str:
    if row.ratio is None:
        return "–"
    return f"{row.ratio:.0f}x" if row.ratio >= 100 else f"{row.ratio:.2f}x"


def side_by_side(pairs: list[tuple[Row, Row | None]], headers: tuple[str, str, str]) -> str:
    """Markdown table of two measurements of the same cases: (plain row, paused row or None).

    case | ours ms | other ms | plain ratio | plain target | result | paused ratio | paused
    target | result (headers: case, ours, other; the times are the plain ones).
    """
    case_h, ours_h, other_h = headers
    lines = [f"| {case_h} | {ours_h} | {other_h} | plain ratio | target | result | "
             "paused ratio | target | result |",
             "| --- | ---: | ---: | ---: | --- | --- | ---: | --- | --- |"]
    for plain, paused in pairs:
        tail = ("| – | – | – |" if paused is None else
                f"| {ratio_text(paused)} | {paused.target} | {paused.verdict} |")
        lines.append(f"| {plain.case} | {ms(plain.ours)} | {ms(plain.other)} | "
                     f"{ratio_text(plain)} | {plain.target} | {plain.verdict} {tail}")
    return "\n".join(lines)


def openblas_info() -> dict[str, str]:
    """Which OpenBLAS kernel NumPy runs and with how many threads (read from the library)."""
    info = {"OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", "(unset)"),
            "OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE", "(unset)")}
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*.so*"))
    if not libs:
        return info
    try:
        lib = ctypes.CDLL(libs[0])
        for key, symbol in (("corename", "scipy_openblas_get_corename64_"),
                            ("config", "scipy_openblas_get_config64_")):
            fn = getattr(lib, symbol)
            fn.restype = ctypes.c_char_p
            info[key] = fn().decode().strip()
        lib.scipy_openblas_get_num_threads64_.restype = ctypes.c_int
        info["threads"] = str(lib.scipy_openblas_get_num_threads64_())
    except (OSError, AttributeError):
        pass
    return info


def set_blas_threads(n: int) -> bool:
    """Set how many threads NumPy's OpenBLAS uses from now on; False if it cannot be set."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__) + ".libs", "*openblas*.so*"))
    try:
        lib = ctypes.CDLL(libs[0])
        lib.scipy_openblas_set_num_threads64_(ctypes.c_int(n))
    except (IndexError, OSError, AttributeError):
        return False
    return True


def environment() -> str:
    """A few lines saying where the numbers were measured."""
    blas = openblas_info()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"- load average when the run started (1, 5, 15 min): {load}\n"
            f"- machine: {platform.machine()}, {os.cpu_count()} cores, Python "
            f"{platform.python_version()}, NumPy {np.__version__}\n"
            f"- OpenBLAS: kernel {blas.get('corename', '?')}, {blas.get('threads', '?')} "
            f"threads (OPENBLAS_CORETYPE={blas['OPENBLAS_CORETYPE']}, "
            f"OPENBLAS_L2_SIZE={blas['OPENBLAS_L2_SIZE']})")


def p95(values: list[float]) -> float:
    """The 95th percentile of `values`: the nearest rank, no interpolation."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def wait_healthy(proc: subprocess.Popen, url: str, seconds: float = 30) -> None:
    """Poll url + "/healthz" until it answers 200; after `seconds`, kill `proc` and raise."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as res:
                if res.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"the server did not start within {seconds:g} s")


def stop_process(proc: subprocess.Popen, timeout: float = 10) -> None:
    """terminate(), and kill() if it has not exited within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now (the kernel's pick)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
