"""Downloader middlewares."""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.url import url_is_from_any_domain

logger = logging.getLogger(__name__)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.I)


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


class CharsetCheckMiddleware:
    """Read a page in the charset its bytes are in when the declared one is wrong.

    A server that declares ``charset=gbk`` for UTF-8 bytes (or the reverse) makes Scrapy
    decode the page into mojibake and U+FFFD, and a garbled record would be stored.  An HTML
    response whose body does not decode strictly in its effective encoding is re-read in the
    first of UTF-8, its ``<meta charset>``, GB18030 that does (``charset/corrected``); a
    non-UTF-8 encoding is also dropped for UTF-8 when the bytes are valid non-ASCII UTF-8
    (Chinese text in GBK practically never is).  Nothing fits: ``charset/undecodable``.
    Cost: one strict decode of the body (~20 µs for a 20 KB page).
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response):
        from scrapy.http import HtmlResponse

        if not isinstance(response, HtmlResponse) or not response.body:
            return response
        body = response.body
        current = _codec(response.encoding)
        if current == "utf-8":
            try:
                body.decode("utf-8")
                return response
            except UnicodeDecodeError:
                pass
        elif current is not None and not body.isascii():
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                pass
            else:
                return self._fix(response, current, "utf-8")
            try:
                body.decode(current)
                return response
            except UnicodeDecodeError:
                pass
        else:
            return response
        meta = _META_CHARSET.search(body[:4096])
        for candidate in ("utf-8", _codec(meta.group(1).decode("ascii")) if meta else None, "gb18030"):
            if candidate and candidate != current:
                try:
                    body.decode(candidate)
                except (UnicodeDecodeError, LookupError):
                    continue
                return self._fix(response, current, candidate)
        self.crawler.stats.inc_value("charset/undecodable")
        return response

    def _fix(self, response, declared, actual):
        self.crawler.stats.inc_value("charset/corrected")
        logger.warning("%s declares %s but is %s: read as %s", response.url, declared, actual, actual)
        return response.replace(encoding=actual)


class CountingRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirects, plus a count and a warning for requests dropped after
    ``REDIRECT_MAX_TIMES`` hops (a redirect loop), which Scrapy only logs at DEBUG."""

    def _redirect(self, redirected, request, reason):
        try:
            return super()._redirect(redirected, request, reason)
        except IgnoreRequest:
            self.crawler.stats.inc_value("redirect/max_reached")
            logger.warning("dropped %s: more than %d redirections (a redirect loop?)",
                           request.meta.get("redirect_urls", [request.url])[0], self.max_redirect_times)
            raise


def _codec(name):
    import codecs

    try:
        return codecs.lookup(name).name.replace("_", "-") if name else None
    except LookupError:
        return None
