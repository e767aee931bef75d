"""Rendering listing pages in a browser: scrapy-splash against a Splash server (docs/splash.md).

Off by default.  ``-a render=splash`` (spider argument) or ``-s RENDER=splash`` turns it on for
one crawl: the spider's listing requests go to Splash's ``execute`` endpoint with
:data:`LISTING_LUA`, which loads the page, waits until the listing exists, clicks through the
page's own pager to the page asked for and returns the rendered DOM; the spider reads that DOM
with its ordinary selectors.  Article requests stay plain Scrapy requests unless the spider sets
``render_articles``.  With ``PORTAL_MIRROR`` set, Splash's browser uses the mirror as its HTTP
proxy (``proxy`` argument), so the page and every script and XHR it loads come from the mirror,
addressed by their real portal URLs, exactly as Scrapy's own requests are.

Settings: ``RENDER`` (``""`` or ``"splash"``), ``SPLASH_URL`` (``http://127.0.0.1:8050``),
``SPLASH_WAIT`` (seconds to let a page's scripts run when nothing tells when it is ready;
0.5), ``SPLASH_TIMEOUT`` (seconds one render may take; 60).

**scrapy-splash 0.11.1 on Scrapy 2.19** (compat decision, docs/splash.md): it breaks in three
places; they are handled here rather than by pinning Scrapy 2.13, because the project's
measurements and behaviour are those of 2.19 and rendering is an option that must not change
the default crawl.  1. ``scrapy_splash`` imports ``canonicalize_url`` from ``scrapy.utils.url``
(gone since 2.16; it is ``w3lib.url.canonicalize_url``): the name is put back before
``scrapy_splash`` is imported.  2. :class:`SplashDeduplicateArgsMiddleware` gets an async
``process_spider_output`` and ``process_start``.  3. :class:`SplashMiddleware` asks the
downloader for the slot key with the public ``get_slot_key(request)``.  The components are
added to a crawl's settings only when rendering is on (:func:`enable`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import scrapy.utils.url
from w3lib.url import canonicalize_url

# 1. scrapy_splash.dupefilter and .request do `from scrapy.utils.url import canonicalize_url`.
if not hasattr(scrapy.utils.url, "canonicalize_url"):
    scrapy.utils.url.canonicalize_url = canonicalize_url

import scrapy_splash  # noqa: E402
from scrapy_splash import SplashRequest  # noqa: E402,F401  (re-exported)

ROOT = Path(__file__).resolve().parents[2]
MODES = ("splash",)
DEFAULT_SPLASH_URL = "http://127.0.0.1:8050"


class SplashDeduplicateArgsMiddleware(scrapy_splash.SplashDeduplicateArgsMiddleware):
    """2. Scrapy 2.19 spider middlewares: async ``process_spider_output``, ``process_start``."""

    def __init__(self, crawler=None):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def _state(self):
        spider = self.crawler.spider
        if not hasattr(spider, "state"):
            spider.state = {}
        spider.state.setdefault(self.local_values_key, {})
        return spider

    async def process_spider_output(self, response, result):
        spider = self._state()
        async for el in result:
            yield self._process_request(el, spider) if isinstance(el, scrapy.Request) else el

    async def process_start(self, start):
        spider = self._state()
        async for el in start:
            yield self._process_request(el, spider) if isinstance(el, scrapy.Request) else el


class SplashMiddleware(scrapy_splash.SplashMiddleware):
    """3. ``Downloader._get_slot_key`` is gone (2.14); the public one is ``get_slot_key``.
    Also: the methods drop the ``spider`` argument that 2.19 deprecates, and the rewritten
    request to Splash is marked ``allow_offsite`` (the offsite check is a downloader
    middleware since 2.11 and would drop the Splash host)."""

    def _get_slot_key(self, request_or_response):
        request = getattr(request_or_response, "request", None) or request_or_response
        return self.crawler.engine.downloader.get_slot_key(request)

    def process_request(self, request):
        new = super().process_request(request, self.crawler.spider)
        if new is not None:
            # The request to Splash goes through the downloader middlewares again; the portal
            # URL already passed the (downloader) OffsiteMiddleware, the Splash host must too.
            new.meta["allow_offsite"] = True
        return new

    def process_response(self, request, response):
        return super().process_response(request, response, self.crawler.spider)

COMPONENTS = {
    "DOWNLOADER_MIDDLEWARES": {
        # Before HttpProxyMiddleware (750) and HttpCompressionMiddleware (810), as
        # scrapy-splash asks; the request then goes to Splash, not to the mirror (the host
        # check at 50 leaves a request for Splash unproxied and lets SPLASH_URL through).
        "crawler.runtime.splash.SplashMiddleware": 725,
    },
    "SPIDER_MIDDLEWARES": {"crawler.runtime.splash.SplashDeduplicateArgsMiddleware": 100},
}


def render_mode(arg: str | None, settings) -> str | None:
    """``"splash"`` when rendering is asked for by the spider argument (first) or ``RENDER``."""
    value = arg if arg is not None else settings.get("RENDER", "")
    value = str(value or "").strip().lower()
    if value in ("", "0", "no", "off", "false", "none"):
        return None
    if value not in MODES:
        raise ValueError(f"render must be one of {', '.join(MODES)} (or empty), not {value!r}")
    return value


def enable(settings) -> None:
    """Add the Splash components to a crawl's (not yet frozen) settings."""
    for name, components in COMPONENTS.items():
        merged = dict(settings.getdict(name))
        merged.update(components)
        settings.set(name, merged, priority="spider")
    # Two renders of one URL with other arguments (page 2, page 3 …) are different requests.
    settings.set("REQUEST_FINGERPRINTER_CLASS", "scrapy_splash.SplashRequestFingerprinter", priority="spider")
    settings.set("SPLASH_URL", settings.get("SPLASH_URL") or DEFAULT_SPLASH_URL, priority="spider")


