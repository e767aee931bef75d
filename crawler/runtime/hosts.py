"""Where a spider's requests may go: the one host policy of the crawler.

Every request the crawler sends passes ``crawler.runtime.middlewares.HostPolicyMiddleware`` (a downloader
middleware, in place of Scrapy's OffsiteMiddleware), whatever made it: the spider, a
redirect, the robots.txt middleware, a retry.  The rules (``docs/operations.md``, "Where
requests go"):

1. **Portal hosts.**  A request is the portal's when its *host name* (never the port) is one
   of the spider's ``allowed_domains`` or a subdomain of one — Scrapy's own offsite rule.
   Anything else is dropped and counted (``offsite/filtered``, ``offsite/domains``), also
   when it is marked ``dont_filter`` (the robots.txt request of a redirect is).
2. **With ``PORTAL_MIRROR``** every portal request, on whatever port or scheme, goes to the
   mirror (a forward proxy: ``meta["proxy"]``): nothing ever reaches the portal hosts
   themselves, nor anything else.
3. **Without a mirror** a request to an origin the spider was given (the scheme, host and port
   of one of its ``start_urls`` or start requests) goes as it is: where that host points is the operator's
   choice.  Every other portal request — a redirect target, the same host on another port,
   a subdomain — is resolved first, through the resolver the reactor uses for its own
   connections (``TWISTED_DNS_RESOLVER``, whose cache the download then reads), and dropped
   (``hosts/blocked/<kind>``) when any address is not a public one: loopback, private,
   link-local (cloud metadata at 169.254.169.254), shared, reserved, multicast.
4. **Services** the crawl itself is configured to talk to (``SPLASH_URL`` when rendering)
   are neither portals nor proxied.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.internet.interfaces import IResolutionReceiver
from zope.interface import implementer

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The host name of ``url``, lower case, without port or brackets ('' if none)."""
    try:
        return (urlsplit(url).hostname or "").rstrip(".")
    except ValueError:
        return ""


def origin_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of ``url``, the port made explicit; None if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    return (parts.scheme, host, port) if host and port else None


def in_domains(host: str, domains) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one."""
    host = host.lower()
    return bool(host) and any(host == d or host.endswith("." + d) for d in domains)


def address_kind(address: str) -> str | None:
    """Why ``address`` is no public unicast address (``loopback``, ``private``, ``link_local``,
    ``multicast``, ``reserved``), or None when it is one."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "invalid"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link_local"
    if ip.is_multicast:
        return "multicast"
    if ip.is_private:
        return "private"
    if not ip.is_global:
        return "reserved"  # unspecified, shared (100.64/10), documentation, future use …
    return None


class HostPolicy:
    """The rules above for one spider; pure, no I/O."""

    def __init__(self, domains, entry_urls=(), mirror: str | None = None, services=()):
        self.domains = tuple(d.lower().rstrip(".") for d in domains or () if d)
        self.mirror = mirror or None
        self.trusted = {o for o in map(origin_of, entry_urls) if o}
        self.services = {o for o in map(origin_of, services) if o}

    def is_service(self, url: str) -> bool:
        return origin_of(url) in self.services

    def is_portal(self, url: str) -> bool:
        # No allowed_domains: Scrapy's rule is "everything is on site"; a mirror then takes all.
        return not self.domains or in_domains(host_of(url), self.domains)

    def trust(self, url: str) -> None:
        origin = origin_of(url)
        if origin:
            self.trusted.add(origin)

    def needs_address_check(self, url: str) -> bool:
        """Without a mirror, a portal request to an origin the spider was not given."""
        return self.mirror is None and origin_of(url) not in self.trusted


def mirror_origin(value: str | None) -> str | None:
    """The ``PORTAL_MIRROR`` setting as ``scheme://netloc``; ValueError for anything else."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"PORTAL_MIRROR must be an origin such as http://127.0.0.1:8601, not {value!r}")
    return f"{parts.scheme}://{parts.netloc}"


@implementer(IResolutionReceiver)
class _Addresses:
    def __init__(self):
        self.addresses: list[str] = []
        self.done: defer.Deferred = defer.Deferred()

    def resolutionBegan(self, resolution):
        pass

    def addressResolved(self, address):
        self.addresses.append(address.host)

    def resolutionComplete(self):
        self.done.callback(self.addresses)


def resolve(reactor, host: str, port: int) -> defer.Deferred:
    """Every address ``host`` resolves to, by the resolver the reactor's own connections use."""
    receiver = _Addresses()
    reactor.nameResolver.resolveHostName(receiver, host, port)
    return receiver.done
