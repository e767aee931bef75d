"""The offline replica of the portals: a real HTTP server built from the snapshots.

    from crawler.replica import build_site, listen
    site = build_site(articles=60, seed=1)
    port = listen(site, 0)            # on the running/global Twisted reactor
    site.expected_items("laishan")    # expected items of every meeting article served
"""


def build_site(articles: int = 60, seed: int = 1, generation: str = "archive", extra_portals: int = 0):
    """``generation``: "archive" (the snapshots), "current" (each portal's CMS today) or "both";
    ``extra_portals``: that many more portals on hosts of their own (crawler/replica/extra.py)."""
    from .site import build_site as _build

    return _build(articles, seed, generation, extra_portals)


def listen(site, port: int = 0, interface: str = "127.0.0.1", latency_ms: float = 0, reactor=None):
    from .server import listen as _listen

    return _listen(site, port, interface, latency_ms, reactor)
