"""The crawl's log formatter (``LOG_FORMATTER``): Scrapy's messages, minus the two written for
every page and every item at DEBUG level, when no log handler would show them.

Scrapy builds a log record for "Crawled (200) <GET …>" on every response and "Scraped from
<200 …>" (with the whole item) on every item; at ``LOG_LEVEL = "INFO"`` the handlers then
drop them.  Returning None is Scrapy's documented way to skip a message.  Whether a DEBUG
record would reach a handler is decided as :mod:`logging` decides it (logger levels, the
handlers up the propagation chain), once, at the first message of a crawl, when Scrapy's
root handler and ``crawlall``'s file handler (``CRAWLALL_LOG_FILE_LEVEL``) are in place.
"""

from __future__ import annotations

import logging

from scrapy.logformatter import LogFormatter


def debug_shown(logger_name: str) -> bool:
    """Would a DEBUG record of this logger reach a handler that keeps it?"""
    logger = logging.getLogger(logger_name)
    if not logger.isEnabledFor(logging.DEBUG):
        return False
    node = logger
    while node is not None:
        if any(handler.level <= logging.DEBUG for handler in node.handlers):
            return True
        if not node.propagate:
            break
        node = node.parent
    return False  # logging's last resort handler shows WARNING and above


class MeetingLogFormatter(LogFormatter):
    def __init__(self):
        self._shown: dict[str, bool] = {}

    def _debug(self, logger_name: str) -> bool:
        shown = self._shown.get(logger_name)
        if shown is None:
            shown = self._shown[logger_name] = debug_shown(logger_name)
        return shown

    def crawled(self, request, response, spider):
        if not self._debug("scrapy.core.engine"):
            return None
        return super().crawled(request, response, spider)

    def scraped(self, item, response, spider):
        if not self._debug("scrapy.core.scraper"):
            return None
        return super().scraped(item, response, spider)
