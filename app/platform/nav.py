"""The site nav shared by every page: the wings and /docs, linked only when served.

    nav(request, "explore") -> [{"key": "learn", "label": "Learn", "href": "/learn",
                                 "current": False}, ...]
"""

from __future__ import annotations

from fastapi import Request
from starlette.routing import Match

# The site's modes, in the nav's order; a page is linked only when its route exists.
SITE_PAGES = (("learn", "Learn", "/learn"), ("explore", "Explore", "/explore"),
              ("network", "Network", "/network"), ("gallery", "Gallery", "/gallery"),
              ("docs", "API docs", "/docs"))


def site_nav(serves, current: str) -> list[dict]:
    """[{key, label, href, current}] for the pages of SITE_PAGES that the app serves
    (`serves(path)` says whether a GET of path reaches a route)."""
    return [{"key": key, "label": label, "href": href, "current": key == current}
            for key, label, href in SITE_PAGES if serves(href)]


def nav(request: Request, current: str) -> list[dict]:
    """The site nav for a page of this app, linking only the pages it serves (a GET of the
    path matches one of its routes)."""
    def serves(path: str) -> bool:
        scope = {"type": "http", "method": "GET", "path": path, "root_path": "",
                 "query_string": b"", "headers": []}
        return any(r.matches(scope)[0] == Match.FULL for r in request.app.router.routes)
    return site_nav(serves, current)
