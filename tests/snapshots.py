"""The portal snapshots in the repository, served to spiders as a server would serve them."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

from crawler.runtime.offline import OfflineParser

PORTALS = Path(__file__).resolve().parent.parent / "crawler" / "replica" / "portals"
NAMES = ("yingkou", "beipiao", "laishan", "zhanqian", "jining")

# The Content-Type each portal's server sends for its HTML (portal READMEs, "Encoding").
HTML_TYPES = {
    "yingkou": "text/html",  # no charset: the GB2312 meta tag is the only declaration
    "beipiao": "text/html; charset=utf-8",
    "laishan": "text/html; charset=utf-8",
    "zhanqian": "text/html;charset=UTF-8",
    "jining": "text/html; charset=utf-8",
}
MIRROR_HOST = "jining.mirror.example"


def expected_cases():
    """(portal, expected file, page file, URL the page is served at) for every expected item."""
    for path in sorted(PORTALS.glob("*/expected/*.json")):
        portal = path.parent.parent.name
        expected = json.loads(path.read_text(encoding="utf-8"))
        parts = urlsplit(expected["url"])
        if path.stem.endswith("-mirror"):
            page = PORTALS / portal / "pages-mirror" / parts.path.lstrip("/")
            url = parts._replace(netloc=MIRROR_HOST).geturl()
        else:
            page = PORTALS / portal / "pages" / parts.path.lstrip("/")
            url = expected["url"]
        yield portal, path, page, url


def page_response(parser: OfflineParser, portal: str, relpath: str, url: str, body: bytes | None = None,
                  content_type: str | None = None, request=None):
    """A response for a snapshot file (or for given bytes) as the portal serves it."""
    if body is None:
        body = (PORTALS / portal / "pages" / relpath).read_bytes()
    headers = {"Content-Type": content_type or HTML_TYPES[portal]}
    return parser.response(url, body, headers, request=request)
