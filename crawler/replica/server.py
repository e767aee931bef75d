"""The Twisted HTTP front of the replica: one port for every portal host.

Requests may come proxy-style (``GET http://host/path HTTP/1.1``, which is how Scrapy sends them
with ``PORTAL_MIRROR``) or origin-style (``GET /path`` with a ``Host`` header).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from twisted.internet import reactor as default_reactor
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET
from twisted.web.server import Site as TwistedSite

from .common import Response
from .site import Site


class ReplicaResource(Resource):
    isLeaf = True

    def __init__(self, site: Site, latency_ms: float = 0, reactor=None):
        super().__init__()
        self.site = site
        self.latency = max(0.0, latency_ms) / 1000.0
        self.reactor = reactor or default_reactor
        self.requests = 0

    def render(self, request):
        self.requests += 1
        uri = request.uri.decode("latin-1")
        if uri.startswith(("http://", "https://")):
            parts = urlsplit(uri)
            host, path, query = parts.netloc, parts.path or "/", parts.query
        else:
            host = (request.getHeader("host") or "")
            path, _, query = uri.partition("?")
        method = request.method.decode("latin-1").upper()
        body = request.content.read() if request.content is not None else b""
        headers = {k.decode("latin-1").lower(): v[-1].decode("latin-1")
                   for k, v in request.requestHeaders.getAllRawHeaders()}
        name, resp = self.site.handle(host, method, path, query, body, headers)
        delay = self.latency
        truncate = None
        hook = self.site.faults.get(name) if name else None
        if hook is not None:
            verdict = hook(name, method, path)
            if isinstance(verdict, Response):
                resp = verdict
            elif isinstance(verdict, dict):
                # directives of crawler/replica/faults.py
                if verdict.get("reset"):
                    request.channel.transport.abortConnection()
                    return NOT_DONE_YET
                if verdict.get("transform"):
                    resp = verdict["transform"](resp)
                truncate = verdict.get("truncate")
                delay += float(verdict.get("delay_ms", 0)) / 1000.0
        request.setResponseCode(resp.status)
        for k, v in resp.headers:
            request.setHeader(k, v)
        if truncate is not None and method != "HEAD":
            # Content-Length of the whole body, part of it sent, connection closed.
            request.setHeader("Content-Length", str(len(resp.body)))
            request.write(resp.body[:int(len(resp.body) * float(truncate))])
            request.channel.transport.loseConnection()
            return NOT_DONE_YET
        if delay <= 0:
            return resp.body

        def finish():
            if not finished["gone"]:
                request.setHeader("Content-Length", str(len(resp.body)))
                if method != "HEAD":
                    request.write(resp.body)
                request.finish()

        finished = {"gone": False}
        call = self.reactor.callLater(delay, finish)

        def gone(_):
            finished["gone"] = True
            if call.active():
                call.cancel()

        request.notifyFinish().addErrback(gone)
        return NOT_DONE_YET


class QuietSite(TwistedSite):
    def log(self, request):  # no access log: it would cost more than serving the page
        pass


def make_factory(site: Site, latency_ms: float = 0, reactor=None) -> QuietSite:
    factory = QuietSite(ReplicaResource(site, latency_ms, reactor))
    factory.displayTracebacks = False
    factory.noisy = False
    return factory


def listen(site: Site, port: int = 0, interface: str = "127.0.0.1", latency_ms: float = 0, reactor=None):
    """Listen on ``interface:port`` (0 picks a free port) on the given or global reactor; the
    caller runs the reactor.  Returns the Twisted listening port (``.getHost().port``)."""
    reactor = reactor or default_reactor
    return reactor.listenTCP(port, make_factory(site, latency_ms, reactor), interface=interface)
