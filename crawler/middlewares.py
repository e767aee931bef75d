"""Downloader middlewares."""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy.exceptions import NotConfigured
from scrapy.utils.url import url_is_from_any_domain


class PortalMirrorMiddleware:
    """Send every request for a portal host to the ``PORTAL_MIRROR`` origin.

    The mirror is used the way HTTP uses a forward proxy: the request goes to the mirror's
    address with the portal's absolute URL in its request line and the portal's ``Host``
    header, same method, path, query and body.  So one server can stand in for every portal,
    and the request and response keep the real portal URL: spiders, redirects, the offsite
    check, deduplication and items never see the mirror's address.
    """

    def __init__(self, origin: str, crawler):
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"PORTAL_MIRROR must be an origin such as http://127.0.0.1:8601, not {origin!r}"
            )
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        origin = crawler.settings.get("PORTAL_MIRROR")
        if not origin:
            raise NotConfigured
        return cls(origin, crawler)

    def process_request(self, request):
        spider = self.crawler.spider
        domains = getattr(spider, "allowed_domains", None) or []
        if domains and url_is_from_any_domain(request.url, domains):
            request.meta["proxy"] = self.origin
            self.crawler.stats.inc_value("portal_mirror/requests")
        return None
