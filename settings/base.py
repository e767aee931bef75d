"""Default settings: one embedded SQLite store, polite crawling, feeds as users know them.

Everything here can be overridden per run with ``-s NAME=VALUE`` or per deployment with a
settings module that imports this one (see ``settings/distributed.py``).
"""

import os

BOT_NAME = "meetings"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"
# Portals as configuration (crawler/registry.py, docs/portals.md): every entry of these files is
# a spider too. Paths are relative to the project directory; add files with
# -s PORTAL_REGISTRY=portals.toml,portals-extra.toml
SPIDER_LOADER_CLASS = "crawler.registry.PortalSpiderLoader"
PORTAL_REGISTRY = ["portals.toml"]
# Listing URLs per portal that replace its default start URLs: {"laishan": ["http://…"], …}
# (JSON on the command line); `-a start=URL[,URL…]` does the same for one crawl.
PORTAL_START_URLS = {}
COMMANDS_MODULE = "crawler.commands"

# --- portals ---------------------------------------------------------------------------
# Origin that stands in for every portal host (an offline replica or a recorded mirror):
# requests keep path, query, method and body and carry the portal's Host header; items
# keep the real portal URL.  Empty: talk to the portals themselves.
PORTAL_MIRROR = ""

# --- politeness: these are small government servers ------------------------------------
USER_AGENT = "meetings-crawler/1.0 (+https://github.com/; research crawler of public meeting records)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 4
DOWNLOAD_DELAY = 0.25
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.25
AUTOTHROTTLE_TARGET_CONCURRENCY = 2.0
DOWNLOAD_TIMEOUT = 30
RETRY_TIMES = 3
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
# An article page is ~20 KB; anything past this is not one.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
# Scrapy's downloader, keeping CONCURRENT_REQUESTS_PER_DOMAIN when DOWNLOAD_DELAY is 0
# (crawler/runtime/downloader.py: Scrapy 2.19 starts every queued request of a slot at once).
DOWNLOADER = "crawler.runtime.downloader.Downloader"

# Scrapy starts CONCURRENT_ITEMS tasks per response however few items it yields; an article
# yields one item and the pipelines are synchronous, so 1 costs nothing and saves ~40% CPU
# per page (../MEASUREMENTS: bare spider 170 → 290 pages/s).
CONCURRENT_ITEMS = 1

# Scrapy's in-memory stats without its per-attribute deprecation hook: 20x cheaper calls,
# and a crawl makes 15-30 of them per page (crawler/stats.py).
STATS_CLASS = "crawler.runtime.stats.MeetingStatsCollector"
# Scrapy's per-page and per-item DEBUG messages are not built when no log handler shows DEBUG
# (crawler/runtime/logformatter.py).
LOG_FORMATTER = "crawler.runtime.logformatter.MeetingLogFormatter"

# Worker processes that parse article pages and run the pure-transform pipelines
# (crawler/runtime/parsepool.py): a crawl is bound to one core, and parsing is a third of its work
# per page.  One where the machine has a second core; 0 parses in the crawl process.
# A worker that dies is replaced this many times, then pages are parsed in the crawl process.
PARSE_PROCESSES = 1 if (os.cpu_count() or 1) > 1 else 0
PARSE_PROCESS_RESTARTS = 3
# A worker that answers nothing for this many seconds is stuck on its page: the page is
# dropped (a logged spider error) and the worker killed, so one page cannot hang a crawl.
PARSE_TIMEOUT = 60

DOWNLOADER_MIDDLEWARES = {
    # Where requests go (crawler/runtime/hosts.py): portal hosts only, with any port, also for
    # redirects and robots.txt; PORTAL_MIRROR routing (meta["proxy"], sent by
    # HttpProxyMiddleware at 750); no private addresses off the given origins.
    "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware": None,
    "crawler.runtime.middlewares.HostPolicyMiddleware": 50,
    # After decompression (590) on the way back: re-read a page whose declared charset is wrong.
    "crawler.runtime.middlewares.CharsetCheckMiddleware": 580,
    # Scrapy's redirects, counting what a redirect loop drops (redirect/max_reached).
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.runtime.middlewares.CountingRedirectMiddleware": 600,
}

