"""Distributed crawling: many workers, one scrapy-redis request queue, one PostgreSQL store.

Selected by ``SCRAPY_SETTINGS_MODULE=settings.distributed`` (or ``-s SCHEDULER=
crawler.runtime.distributed.DistributedScheduler -s REDIS_URL=redis://…``); see docs/distributed.md.

Built on scrapy-redis 0.9.1 (its request serialisation, queue and dupefilter classes and its
connection helpers), with small subclasses for what 0.9.1 gets wrong on Scrapy 2.19 or for a
crawl that must keep the single-process guarantees:

* **Fingerprints** come from ``crawler.request_fingerprinter`` (scrapy-redis hashes its own
  JSON of method/url/body and ignores ``REQUEST_FINGERPRINTER_CLASS``).
* **Crawl-scoped keys.** Every key lives under ``<prefix>:<spider>:<crawl id>:``. The first
  worker of a crawl creates the crawl id (``SET … NX`` on ``<prefix>:<spider>:crawl``); the
  others join it. When the crawl is complete the pointer is deleted, so tomorrow's workers
  start a new crawl with an empty seen-set: yesterday's fingerprints never block today's
  listing pages. Finished crawls' keys expire (``DISTRIBUTED_FINISHED_TTL``); abandoned ones
  after ``DISTRIBUTED_CRAWL_TTL``. ``DISTRIBUTED_CRAWL_ID`` pins the id instead (e.g. a date).
* **Seeding** is idempotent: every worker runs the spider's ``start()``; a start request is
  checked against the crawl's seen-set even when ``dont_filter`` is set, and the check and
  the push are one Lua script, so exactly one worker enqueues each start request.
* **Reliable queue** (at-least-once). scrapy-redis pops a request and forgets it: a worker
  killed mid-request loses it (and, for a listing page, the rest of that listing). Here the
  pop moves the request atomically into the worker's in-flight set; it is removed ("acked")
  only after the engine has finished it (callback output scheduled, items through the
  pipelines). Each worker refreshes a heartbeat key; the in-flight set of a worker whose
  heartbeat expired is moved back to the queue by any other worker (or by the next run).
  A re-done request at worst stores an ``unchanged`` record again.
* **Closing.** A worker stays while the queue is empty but another live worker holds
  in-flight requests (they may yield more), and closes as soon as the crawl is quiescent —
  queue and every in-flight set empty, checked atomically — or after
  ``DISTRIBUTED_MAX_IDLE`` seconds of waiting (reason ``idle_timeout``). scrapy-redis's
  ``SCHEDULER_IDLE_BEFORE_CLOSE`` (a blocking BRPOP on the reactor thread, ignored by its
  priority queue) and ``RedisSpider``'s idle loop (``start_requests``, ``MAX_IDLE_TIME_…``)
  are not used.
* **Redis outage.** Any Redis error stops the worker with one clear ERROR line and finish
  reason ``redis_unavailable``. Items already in the pipelines are committed one transaction
  each (never half); the requests the worker held stay in its in-flight set in Redis and go
  back to the queue when Redis is back (heartbeat expiry). A child request whose push failed
  is regenerated then, because the seen-set mark and the push are one atomic script.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from datetime import datetime, timezone

import redis
from scrapy import signals
from scrapy.exceptions import CloseSpider, DontCloseSpider
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import connection
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler as RedisScheduler

logger = logging.getLogger(__name__)

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)

DEFAULTS = {
    "DISTRIBUTED_KEY_PREFIX": "meetings",
    "DISTRIBUTED_CRAWL_ID": "",
    "DISTRIBUTED_HEARTBEAT_TTL": 15.0,  # s: a worker silent this long is dead
    "DISTRIBUTED_POLL_INTERVAL": 0.25,  # s: heartbeat, acks, waking an idle engine
    "DISTRIBUTED_MAX_IDLE": 300.0,  # s: leave even if other workers still hold requests
    "DISTRIBUTED_FINISHED_TTL": 3600,  # s: keys of a finished crawl are kept this long
    "DISTRIBUTED_CRAWL_TTL": 7 * 86400,  # s: keys of an abandoned crawl expire after this
    "DISTRIBUTED_LISTING_BOOST": 10,  # priority added to role=listing requests
    "DISTRIBUTED_PREFETCH": 0,  # requests a worker holds at most; 0: CONCURRENT_REQUESTS_PER_DOMAIN
}

# KEYS: seen, queue   ARGV: fingerprint, score, data, check ("1": consult the seen-set)
_ENQUEUE = """
if ARGV[4] == '1' and redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""
# KEYS: queue, inflight   -> the member with the lowest score, moved to inflight
_POP = """
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then return false end
redis.call('ZADD', KEYS[2], r[2], r[1])
return r[1]
"""
# KEYS: workers, queue   ARGV: key base   -> requests moved back from dead workers
_RECOVER = """
local n = 0
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('EXISTS', ARGV[1] .. 'alive:' .. w) == 0 then
    local key = ARGV[1] .. 'inflight:' .. w
    local c = redis.call('ZCARD', key)
    if c > 0 then
      redis.call('ZUNIONSTORE', KEYS[2], 2, KEYS[2], key, 'AGGREGATE', 'MIN')
      n = n + c
    end
    redis.call('DEL', key)
    redis.call('SREM', KEYS[1], w)
  end
end
return n
"""
# KEYS: workers, queue, pointer, meta   ARGV: key base, crawl id, now, finished ttl
# -> 1 when nothing is queued or held by anybody (the crawl is then marked finished)
_FINISH_IF_QUIESCENT = """
if redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
for _, w in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if redis.call('ZCARD', ARGV[1] .. 'inflight:' .. w) > 0 then return 0 end
end
if redis.call('GET', KEYS[3]) == ARGV[2] then redis.call('DEL', KEYS[3]) end
if redis.call('HSETNX', KEYS[4], 'finished', ARGV[3]) == 1 then
  for _, k in ipairs({KEYS[1], KEYS[4], ARGV[1] .. 'seen'}) do
    redis.call('EXPIRE', k, ARGV[4])
  end
end
return 1
"""
# KEYS: queue, inflight   -> my unfinished requests back to the queue (graceful stop)
_RETURN = """
local c = redis.call('ZCARD', KEYS[2])
if c > 0 then redis.call('ZUNIONSTORE', KEYS[1], 2, KEYS[1], KEYS[2], 'AGGREGATE', 'MIN') end
redis.call('DEL', KEYS[2])
return c
"""