def browser_args(settings) -> dict:
    """Splash arguments shared by every render of a crawl."""
    args = {"timeout": settings.getfloat("SPLASH_TIMEOUT", 60)}
    mirror = settings.get("PORTAL_MIRROR")
    if mirror:
        # The browser reaches the mirror as Scrapy does: as an HTTP forward proxy.
        args["proxy"] = mirror.rstrip("/")
    return args


def listing_request(spider, url: str, callback, meta: dict, *, page: int = 1, wait_for: str | None = None,
                    pager: str | None = None, next_text: str = "下一页", **kwargs) -> SplashRequest:
    """A request for the rendered DOM of listing ``url``, at page ``page`` of its pager."""
    settings = spider.crawler.settings
    args = browser_args(settings)
    args.update({"lua_source": LISTING_LUA, "wait": settings.getfloat("SPLASH_WAIT", 0.5), "page": page,
                 "next_text": next_text, "step_timeout": min(30.0, args["timeout"] / 2)})
    if wait_for:
        args["wait_for"] = wait_for
    if pager:
        args["pager"] = pager
    return SplashRequest(url, callback=callback, endpoint="execute", args=args, meta=meta,
                         cache_args=["lua_source"], **kwargs)


def page_request(spider, url: str, callback, meta: dict, **kwargs) -> SplashRequest:
    """A request for the rendered DOM of any page (``render.html``)."""
    settings = spider.crawler.settings
    args = browser_args(settings)
    args["wait"] = settings.getfloat("SPLASH_WAIT", 0.5)
    return SplashRequest(url, callback=callback, endpoint="render.html", args=args, meta=meta, **kwargs)