SPIDER_MIDDLEWARES = {
    # Outermost: a page's parsed tree freed once its callback is done (crawler/runtime/pages.py).
    "crawler.runtime.pages.ReleasePageMiddleware": 40,
    # Then a ticket for every listing/article request yielded, closed by its response
    # or its errback (crawler/ops/ledger.py).
    "crawler.ops.ledger.LedgerSpiderMiddleware": 45,
    # Skip stored articles, stop at known listing pages (crawler/store/incremental.py).
    "crawler.store.incremental.IncrementalMiddleware": 600,
}

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.meeting.MeetingFieldsPipeline": 200,
    "pipelines.fingerprint.FingerprintPipeline": 250,
    "pipelines.validate.ValidatePipeline": 300,
    "pipelines.dedupe.DedupePipeline": 400,
    "pipelines.store.StorePipeline": 500,
}

# A listing walk stops after this many pages (listing/stopped/page_cap) or at a page that
# brings no entry it has not seen (listing/stopped/no_new), whatever total the portal
# claims (crawler/cms/walk.py); either leaves the walk incomplete (a health warning).
LISTING_MAX_PAGES = 1000

# --- store (docs/store.md) ---------------------------------------------------------------
# A database URL: sqlite:///data/meetings.db (relative to the project directory) or
# postgresql://user@host/db (psycopg 3).  The environment variable MEETINGS_DB overrides
# the default; empty disables the store and incremental crawling.
MEETINGS_DB = os.environ.get("MEETINGS_DB", "sqlite:///data/meetings.db")
# Incremental runs skip stored articles seen within this many days; -a full=1 or
# INCREMENTAL_ENABLED = False re-crawls everything.
INCREMENTAL_ENABLED = True
INCREMENTAL_REFRESH_DAYS = 30
# The store commits items in batches of this many, or this many seconds, whichever comes
# first (and at close): a commit per item cost more CPU than parsing the page.  An article
# counts as seen only once committed, so a crash costs a re-fetch, never a lost meeting.
STORE_BATCH_SIZE = 100
STORE_BATCH_SECONDS = 1.0
# Store calls run on the crawl's (reactor) thread: a statement waits at most this many
# seconds for a lock held elsewhere (SQLite busy timeout, PostgreSQL lock_timeout), and runs
# at most STORE_STATEMENT_TIMEOUT on PostgreSQL (statement_timeout); then it fails, logged
# and counted, instead of freezing the crawl past its time limit.  0: no limit.
STORE_LOCK_TIMEOUT = 10
STORE_STATEMENT_TIMEOUT = 30

# Bounds on item field sizes, in characters (pipelines/validate.py MAX_CHARS), e.g.
# -s 'VALIDATE_MAX_CHARS={"body": 500000}'; a longer value is cut and counted.
VALIDATE_MAX_CHARS = {}

# --- feeds -------------------------------------------------------------------------------
FEED_EXPORT_ENCODING = "utf-8"
# SCHEMA column order; CSV list fields in one readable cell.  For Excel, set
# FEED_EXPORT_ENCODING = "utf-8-sig" (UTF-8 with BOM).
FEED_EXPORTERS = {
    "csv": "crawler.store.exporters.MeetingCsvItemExporter",
    "json": "crawler.store.exporters.MeetingJsonItemExporter",
    "jsonlines": "crawler.store.exporters.MeetingJsonLinesItemExporter",
    "jsonl": "crawler.store.exporters.MeetingJsonLinesItemExporter",
    "jl": "crawler.store.exporters.MeetingJsonLinesItemExporter",
}

