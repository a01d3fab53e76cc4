"""`pip install` of the built wheel gives a working app: the wheel is built from a copy of the
sources, installed with its dependencies into a fresh virtual environment outside the tree,
and `convstep serve` started from another folder answers `/`, `/explore`, `/network`,
`/docs` and every script and stylesheet they load (the HTML's script and link tags, then
every ES module import and CSS @import, followed to the end) with 200, and so do the sample
images and the network's data; `convstep check`
prints the same report as `python -m core.check`, and `convstep train` trains on the
installed data.

Slow (a wheel, a virtual environment and an install: the dependencies come from pip's cache
or PyPI); it runs in `make test`, not in `make test-fast`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
FILES = Path(__file__).parent / "learner_files"
PAGES = ("/", "/explore", "/network", "/docs")
# What the wheel is built from: the packages, the top-level static files and templates, and
# the files pyproject.toml and setup.py read.
SOURCES = ("core", "app", "cli", "static", "templates", "pyproject.toml", "setup.py",
           "README.md")


def _pip(*args, timeout=600):
    run = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                         capture_output=True, text=True, timeout=timeout)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]
    return run


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh virtual environment with the wheel installed: its bin/ directory."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy(ROOT / name, src / name)
    _pip("wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp / "dist"), str(src))
    (wheel,) = (tmp / "dist").glob("convstep-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True,
                   timeout=120)
    _pip("--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-compile",
         str(wheel))
    return venv / "bin"


def _env() -> dict:
    """The environment without anything pointing at the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return {**env, "OPENBLAS_NUM_THREADS": "1"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            return r.status, r.headers.get("content-type", ""), r.read().decode("utf-8",
                                                                                "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


class _Loads(HTMLParser):
    """The scripts (src) and stylesheets (href) a page's HTML loads."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "script" and a.get("src"):
            self.urls.append(a["src"])
        if tag == "link" and "stylesheet" in (a.get("rel") or "") and a.get("href"):
            self.urls.append(a["href"])


# `import x from "./a.js"`, `import "./a.js"`, `export {x} from "./a.js"`, `import("./a.js")`;
# CSS `@import url("a.css")` / `@import "a.css"`.
_JS_IMPORT = re.compile(r"""(?:\bimport|\bexport)\b[^"';]*?\bfrom\s*["']([^"']+)["']"""
                        r"""|\bimport\s*\(?\s*["']([^"']+)["']""")
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\()?\s*["']?([^"')\s;]+)""")


def _imports(url: str, text: str) -> list[str]:
    path = urlsplit(url).path
    if path.endswith(".js") and "/vendor/" not in path:
        found = [a or b for a, b in _JS_IMPORT.findall(text)]
    elif path.endswith(".css"):
        found = _CSS_IMPORT.findall(text)
    else:
        found = []
    return [urljoin(url, f) for f in found]


def test_the_installed_convstep_serves_every_page_and_everything_they_load(installed,
                                                                           tmp_path):
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = subprocess.Popen([str(installed / "convstep"), "serve", "--port", str(port)],
                              cwd=elsewhere, env=_env(), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "convstep serve did not start in 60 s"
                time.sleep(0.2)
        seen: dict[str, int] = {}
        todo = []
        for page in PAGES:
            status, kind, html = _get(base + page)
            assert (status, kind.split(";")[0]) == (200, "text/html"), page
            loads = _Loads()
            loads.feed(html)
            assert loads.urls, f"{page} loads no script or stylesheet"
            todo += [urljoin(base + page, u) for u in loads.urls]
        while todo:
            url = todo.pop()
            if url in seen:
                continue
            status, _, text = _get(url)
            seen[url] = status
            todo += _imports(url, text)
        # the data the pages fetch: the sample images (app/platform/samples) and the network's
        # digits and weights (core/data)
        status, _, listing = _get(base + "/api/samples")
        names = [sample["name"] for sample in json.loads(listing)]
        assert status == 200 and len(names) >= 4
        for url in [f"{base}/api/samples/{name}" for name in names] + [f"{base}/api/network"]:
            seen[url] = _get(url)[0]
        failed = {u: s for u, s in seen.items() if s != 200}
        assert not failed, failed
        # every page's own module and its imports: far more than the pages name directly
        assert sum(u.endswith(".js") for u in seen) > 30
        assert any(u.endswith("/static/js/learn/main.js") for u in seen)
    finally:
        server.terminate()
        server.wait(10)
        server.stdout.close()


def test_the_installed_check_and_train_commands(installed, tmp_path):
    path = FILES / "stride_missing.py"
    mine = subprocess.run([str(installed / "convstep"), "check", str(path), "--json"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=120)
    here = subprocess.run([sys.executable, "-m", "core.check", str(path), "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert mine.returncode == here.returncode == 1, mine.stderr
    assert json.loads(mine.stdout) == json.loads(here.stdout)
    out = tmp_path / "w.safetensors"
    train = subprocess.run([str(installed / "convstep"), "train", "--epochs", "1", "--out",
                            str(out)], cwd=tmp_path, env=_env(), capture_output=True,
                           text=True, timeout=120)
    assert train.returncode == 0, train.stderr
    assert "held-out accuracy" in train.stdout and out.stat().st_size > 1000


def test_the_installed_notebook_widget_module(installed, tmp_path):
    """show()'s front end from the installed files (app/static in the package): the same
    one module as the checkout's (cli/esm.py inlines the widget and the kit)."""
    from cli.notebook import widget_css, widget_esm

    run = subprocess.run([str(installed / "python"), "-c",
                          "from app.platform.paths import shipped_dir; "
                          "from cli.notebook import widget_css, widget_esm; "
                          "print(shipped_dir(\"static\")); print(len(widget_css())); "
                          "print(widget_esm(), end='')"],
                         cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    where, css, esm = run.stdout.split("\n", 2)
    assert where.endswith("/site-packages/app/static")
    assert int(css) == len(widget_css()) and esm == widget_esm()