# Load args.url; wait until args.wait_for matches (else args.wait seconds); if args.page > 1,
# click through the pager (args.pager): the numbered link of that page when shown, else the
# highest numbered link before it, else the args.next_text link; after each click wait until the
# pager marks the new page and the first entry has changed.  Returns the rendered DOM.
LISTING_LUA = r"""
function main(splash, args)
  splash.images_enabled = false
  splash.resource_timeout = math.min(30, args.timeout or 30)
  local ok, reason = splash:go(args.url)
  if not ok then error("cannot load " .. args.url .. ": " .. tostring(reason)) end
  local step = args.step_timeout or 20

  local function wait_until(cond, timeout)
    local t = 0
    while not cond() do
      if t >= timeout then return false end
      splash:wait(0.05)
      t = t + 0.05
    end
    return true
  end

  local function ready()
    return splash:select(args.wait_for) ~= nil
  end

  if args.wait_for then
    if not wait_until(ready, step) then error("listing not rendered: no " .. args.wait_for) end
  else
    splash:wait(args.wait or 0.5)
  end

  -- The pager's state; marks (data-splash-click) the link that gets closest to `target`.
  local inspect = splash:jsfunc([[
    function (pager, items, nextText, target) {
      var box = document.querySelector(pager), first = items ? document.querySelector(items) : null;
      var out = {current: 0, goes_to: 0, first: first ? first.innerHTML : ""};
      if (!box) { return out; }
      var best = null, bestNum = 0, next = null, nodes = box.querySelectorAll("a, span");
      for (var i = 0; i < nodes.length; i++) {
        var n = nodes[i], t = (n.textContent || "").replace(/^\s+|\s+$/g, "");
        n.removeAttribute("data-splash-click");
        if (/^\d+$/.test(t)) {
          var num = parseInt(t, 10);
          if (n.tagName !== "A") { out.current = num; }
          else if (num <= target && num > bestNum) { best = n; bestNum = num; }
        } else if (n.tagName === "A" && t === nextText) { next = n; }
      }
      if (best && bestNum > out.current) { best.setAttribute("data-splash-click", "1"); out.goes_to = bestNum; }
      else if (next && out.current < target) { next.setAttribute("data-splash-click", "1"); out.goes_to = out.current + 1; }
      return out;
    }]])

  local target = tonumber(args.page or 1)
  local current = 1
  if target > 1 then
    if not args.pager then error("page " .. target .. " asked for without a pager") end
    while true do
      local s = inspect(args.pager, args.wait_for, args.next_text, target)
      current = s.current
      if current == target then break end
      if s.goes_to == 0 then error("the pager leads no further than page " .. tostring(current)) end
      local link = splash:select("[data-splash-click]")
      link:mouse_click()
      local arrived = wait_until(function()
        local now = inspect(args.pager, args.wait_for, args.next_text, 0)
        return now.current == s.goes_to and now.first ~= s.first and ready()
      end, step)
      if not arrived then error("page " .. s.goes_to .. " did not render") end
    end
  end
  return {html = splash:html(), url = splash:url(), page = current}
end
"""


# --- a local Splash server (tests, CI) -------------------------------------------------------


def splash_venv() -> Path:
    """The venv ``tools/setup-splash.sh`` makes (``SPLASH_VENV``, default ``.venv-splash``)."""
    venv = Path(os.environ.get("SPLASH_VENV", ".venv-splash"))
    return venv if venv.is_absolute() else ROOT / venv


def splash_command(port: int, host: str = "127.0.0.1") -> list[str]:
    venv = splash_venv()
    python, script = venv / "bin" / "python", venv / "run_splash.py"
    if not python.exists() or not script.exists():
        raise FileNotFoundError(f"no Splash install in {venv} (run tools/setup-splash.sh as root)")
    return [str(python), str(script), "--ip", host, "--port", str(port), "--max-timeout", "120"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ping(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url.rstrip("/") + "/_ping", timeout=timeout) as r:
            return json.loads(r.read()).get("status") == "ok"
    except Exception:  # noqa: BLE001  (not up yet)
        return False


@contextlib.contextmanager
def running_splash(port: int = 0, host: str = "127.0.0.1", timeout: float = 30, log: Path | None = None):
    """Start Splash from the setup script's venv on ``host:port`` (0: a free port), wait for
    ``/_ping`` and yield its URL; stop it (SIGTERM, which also stops the Xvfb it started)."""
    port = port or free_port(host)
    cmd = splash_command(port, host)
    env = dict(os.environ, QTWEBENGINE_DISABLE_SANDBOX="1", PYTHONUNBUFFERED="1")
    out = open(log, "wb") if log else subprocess.DEVNULL
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT,
                            start_new_session=True)
    url = f"http://{host}:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not ping(url):
            if proc.poll() is not None:
                raise RuntimeError(f"Splash exited with {proc.returncode} at start" + (f" (log: {log})" if log else ""))
            if time.monotonic() > deadline:
                raise RuntimeError(f"Splash did not answer {url}/_ping within {timeout:g} s")
            time.sleep(0.1)
        yield url
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                # The whole session: Splash and the Xvfb it started.
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        if log:
            out.close()


def main(argv=None) -> int:
    """``python -m crawler.runtime.splash --check``: start a local Splash, ping it, stop it (CI)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--check", action="store_true", help="start Splash, wait for /_ping, stop it")
    opts = parser.parse_args(argv)
    if not opts.check:
        parser.print_help()
        return 2
    started = time.monotonic()
    with running_splash() as url:
        print(f"Splash answered {url}/_ping in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
