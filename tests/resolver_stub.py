"""A name resolver for crawls under test: ``-s TWISTED_DNS_RESOLVER=tests.resolver_stub.StubResolver``.

Names resolve by the ``STUB_HOSTS`` environment variable (``name=address,…``, ``*`` for any
other name) instead of DNS, so a test can make a portal's host, a subdomain or a foreign
domain point at a local server or at a private address, the way a hostile DNS would.
Installed through Scrapy's own setting, like the default CachingThreadedResolver; the
reactor's connections and the crawler's host policy both resolve through it.
"""

from __future__ import annotations

import os

from twisted.internet import defer
from twisted.internet.error import DNSLookupError
from twisted.internet.interfaces import IResolverSimple
from zope.interface import implementer


@implementer(IResolverSimple)
class StubResolver:
    def __init__(self, reactor, table: dict[str, str]):
        self.reactor = reactor
        self.table = table

    @classmethod
    def from_crawler(cls, crawler, reactor):
        spec = os.environ.get("STUB_HOSTS", "")
        table = dict(pair.split("=", 1) for pair in spec.split(",") if "=" in pair)
        return cls(reactor, table)

    def install_on_reactor(self):
        self.reactor.installResolver(self)

    def getHostByName(self, name, timeout=()):
        address = self.table.get(name.lower()) or self.table.get("*")
        if address is None:
            return defer.fail(DNSLookupError(name))
        return defer.succeed(address)