LOG_LEVEL = "INFO"
TELNETCONSOLE_ENABLED = False
# Scrapy 2.19's remote control runs Python sent over HTTP and leaves a token file per run
# under ~/.local/state/scrapy/job_files (a killed run leaves its file): off, like the telnet
# console; SCRAPY_REMOTE_CONTROL=1 in the environment for a debugging session.  Off, it is
# not even loaded: its module imports aiohttp, a quarter of a second of every process's start.
REMOTE_CONTROL_ENABLED = os.environ.get("SCRAPY_REMOTE_CONTROL") == "1"

# --- scheduled operation: crawlall, health checks (docs/operations.md) -------------------
EXTENSIONS = {
    # What came of every listing and article request; whether the listing walk completed
    # (crawler/ops/ledger.py).  Before the health check, which judges its tally.
    "crawler.ops.ledger.LedgerExtension": 800,
    # Judge every spider run on close: empty listings, key-field coverage, errors, staleness.
    "crawler.ops.health.HealthCheckExtension": 900,
    # Python's cyclic GC every 5,000 allocations instead of 700 while crawling (crawler/runtime/gcthreshold.py).
    "crawler.runtime.gcthreshold.GcThreshold": 0,
    **({} if REMOTE_CONTROL_ENABLED else {"scrapy.extensions.remote_control.RemoteControl": None}),
}
GC_GEN0_THRESHOLD = 5000
HEALTH_ENABLED = True
# Least share of fetched article pages that must yield each key field.
HEALTH_MIN_COVERAGE = {"title": 0.95, "published_at": 0.95, "body": 0.95, "meeting_date": 0.8}
# Fewer article pages than this in a run: a coverage shortfall only warns.
HEALTH_MIN_ARTICLES = 5
# Warn when a portal has stored no new record for this many days (0: never).
HEALTH_STALE_DAYS = 60
# A run that parses no listing page fails (`listing_none`); distributed workers turn it off.
HEALTH_REQUIRE_LISTING = True
# `scrapy crawlall`: exclusive lock, per-spider time limit (seconds, 0: none), one log file
# per run (strftime pattern; empty: console only).  Relative paths: the project directory.
CRAWLALL_LOCK_FILE = "data/crawlall.lock"
CRAWLALL_SPIDER_TIMEOUT = 3 * 3600
CRAWLALL_LOG_FILE = "logs/crawlall-%Y%m%d-%H%M%S.log"
# The log file gets this level or LOG_LEVEL, whichever is lower (cron: -s LOG_LEVEL=WARNING).
CRAWLALL_LOG_FILE_LEVEL = "INFO"
# Crawl processes of one crawlall (crawler/ops/shards.py): 0 picks one per
# CRAWLALL_PORTALS_PER_PROCESS portals, at most one per core (one core runs one Scrapy).
CRAWLALL_PROCESSES = 0
CRAWLALL_PORTALS_PER_PROCESS = 20
# Alerts (crawler/ops/alerts.py, docs/operations.md): apprise URLs — mailto://, dingtalk://,
# wecombot://, feishu://, slack://, json:// … — separated by spaces or commas; the
# environment variable ALERT_URLS is the default.  A failure that persists is reported again
# after ALERT_REPEAT_HOURS; delivery gives up after ALERT_TIMEOUT seconds.
ALERT_URLS = os.environ.get("ALERT_URLS", "")
ALERT_REPEAT_HOURS = 24
ALERT_TIMEOUT = 30
# `scrapy crawl` on a terminal shows the progress display; its log goes here instead
# (strftime pattern, {spider}: the spider's name; empty: errors on the console, no file).
CRAWL_LOG_FILE = "logs/crawl-{spider}-%Y%m%d-%H%M%S.log"
# Live progress display on a terminal (never under cron), redrawn every N seconds; also for
# `scrapy crawl`.
CRAWLALL_PROGRESS = True
CRAWLALL_PROGRESS_INTERVAL = 0.5
