"""python -m crawler.replica --port 8601 [--host 127.0.0.1] [--articles N] [--seed S] [--latency MS]
                             [--generation archive|current|both] [--extra-portals N]
                             [--fault PORTAL=MODE[:param] ...]   (modes: crawler/replica/faults.py)
                             [--prerender PORTAL ...]
python -m crawler.replica --list PORTAL [--generation …] [--articles N] [--seed S]
python -m crawler.replica --registry N > portals-extra.toml   (registry entries of N extra portals)"""

from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m crawler.replica", description="Offline replica of the portals")
    ap.add_argument("--port", type=int, default=8601, help="TCP port; 0 picks a free one")
    ap.add_argument("--host", default="127.0.0.1", help="interface to listen on")
    ap.add_argument("--articles", type=int, default=60, help="meeting articles per portal")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency", type=float, default=0, help="delay every response by MS milliseconds")
    ap.add_argument("--fault", action="append", default=[], metavar="PORTAL=MODE[:param]",
                    help="switch a fault mode on for a portal (repeatable); modes in crawler/replica/faults.py")
    ap.add_argument("--prerender", action="append", default=[], metavar="PORTAL",
                    help="render every article page of PORTAL at start and serve it from memory, as a "
                         "static server would (benchmarks); repeatable")
    ap.add_argument("--generation", choices=("archive", "current", "both"), default="both",
                    help="serve each portal as its snapshots show it (archive), as its CMS serves it today "
                         "(current), or both at once, mid-migration (default)")
    ap.add_argument("--extra-portals", type=int, default=0, metavar="N",
                    help="serve N more portals (p001…), each on its own host www.pNNN.example.gov.cn, cycling "
                         "through every portal and generation")
    ap.add_argument("--registry", type=int, metavar="N",
                    help="print the registry entries (portals.toml) of N extra portals and exit")
    ap.add_argument("--list", metavar="PORTAL",
                    help="print the real-portal URL of every meeting article (and, on stderr, each generation's listing URL) "
                         "and exit")
    args = ap.parse_args(argv)

    from .site import PORTAL_NAMES, build_site

    if args.registry is not None:
        from .extra import registry_toml

        sys.stdout.write(registry_toml(build_site(args.articles, args.seed, args.generation, args.registry).extras))
        return 0
    if args.list:
        site = build_site(args.articles, args.seed, args.generation, args.extra_portals)
        if args.list not in PORTAL_NAMES and args.list not in site.extras:
            ap.error(f"unknown portal {args.list!r}; one of {', '.join(PORTAL_NAMES)} (or an extra portal)")
        for generation in site.generations_of(args.list):
            print(f"# {generation}: listing {site.list_urls(args.list, generation)}", file=sys.stderr)
            sys.stdout.write("".join(u + "\n" for u in site.meeting_urls(args.list, generation)))
        return 0

    from twisted.internet import reactor

    from .server import listen

    from .faults import apply_faults, parse_spec

    site = build_site(args.articles, args.seed, args.generation, args.extra_portals)
    try:
        for spec in args.fault:
            parse_spec(spec)
        faults = apply_faults(site, args.fault)
    except ValueError as e:
        ap.error(str(e))
    for name in args.prerender:
        if name not in PORTAL_NAMES and name not in site.extras:
            ap.error(f"unknown portal {name!r}; one of {', '.join(PORTAL_NAMES)}")
        for generation in site.generations_of(name):
            site.portal(name, generation).prerender()
    if faults:
        print("faults: " + ", ".join(map(repr, faults.values())), file=sys.stderr, flush=True)
    port = listen(site, args.port, args.host, args.latency)
    print(f"replica listening on http://{args.host}:{port.getHost().port}", flush=True)
    reactor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
