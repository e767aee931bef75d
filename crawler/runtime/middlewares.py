"""Downloader middlewares."""

from __future__ import annotations

import codecs
import ipaddress
import logging

from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached

from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, read_bom, resolve_encoding

from crawler.runtime import hosts

logger = logging.getLogger(__name__)


class HostPolicyMiddleware(OffsiteMiddleware):
    """Where requests go (``crawler/runtime/hosts.py``): the one host check for the spider's own
    requests, redirects, robots.txt and retries, and the ``PORTAL_MIRROR`` routing.

    ``DOWNLOADER_MIDDLEWARES`` 50, in place of Scrapy's OffsiteMiddleware, whose rule (host
    name in ``allowed_domains`` or a subdomain), stats (``offsite/filtered``,
    ``offsite/domains``) and log line it keeps, but without its exemptions: ``dont_filter``
    (robots.txt requests carry it) and ``allow_offsite`` do not let a request leave the portal.

    With ``PORTAL_MIRROR`` every portal request goes to the mirror the way HTTP uses a forward
    proxy (``meta["proxy"]``, sent by HttpProxyMiddleware at 750): the request line carries
    the portal's absolute URL, the ``Host`` header the portal's, method, path, query and body
    unchanged; so one server stands in for every portal and spiders, redirects, deduplication
    and items keep the real portal URLs.  Without a mirror, a request to an origin the spider
    was not given (``start_urls``, start requests) must resolve to public addresses only.
    """

    def __init__(self, stats, mirror: str | None = None):
        super().__init__(stats)
        self.mirror = mirror
        self.policy: hosts.HostPolicy | None = None

    @classmethod
    def from_crawler(cls, crawler):
        o = super().from_crawler(crawler)
        o.mirror = hosts.mirror_origin(crawler.settings.get("PORTAL_MIRROR"))
        return o

    def spider_opened(self, spider):
        super().spider_opened(spider)
        services = [self.crawler.settings.get("SPLASH_URL")] if getattr(spider, "render", None) else []
        self.policy = hosts.HostPolicy(getattr(spider, "allowed_domains", None) or (),
                                       getattr(spider, "start_urls", None) or (), self.mirror,
                                       [s for s in services if s])

    def should_follow(self, request, spider) -> bool:
        return self.policy.is_portal(request.url) or self.policy.is_service(request.url)

    def request_scheduled(self, request, spider):
        self._check_host(request)

    def _check_host(self, request) -> None:
        if self.policy is None:
            self.spider_opened(self.crawler.spider)
        if self.should_follow(request, self.crawler.spider):
            return
        # Scrapy's offsite drop with its stats and log line, without its exemptions.
        super().process_request(request.replace(dont_filter=False, meta={**request.meta, "allow_offsite": False}))

    def process_request(self, request):
        self._check_host(request)
        policy = self.policy
        if policy.is_service(request.url):
            return None
        if request.meta.get("splash") and not request.meta.get("_splash_processed"):
            # SplashMiddleware (725) turns it into a request to Splash, which comes back
            # through here; Splash's browser uses the mirror as its proxy (crawler/runtime/splash.py).
            return None
        if self.mirror is not None:
            request.meta["proxy"] = self.mirror
            self.stats.inc_value("portal_mirror/requests")
            return None
        if request.meta.get("is_start_request") and not request.meta.get("redirect_urls"):
            policy.trust(request.url)  # given by the spider's code, not by a page
            return None
        if policy.needs_address_check(request.url):
            return self._check_address(request)
        return None

    async def _check_address(self, request):
        from twisted.internet import reactor

        parts = urlparse_cached(request)
        host = (parts.hostname or "").rstrip(".")
        try:
            ipaddress.ip_address(host)
            addresses = [host]
        except ValueError:
            addresses = await maybe_deferred_to_future(hosts.resolve(reactor, host, parts.port or 0))
        self.stats.inc_value("hosts/address_checked")
        bad = [(a, k) for a, k in ((a, hosts.address_kind(a)) for a in addresses) if k] or (
            [] if addresses else [("nothing", "unresolved")])
        if not bad:
            return None
        address, kind = bad[0]
        self.stats.inc_value(f"hosts/blocked/{kind}")
        origin = (request.meta.get("redirect_urls") or [None])[0]
        logger.warning("dropped %s%s: %s resolves to %s (%s), not a public address", request.url,
                       f" (redirected from {origin})" if origin else "", host, address, kind,
                       extra={"spider": self.crawler.spider})
        raise IgnoreRequest(f"{host} resolves to a {kind} address ({address})")