def _setting(settings, name):
    default = DEFAULTS[name]
    if isinstance(default, float):
        return settings.getfloat(name, default)
    if isinstance(default, int):
        return settings.getint(name, default)
    return settings.get(name, default) or default


def redis_client(settings):
    """A scrapy-redis client with short timeouts and no silent retry loop: a call blocks the
    reactor thread, so an outage must fail fast (REDIS_PARAMS overrides)."""
    params = {"socket_timeout": 5, "socket_connect_timeout": 3, "retry_on_timeout": False}
    params.update(settings.getdict("REDIS_PARAMS"))
    if "retry" not in params:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        params["retry"] = Retry(NoBackoff(), 0)
    url = settings.get("REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    return connection.get_redis(url=url, **params)


class CrawlDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with Scrapy's request fingerprinter and a crawl-scoped key."""

    def __init__(self, server, key, debug=False, fingerprinter=None):
        super().__init__(server, key, debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def from_crawler(cls, crawler, key=None, server=None):
        return cls(
            server or redis_client(crawler.settings),
            key=key or f"{_setting(crawler.settings, 'DISTRIBUTED_KEY_PREFIX')}:dupefilter",
            debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )

    def request_fingerprint(self, request):
        if self.fingerprinter is None:
            return super().request_fingerprint(request)
        return self.fingerprinter.fingerprint(request).hex()

    def close(self, reason=""):
        # scrapy-redis deletes the seen-set here; it belongs to the crawl, not the worker.
        pass


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue (same serialisation) whose pop moves the request into
    this worker's in-flight set atomically; ``ack`` removes it once finished."""

    def __init__(self, server, spider, key, serializer=None, inflight_key=None, boost=0):
        super().__init__(server, spider, key, serializer)
        self.inflight_key = inflight_key
        self.boost = boost
        self._enqueue = server.register_script(_ENQUEUE)
        self._pop = server.register_script(_POP)

    def score(self, request) -> int:
        priority = request.priority
        if request.meta.get("role") == "listing":
            # Keep listing walks moving: their pages yield the work for every worker.
            priority += self.boost
        return -priority

    def push(self, request, fingerprint=None, seen_key=None):
        """Push unless the fingerprint is already in ``seen_key`` (one atomic step)."""
        data = self._encode_request(request)
        check = "1" if fingerprint else "0"
        seen_key = seen_key or self.key
        return bool(
            self._enqueue(keys=[seen_key, self.key], args=[fingerprint or "", self.score(request), data, check])
        )

    def pop(self, timeout=0):
        data = self._pop(keys=[self.key, self.inflight_key])
        if data is None:
            return None, None
        return self._decode_request(data), data

    def ack(self, datas):
        if datas:
            self.server.zrem(self.inflight_key, *datas)


class DistributedScheduler(RedisScheduler):
    """The scrapy-redis scheduler, crawl-scoped, reliable, with coordinated closing."""

    def __init__(self, crawler, server):
        s = crawler.settings
        super().__init__(
            server,
            persist=True,
            queue_cls="crawler.runtime.distributed.ReliableQueue",
            dupefilter_cls="crawler.runtime.distributed.CrawlDupeFilter",
            serializer=None,
        )
        self.crawler = crawler
        self.stats = crawler.stats
        self.prefix = _setting(s, "DISTRIBUTED_KEY_PREFIX")
        self.fixed_crawl_id = _setting(s, "DISTRIBUTED_CRAWL_ID")
        self.heartbeat_ttl = _setting(s, "DISTRIBUTED_HEARTBEAT_TTL")
        self.poll = _setting(s, "DISTRIBUTED_POLL_INTERVAL")
        self.max_idle = _setting(s, "DISTRIBUTED_MAX_IDLE")
        self.finished_ttl = _setting(s, "DISTRIBUTED_FINISHED_TTL")
        self.crawl_ttl = _setting(s, "DISTRIBUTED_CRAWL_TTL")
        self.boost = _setting(s, "DISTRIBUTED_LISTING_BOOST")
        # A worker takes no more than it can download now, so that the others find work in
        # the queue (Scrapy's engine would take CONCURRENT_REQUESTS into its own slots).
        self.prefetch = _setting(s, "DISTRIBUTED_PREFETCH") or (
            s.getint("CONCURRENT_REQUESTS_PER_DOMAIN", 8))
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.redis_url = _display_url(s)
        self.crawl_id = None
        self.seeder = False
        self.failed = False
        self.held: dict = {}  # request object -> its encoded form in the in-flight set
        self._idle_since = None
        self._waiting = False
        self._loop = None
        self._ticks = 0
        self._finish = server.register_script(_FINISH_IF_QUIESCENT)
        self._recover = server.register_script(_RECOVER)
        self._return = server.register_script(_RETURN)
        crawler.signals.connect(self.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(self.response_received, signal=signals.response_received)

    @classmethod
    def from_settings(cls, settings):  # pragma: no cover - Scrapy 2.19 uses from_crawler
        raise TypeError("DistributedScheduler needs a crawler: use from_crawler")

    @classmethod
    def from_crawler(cls, crawler):
        server = redis_client(crawler.settings)
        try:
            server.ping()
        except REDIS_ERRORS as e:
            raise RuntimeError(
                f"distributed crawl: Redis at {_display_url(crawler.settings)} is unreachable "
                f"({e}); start Redis or set REDIS_URL"
            ) from e
        db = crawler.settings.get("MEETINGS_DB") or ""
        if db.startswith("sqlite"):
            logger.warning(
                "distributed crawl with a SQLite store (%s): workers on other machines will "
                "not share it; set MEETINGS_DB=postgresql://…", db)
        return cls(crawler, server)

    # -- keys

    def key(self, name: str = "") -> str:
        return f"{self.prefix}:{self.spider.name}:{self.crawl_id}:{name}"

    @property
    def pointer(self) -> str:
        return f"{self.prefix}:{self.spider.name}:crawl"

    # -- lifecycle

    def open(self, spider):
        self.spider = spider
        now = time.time()
        if self.fixed_crawl_id:
            self.crawl_id = self.fixed_crawl_id
            self.seeder = bool(self.server.hsetnx(self.key("meta"), "started", now))
        else:
            while self.crawl_id is None:
                new = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
                if self.server.set(self.pointer, new, nx=True, ex=self.crawl_ttl):
                    self.crawl_id, self.seeder = new, True
                    self.server.hset(self.key("meta"), mapping={"started": now, "seeder": self.worker})
                else:
                    current = self.server.get(self.pointer)
                    self.crawl_id = current.decode() if current is not None else None
        meta = self.server.hgetall(self.key("meta"))
        started = float(meta.get(b"started", now))
        self.df = CrawlDupeFilter.from_crawler(self.crawler, key=self.key("seen"), server=self.server)
        self.queue = ReliableQueue(
            self.server, spider, self.key("queue"), serializer=self.serializer,
            inflight_key=self.key(f"inflight:{self.worker}"), boost=self.boost,
        )
        self._heartbeat()
        self.server.sadd(self.key("workers"), self.worker)
        self._expire_keys()
        recovered = self._recover(keys=[self.key("workers"), self.queue.key], args=[self.key()])
        self.stats.set_value("distributed/crawl_id", self.crawl_id)
        self.stats.set_value("distributed/worker", self.worker)
        self.stats.set_value("distributed/seeder", int(self.seeder))
        if recovered:
            self.stats.inc_value("distributed/recovered", recovered)
        logger.info(
            "distributed: worker %s %s crawl %s of %s on Redis %s (%d queued%s)",
            self.worker, "starts" if self.seeder else "joins", self.crawl_id, spider.name,
            self.redis_url, len(self.queue),
            f", {recovered} recovered from dead workers" if recovered else "",
        )
        _align_incremental(self.crawler, datetime.fromtimestamp(started, timezone.utc))
        from twisted.internet import task

        self._loop = task.LoopingCall(self._tick)
        self._loop.start(self.poll, now=False).addErrback(
            lambda f: logger.error("distributed: heartbeat failed: %s", f.value))

    def close(self, reason):
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        if self.failed or self.crawl_id is None:
            return
        try:
            self._ack(all_done=False)
            returned = self._return(keys=[self.queue.key, self.queue.inflight_key])
            if returned:
                logger.info("distributed: %d unfinished request(s) returned to the queue", returned)
            self.server.srem(self.key("workers"), self.worker)
            self.server.delete(self.key(f"alive:{self.worker}"))
        except REDIS_ERRORS as e:
            logger.error("distributed: Redis unreachable while closing (%s)", e)

    # -- scheduling

    def enqueue_request(self, request):
        if self.failed:
            return False
        check = not request.dont_filter or request.meta.get("is_start_request")
        fp = self.df.request_fingerprint(request) if check else None
        try:
            pushed = self.queue.push(request, fingerprint=fp, seen_key=self.df.key)
        except REDIS_ERRORS as e:
            self._redis_failed(e)
            return False
        if not pushed:
            self.df.log(request, self.spider)
            self.stats.inc_value("distributed/filtered")
            return False
        self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self):
        if self.failed:
            return None
        try:
            if len(self.held) >= self.prefetch:
                self._ack(all_done=False)
                if len(self.held) >= self.prefetch:
                    return None
            request, data = self.queue.pop()
        except REDIS_ERRORS as e:
            self._redis_failed(e)
            return None
        if request is None:
            return None
        self.held[request] = data
        self._idle_since = None
        self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def has_pending_requests(self):
        if self.failed:
            return False
        try:
            return len(self.queue) > 0
        except REDIS_ERRORS as e:
            self._redis_failed(e)
            return False

    # -- acks, heartbeat, closing

    def _inprogress(self):
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        return getattr(slot, "inprogress", None)

    def _ack(self, all_done: bool):
        """Ack the requests the engine has finished (all of them when it is idle)."""
        if not self.held:
            return
        inprogress = self._inprogress()
        if all_done:
            done = list(self.held)
        elif inprogress is None:
            return
        else:
            done = [r for r in self.held if r not in inprogress]
        if done:
            self.queue.ack([self.held.pop(r) for r in done])
            self.stats.inc_value("distributed/acked", len(done))

    def _heartbeat(self):
        self.server.set(self.key(f"alive:{self.worker}"), self.worker, px=int(self.heartbeat_ttl * 1000))

    def _expire_keys(self):
        pipe = self.server.pipeline(transaction=False)
        for name in ("queue", "seen", "workers", "meta", f"inflight:{self.worker}"):
            pipe.expire(self.key(name), self.crawl_ttl)
        if not self.fixed_crawl_id:
            pipe.expire(self.pointer, self.crawl_ttl)
        pipe.execute()

    def _tick(self):
        if self.failed:
            return
        self._ticks += 1
        try:
            self._heartbeat()
            self.server.sadd(self.key("workers"), self.worker)
            self._ack(all_done=False)
            if self._ticks % max(1, int(5 / self.poll)) == 0:
                recovered = self._recover(keys=[self.key("workers"), self.queue.key], args=[self.key()])
                if recovered:
                    self.stats.inc_value("distributed/recovered", recovered)
                    logger.warning("distributed: %d request(s) of dead workers re-queued", recovered)
                self._expire_keys()
            if self._waiting or len(self.queue):
                self._wake()
        except REDIS_ERRORS as e:
            self._redis_failed(e)

    def _wake(self):
        slot = getattr(getattr(self.crawler, "engine", None), "_slot", None)
        nextcall = getattr(slot, "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def spider_idle(self, spider):
        if self.failed:
            return
        try:
            self._ack(all_done=True)  # the engine is idle: everything it took is finished
            recovered = self._recover(keys=[self.key("workers"), self.queue.key], args=[self.key()])
            if recovered:
                self.stats.inc_value("distributed/recovered", recovered)
                logger.warning("distributed: %d request(s) of dead workers re-queued", recovered)
            if len(self.queue):
                self._waiting = True
                raise DontCloseSpider
            finished = self._finish(
                keys=[self.key("workers"), self.queue.key, self.pointer, self.key("meta")],
                args=[self.key(), self.crawl_id, time.time(), self.finished_ttl],
            )
        except REDIS_ERRORS as e:
            self._redis_failed(e)
            return
        if finished:
            self._waiting = False
            logger.info("distributed: crawl %s of %s is complete", self.crawl_id, spider.name)
            return
        now = time.monotonic()
        if self._idle_since is None:
            self._idle_since = now
            logger.info("distributed: queue empty; waiting for other workers' requests")
        if now - self._idle_since >= self.max_idle:
            logger.warning("distributed: idle for %.0f s while other workers hold requests; leaving",
                           now - self._idle_since)
            raise CloseSpider("idle_timeout")
        self._waiting = True
        raise DontCloseSpider

    def response_received(self, response, request, spider):
        self.stats.inc_value(f"distributed/responses/{request.meta.get('role') or 'other'}")

    def _redis_failed(self, exc):
        if self.failed:
            return
        self.failed = True
        self.stats.set_value("distributed/redis_error", str(exc))
        logger.error(
            "distributed: Redis at %s failed (%s: %s); stopping this worker. Stored meetings "
            "are committed one by one; the requests this worker held stay in Redis and are "
            "re-queued when it is back.", self.redis_url, type(exc).__name__, exc)
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        engine = getattr(self.crawler, "engine", None)
        if engine is not None and engine.spider is not None:
            deferred_from_coro(engine.close_spider_async(reason="redis_unavailable"))


def _display_url(settings) -> str:
    url = settings.get("REDIS_URL") or os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
    if "@" in url:  # never log a password
        scheme, _, rest = url.partition("://")
        url = f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


def _align_incremental(crawler, crawl_started: datetime) -> None:
    """The incremental middleware stops listing walks only if the spider's previous run
    finished; for a worker that joins a crawl the previous run is the previous *crawl*, not
    a sibling worker that started a moment earlier."""
    try:
        mws = crawler.engine.scraper.spidermw.middlewares
    except AttributeError:  # pragma: no cover
        return
    from crawler.store.incremental import IncrementalMiddleware

    for mw in mws:
        if isinstance(mw, IncrementalMiddleware) and mw._may_stop is None:
            mw.started = min(mw.started, crawl_started)
