"""Links in article pages: which are attachments."""

from __future__ import annotations

import re
from urllib.parse import urljoin

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