class CharsetCheckMiddleware:
    """Read a page in the charset its bytes are in when the declared one is wrong.

    A server that declares ``charset=gbk`` for UTF-8 bytes (or the reverse) makes Scrapy
    decode the page into mojibake and U+FFFD, and a garbled record would be stored.  An HTML
    response whose body does not decode strictly in its effective encoding is re-read in the
    first of its candidates that does (``charset/corrected``): what the page declares (BOM,
    ``Content-Type``, ``<meta charset>``), UTF-8, and GB18030, the superset of the GB2312/GBK
    family every Chinese portal not in UTF-8 uses.  A non-UTF-8 encoding is also dropped for
    UTF-8 when the bytes are valid non-ASCII UTF-8 (Chinese text in GBK practically never is).

    When no candidate decodes strictly (a page with a bad byte), the page is read in the
    candidate with the fewest undecodable bytes, each replaced by U+FFFD: a GB2312 page served
    as ``charset=utf-8`` with one bad byte is GB18030 with one replacement, not mojibake.
    Counted: ``charset/bad_bytes`` (bytes replaced), ``charset/bad_pages``; logged, and the
    health check warns (``charset``).  Cost: one strict decode of the body (~20 µs for a
    20 KB page); the counting decodes only for pages that fail it.
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
            if _decodes(body, "utf-8"):
                return response
        elif current is not None and not body.isascii():
            if _decodes(body, "utf-8"):
                return self._fix(response, current, "utf-8")
            if _decodes(body, current):
                return response
        else:
            return response
        candidates = list(dict.fromkeys(c for c in (
            _codec(read_bom(body)[0]), _codec(http_content_type_encoding(
                (response.headers.get(b"Content-Type") or b"").decode("latin-1"))),
            _codec(html_body_declared_encoding(body[:4096])), "utf-8", "gb18030") if c))
        for candidate in candidates:
            if candidate != current and _decodes(body, candidate):
                return self._fix(response, current, candidate)
        bad, best = min((_bad_bytes(body, c), i, c) for i, c in enumerate(candidates))[::2]
        stats = self.crawler.stats
        stats.inc_value("charset/bad_pages")
        stats.inc_value("charset/bad_bytes", bad)
        logger.warning("%s: %d undecodable byte(s) in every candidate charset (%s): read as %s, "
                       "each replaced by U+FFFD", response.url, bad, ", ".join(candidates), best,
                       extra={"spider": self.crawler.spider})
        return response if best == current else response.replace(encoding=best)

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
    """The codec Python reads ``name`` with (GB2312 and GBK as GB18030, their superset, as
    browsers do), or None."""
    try:
        name = codecs.lookup(resolve_encoding(name) or name).name.replace("_", "-") if name else None
    except LookupError:
        return None
    return "gb18030" if name in ("gb2312", "gbk") else name


def _decodes(body: bytes, codec: str) -> bool:
    try:
        body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


_BAD = [0]


def _count_bad(error: UnicodeDecodeError):
    _BAD[0] += error.end - error.start
    return "\ufffd", error.end


codecs.register_error("meetings.count", _count_bad)


def _bad_bytes(body: bytes, codec: str) -> int:
    """How many bytes of ``body`` do not decode in ``codec``."""
    _BAD[0] = 0
    body.decode(codec, "meetings.count")
    return _BAD[0]
