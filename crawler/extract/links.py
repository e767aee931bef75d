"""Links in article pages: which are attachments."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from .text import collapse

# A file by its extension, or a CMS download endpoint (Hanweb `downfile.jsp`, `download.jsp`).
_FILE_RE = re.compile(
    r"\.(?:pdf|docx?|xlsx?|pptx?|wps|et|ofd|zip|rar|7z|txt|csv|jpg|jpeg|png|tif)(?:$|[?#])"
    r"|/(?:downfile|download|fileDownload)\.(?:jsp|do|aspx?)",
    re.IGNORECASE,
)


def attachments(anchors, base_url: str) -> list[dict]:
    """``{"name", "url"}`` for every anchor that links a file, once each, URLs absolute.

    ``anchors`` are lxml elements.
    """
    out, seen = [], set()
    for a in anchors:
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")) or not _FILE_RE.search(href):
            continue
        url = urljoin(base_url, href)
        if url in seen:
            continue
        seen.add(url)
        name = collapse(a.xpath("string()")) or collapse(a.get("title")) or url.rsplit("/", 1)[-1]
        out.append({"name": name, "url": url})
    return out


def absolute_url(base_url: str, href) -> str | None:
    """``href`` of a page at ``base_url`` as an absolute http(s) URL, or None when it cannot
    be requested: not a string, another scheme (``javascript:``, ``mailto:``, ``data:``),
    no host, a port outside 1–65535, a broken IPv6 literal.

    Every request built from page data (listing entries, next pages, API pages) goes
    through here, so one bad link is one counted drop, not an exception that loses the
    rest of its page.
    """
    if not isinstance(href, str) or not href.strip():
        return None
    try:
        url = urljoin(base_url, href.strip())
        parts = urlsplit(url)
        port = parts.port  # ValueError when out of range or not a number
    except ValueError:  # "Invalid IPv6 URL", "Port out of range 0-65535", …
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or port == 0:
        return None
    return url
