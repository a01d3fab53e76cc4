"""python -m app [--host H] [--port P] [--workers N]: serve app.main:app with uvicorn.

Defaults come from CONVSTEP_HOST (127.0.0.1), CONVSTEP_PORT (8000) and CONVSTEP_WORKERS (1);
flags win over the environment (app.platform.config.ServeSettings). The limits are read from
CONVSTEP_* variables (app.platform.config.Settings).
BLAS runs one thread per computation unless OPENBLAS_NUM_THREADS (or OMP_/MKL_) is set.
"""

from __future__ import annotations

import argparse
import os

import uvicorn

from app.platform.config import ServeSettings, Settings


def parse_args(argv: list[str] | None = None, prog: str = "python -m app") -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog=prog, description="Serve convstep.")
    try:
        serve = ServeSettings.from_env()
    except ValueError as exc:  # a bad CONVSTEP_HOST, _PORT or _WORKERS, named
        parser.error(str(exc))
    parser.add_argument("--host", default=serve.host,
                        help="interface to bind (env CONVSTEP_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=serve.port,
                        help="TCP port (env CONVSTEP_PORT, default 8000)")
    parser.add_argument("--workers", type=int, default=serve.workers,
                        help="worker processes (env CONVSTEP_WORKERS, default 1)")
    args = parser.parse_args(argv)
    if not 0 < args.port < 65536:
        parser.error(f"--port must be 1..65535, not {args.port}")
    if args.workers < 1:
        parser.error(f"--workers must be at least 1, not {args.workers}")
    return args


def uvicorn_options(environ: dict[str, str] | None = None) -> dict:
    """uvicorn's settings besides host, port and workers (the tests serve with these too).

    Kept-alive connections idle for 5 s are closed; a request head must arrive within
    CONVSTEP_HEADER_TIMEOUT_S (10 s) and be at most 16 KiB (app/platform/protocol.py).

    Behind a reverse proxy, CONVSTEP_FORWARDED_ALLOW_IPS names the proxy's addresses (comma
    separated, as uvicorn's --forwarded-allow-ips): from those peers only, X-Forwarded-For
    and X-Forwarded-Proto are believed, so that request.client is the learner's address (the
    "client" of the per-client quotas, app/network/store.py). Unset: no header is believed.
    """
    proxies = ServeSettings.from_env(environ).forwarded_allow_ips.strip()
    options = {"timeout_keep_alive": 5, "proxy_headers": bool(proxies), "server_header": False,
               "http": "app.platform.protocol:HeadTimeoutH11Protocol"}
    if proxies:
        options["forwarded_allow_ips"] = proxies
    return options


# One BLAS thread per computation unless the environment says otherwise: the server's
# concurrency comes from max_heavy and the workers, and OpenBLAS threads that spin for
# cores other requests hold make the layer's small GEMMs several times slower under load
# (measured: a 256 x 256 layer 14 ms with one thread, 110 ms with two, on a busy 2-core box).
BLAS_THREADS = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def main(argv: list[str] | None = None, prog: str = "python -m app") -> None:
    args = parse_args(argv, prog)
    Settings.from_env()  # a bad CONVSTEP_* limit stops here, with its name, before serving
    for name, value in BLAS_THREADS.items():  # read when NumPy loads, in app.main
        os.environ.setdefault(name, value)
    uvicorn.run("app.main:app", host=args.host, port=args.port, workers=args.workers,
                **uvicorn_options())


if __name__ == "__main__":
    main()
