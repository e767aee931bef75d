"""Scrapy tuned for this job: downloader, host policy and middlewares, stats, log formatter,
GC threshold, parser worker processes, Splash, scrapy-redis, the offline parser."""
