"""Distributed mode: any number of workers on any number of machines share one Redis request
queue (scrapy-redis) and one PostgreSQL store (docs/distributed.md).

    export SCRAPY_SETTINGS_MODULE=settings.distributed
    export REDIS_URL=redis://queue-host:6379/0
    export MEETINGS_DB=postgresql://crawler@db-host/meetings
    scrapy crawl laishan        # on every machine, as many times as wanted; or scrapy crawlall

Everything else is settings.base; every value can still be overridden with ``-s``.
"""

import os

from settings.base import *  # noqa: F401,F403

# scrapy-redis, through the project's subclasses (crawler/runtime/distributed.py).
SCHEDULER = "crawler.runtime.distributed.DistributedScheduler"
DUPEFILTER_CLASS = "crawler.runtime.distributed.CrawlDupeFilter"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
# Redis calls run on the reactor thread: fail fast rather than hang a worker in an outage.
REDIS_PARAMS = {"socket_timeout": 5, "socket_connect_timeout": 3, "retry_on_timeout": False}

# Keys: <prefix>:<spider>:crawl (the current crawl id) and <prefix>:<spider>:<crawl id>:*
# (queue, seen, workers, inflight:<worker>, alive:<worker>, meta).
DISTRIBUTED_KEY_PREFIX = os.environ.get("DISTRIBUTED_KEY_PREFIX", "meetings")
# Empty: the first worker of a crawl creates its id, the others join, the last one to finish
# ends it.  Or pin it, e.g. DISTRIBUTED_CRAWL_ID=$(date +%F) in every worker's cron line.
DISTRIBUTED_CRAWL_ID = os.environ.get("DISTRIBUTED_CRAWL_ID", "")
DISTRIBUTED_HEARTBEAT_TTL = 15  # s without a heartbeat: the worker is dead, its requests re-queued
DISTRIBUTED_POLL_INTERVAL = 0.25 # s between heartbeats / acks / checks for new work
DISTRIBUTED_MAX_IDLE = 300  # s an idle worker waits for others' in-flight requests, then leaves
DISTRIBUTED_FINISHED_TTL = 3600  # s a finished crawl's keys are kept
DISTRIBUTED_CRAWL_TTL = 7 * 86400  # s an abandoned crawl's keys are kept
DISTRIBUTED_LISTING_BOOST = 10  # listing pages first: they feed every worker

# Politeness is per worker: N workers put N × CONCURRENT_REQUESTS_PER_DOMAIN on a portal.
CONCURRENT_REQUESTS_PER_DOMAIN = 2

# A worker may get no listing page of a crawl at all (another worker took them): judge the
# listing per crawl by the workers that parsed it (`listing_empty`), not each worker alone.
HEALTH_REQUIRE_LISTING = False

# A worker acknowledges a request to the shared queue once the engine is done with it; its
# item must be committed by then, or a killed worker would lose it with its open batch.
STORE_BATCH_SIZE = 1
STORE_BATCH_SECONDS = 0
