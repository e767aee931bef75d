"""`scrapy crawlall`: every portal spider — the daily cron job.

* runs the portals in one process, or split between ``CRAWLALL_PROCESSES`` crawl processes
  when they are many (crawler/ops/shards.py), under one lock, one summary, one alert;
* holds an exclusive ``flock`` on ``CRAWLALL_LOCK_FILE``: an overlapping run exits at once
  with status 3 and says who holds the lock;
* limits each spider to ``CRAWLALL_SPIDER_TIMEOUT`` seconds (Scrapy's CLOSESPIDER_TIMEOUT);
* logs to ``CRAWLALL_LOG_FILE`` (strftime pattern, one file per run) as well as the console;
* shows a live progress display on a terminal (crawler/ops/progress.py), plain log lines under cron;
* prints a summary table per portal, stores it and the health verdict with each spider's
  row in the runs table (stats key ``crawlall``);
* sends one alert per run to ``ALERT_URLS`` on a failure, a new warning or a recovery
  (crawler/ops/alerts.py);
* exits 0 only when every spider finished and passed its health checks (crawler/ops/health.py).

Exit status: 0 ok · 1 a spider failed or a health check failed · 2 usage error ·
3 another crawlall holds the lock.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import datetime, timezone
from pathlib import Path

from scrapy.commands import ScrapyCommand
from scrapy.exceptions import UsageError

logger = logging.getLogger("crawler.crawlall")

EXIT_OK = 0
EXIT_FAILED = 1  # a spider did not finish cleanly, or a health check failed
EXIT_USAGE = 2  # bad options (Scrapy's own exit status for a UsageError)
EXIT_LOCKED = 3  # another crawlall run holds the lock


class Command(ScrapyCommand):
    requires_project = True

    def syntax(self) -> str:
        return "[options]"

    def short_desc(self) -> str:
        return "Run every portal spider (or --only some) in one process"

    def long_desc(self) -> str:
        return (
            "Run every portal spider (or --only some) in one process, under an exclusive lock, "
            "with per-spider time limits, health checks, a per-run log file and a summary. "
            "Exit status: 0 ok, 1 a spider or health check failed, 2 usage error, "
            "3 another crawlall holds the lock."
        )

    def add_options(self, parser: argparse.ArgumentParser) -> None:
        super().add_options(parser)
        parser.add_argument("--only", metavar="NAMES", help="comma-separated spider names (default: all)")
        parser.add_argument("-a", dest="spargs", action="append", default=[], metavar="NAME=VALUE",
                            help="spider argument for every spider (e.g. -a full=1)")
        parser.add_argument("--replica", action="store_true",
                            help="crawl an offline replica of the portals served in this process")
        parser.add_argument("--replica-articles", type=int, default=60, metavar="N",
                            help="meeting articles per portal in the replica (default: 60)")
        parser.add_argument("--replica-seed", type=int, default=1, metavar="S")
        parser.add_argument("--replica-generation", choices=("archive", "current", "both"), default="both",
                            help="the CMS generations the replica serves; every one is crawled (default: both)")
        parser.add_argument("--no-progress", action="store_true",
                            help="no live progress display even on a terminal")
        parser.add_argument("--verbose", action="store_true",
                            help="on a terminal too, the log lines instead of the progress display")
        # A shard of a crawlall that runs its portals in several processes (crawler/ops/shards.py):
        # no lock, no summary, no alert; its portals' stats go to this file descriptor.
        parser.add_argument("--shard-report", type=int, metavar="FD", help=argparse.SUPPRESS)
        parser.add_argument("--shard-progress", action="store_true", help=argparse.SUPPRESS)

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        from crawler.ops.progress import quiet_console, wants_display

        # Decided before Scrapy builds its console handler and logs its start-up banner.
        self.display = wants_display(self.settings, opts.no_progress, opts.verbose)
        if self.display:
            quiet_console(self.settings)

    def spider_names(self, only: str | None) -> list[str]:
        available = sorted(self.crawler_process.spider_loader.list())
        if not only:
            return available
        names = [n.strip() for n in only.split(",") if n.strip()]
        unknown = sorted(set(names) - set(available))
        if unknown:
            raise UsageError(f"unknown spider(s): {', '.join(unknown)}; available: {', '.join(available)}")
        if not names:
            raise UsageError("--only needs at least one spider name")
        return list(dict.fromkeys(names))

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if args:
            raise UsageError("crawlall takes no positional arguments")
        bad = [arg for arg in opts.spargs if "=" not in arg]
        if bad:
            raise UsageError(f"-a takes NAME=VALUE, got {', '.join(bad)}")
        spargs = dict(arg.split("=", 1) for arg in opts.spargs)
        names = self.spider_names(opts.only)
        if opts.shard_report is not None:
            self._crawl_shard(names, spargs, opts)  # ends the process with its exit status
            return

        from crawler.ops.lock import LockHeld, RunLock

        lock = RunLock(_project_path(self.settings.get("CRAWLALL_LOCK_FILE") or "data/crawlall.lock"))
        try:
            lock.acquire()
        except LockHeld as e:
            sys.stderr.write(
                f"crawlall: another crawlall run holds the lock {e.path} ({e.holder or 'holder unknown'}); "
                f"not starting (exit {EXIT_LOCKED})\n"
            )
            self.exitcode = EXIT_LOCKED
            return
        file_handler = None
        try:
            file_handler = self._log_to_file()
            if file_handler is not None and getattr(self, "display", False):
                # Scrapy logged its banner (version, settings) while the console took errors
                # only: the log file gets it now (the console still shows errors only).
                from scrapy.utils.log import log_scrapy_info

                log_scrapy_info(self.settings)
            self.exitcode = self._crawl(names, spargs, opts, file_handler)
        finally:
            if file_handler is not None:
                logging.getLogger().removeHandler(file_handler)
                file_handler.close()
            lock.release()

    # -- the run

    def _crawl(self, names, spargs, opts, file_handler) -> int:
        started = datetime.now(timezone.utc)
        timeout = self.settings.getfloat("CRAWLALL_SPIDER_TIMEOUT", 0)
        if timeout > 0 and (self.settings.getpriority("CLOSESPIDER_TIMEOUT") or 0) < 40:
            self.settings.set("CLOSESPIDER_TIMEOUT", timeout, priority="cmdline")
        if opts.replica:
            self._serve_replica(opts.replica_articles, opts.replica_seed, opts.replica_generation)
        logger.info("crawlall: %s (log file %s)", ", ".join(names),
                    file_handler.baseFilename if file_handler else "none")
        from crawler.ops import shards

        # The replica is served on this process's reactor: its crawl stays in this process.
        processes = 1 if opts.replica else shards.process_count(self.settings, len(names))
        if processes > 1:
            final, bootstrap_failed = self._crawl_in_shards(names, spargs, processes, file_handler)
        else:
            final, bootstrap_failed = self._crawl_here(names, spargs, opts, file_handler)

        from crawler.ops.summary import format_table, portal_summary

        rows = []
        for name in names:
            stats = final.get(name) or {}
            row = portal_summary(name, stats, stats.get("finish_reason"))
            if not stats:  # the crawler never started (bootstrap error), or its process died
                why = "its crawl process ended without a report" if processes > 1 else "the spider did not start"
                row.update(health="fail", finish_reason=None, failed_checks=["finish_reason"],
                           failures=[f"finish_reason: {why} (see the log)"])
            elif row["health"] == "fail" and not row["failed_checks"]:  # HEALTH_ENABLED off
                row.update(failed_checks=["finish_reason"],
                           failures=[f"finish_reason: closed with {row['finish_reason']!r}"])
            rows.append(row)
        failed = [r for r in rows if r["health"] == "fail"]
        exitcode = EXIT_FAILED if (failed or bootstrap_failed) else EXIT_OK
        stored = self._store_summary(rows, started, exitcode, file_handler)

        table = format_table(rows)
        if failed:
            verdict = "crawlall: FAILED — " + "; ".join(
                f"{r['portal']} [{', '.join(r['failed_checks'])}]"
                for r in failed) + f" (exit {exitcode})"
        elif exitcode:
            verdict = f"crawlall: FAILED — a spider did not start (exit {exitcode})"
        else:
            verdict = f"crawlall: ok — {len(rows)} portal(s) healthy (exit 0)"
        sys.stdout.write(f"\n{table}\n\n{verdict}\n")
        if getattr(self, "display", False):
            sys.stdout.write(self._where(rows, file_handler))
        sys.stdout.flush()
        if file_handler is not None:
            _file_only(file_handler, f"run summary\n{table}\n{verdict}",
                       logging.ERROR if exitcode else logging.INFO)
        self._alert(rows, stored, started, exitcode, file_handler)
        return exitcode

    def _crawl_here(self, names, spargs, opts, file_handler, report=None) -> tuple[dict, bool]:
        """Every portal's crawler in this process; their final stats by portal, and whether
        any failed to bootstrap."""
        crawlers = []
        for name in names:
            crawler = self.crawler_process.create_crawler(name)
            crawlers.append(crawler)
            self.crawler_process.crawl(crawler, **spargs)

        progress = self._progress(crawlers, " from the offline replica" if opts.replica else "", file_handler)
        if progress is not None:
            progress.start()
        if report is not None:
            report.crawlers = crawlers
            report.start()
        try:
            self.crawler_process.start()
        finally:
            if progress is not None:
                progress.stop()
        final = {name: (crawler.stats.get_stats() if crawler.stats else {}) for name, crawler in zip(names, crawlers)}
        if report is not None:
            report.finish(self.crawler_process.bootstrap_failed)
        return final, bool(self.crawler_process.bootstrap_failed)

    def _crawl_in_shards(self, names, spargs, processes, file_handler) -> tuple[dict, bool]:
        """The portals split between ``processes`` shard processes (crawler/ops/shards.py)."""
        from crawler.ops import shards

        if file_handler is not None:  # the shards log into this run's file too
            self.settings.set("CRAWLALL_LOG_FILE", file_handler.baseFilename.replace("%", "%%"), priority="cmdline")
        groups = shards.split(names, processes)
        proxies = {name: shards.ShardedCrawler(name) for name in names}
        display = self._progress(list(proxies.values()), f" in {len(groups)} processes", file_handler)
        return shards.run_shards(self.settings, groups, spargs, proxies, display=display)

    def _progress(self, crawlers, where: str, file_handler):
        """The live display of ``crawlers`` on a terminal, or None."""
        if not getattr(self, "display", False):
            return None
        from crawler.ops.progress import ProgressDisplay

        log = f" · full log: {_shown_path(file_handler.baseFilename)}" if file_handler else ""
        return ProgressDisplay(crawlers, f"crawlall: {len(crawlers)} portal(s){where}{log}", sys.stderr,
                               interval=self.settings.getfloat("CRAWLALL_PROGRESS_INTERVAL", 0.5))

    def _crawl_shard(self, names, spargs, opts):
        """One shard of a crawlall in several processes: its portals' stats to the parent."""
        from crawler.ops.shards import ShardReport

        report = ShardReport(opts.shard_report, [], self.settings.getfloat("CRAWLALL_PROGRESS_INTERVAL", 0.5)
                             if opts.shard_progress else None)
        file_handler = self._log_to_file()
        try:
            _, bootstrap_failed = self._crawl_here(names, spargs, opts, file_handler, report=report)
        finally:
            if file_handler is not None:
                logging.getLogger().removeHandler(file_handler)
                file_handler.close()
        # Its crawls are closed, its store too, its report sent: tearing down the interpreter's
        # objects (its crawlers, their caches) took 0.7 s while the parent waited on it.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_FAILED if bootstrap_failed else EXIT_OK)

    def _alert(self, rows, stored, started, exitcode, file_handler) -> None:
        """One message to ALERT_URLS about new failures and warnings, repeats and recoveries;
        what was reported is remembered with each portal's run (crawler/ops/alerts.py)."""
        from crawler.ops.alerts import alert_urls, deliver, plan, previous_state
        from crawler.store import Store

        urls = alert_urls(self.settings)
        if not urls:
            return
        store = None
        previous = {}
        if stored:
            try:
                store = Store.from_settings(self.settings)
                previous = previous_state(store, [r["portal"] for r in rows], started)
            except Exception as e:  # noqa: BLE001 - without the history, report everything
                logger.error("crawlall: cannot read the alert history from the runs table: %s", e)
        try:
            alert = plan(rows, previous, datetime.now(timezone.utc),
                         repeat_hours=self.settings.getfloat("ALERT_REPEAT_HOURS", 24),
                         log_file=file_handler.baseFilename if file_handler else None, exit_code=exitcode)
            delivered = True
            if alert:
                results = deliver(urls, alert.title, alert.body, kind=alert.kind,
                                  timeout=self.settings.getfloat("ALERT_TIMEOUT", 30))
                delivered = any(ok for _, ok in results)
            else:
                logger.info("crawlall: nothing new to alert about")
            if store is not None:
                state = alert.state if delivered else alert.kept_state
                for portal, (run_id, summary) in stored.items():
                    store.update_run_stats(run_id, {"crawlall": {**summary, "alerts": state.get(portal, {})}})
        except Exception as e:  # noqa: BLE001 - alerting never changes the run's outcome
            logger.error("crawlall: alerting failed: %s: %s", type(e).__name__, e)
        finally:
            if store is not None:
                store.close()

    def _where(self, rows, file_handler) -> str:
        """For a person at the terminal: where the records and the log are."""
        from crawler.store import Store, store_enabled

        lines = []
        if store_enabled(self.settings):
            new = sum(r["new"] for r in rows)
            updated = sum(r["updated"] for r in rows)
            try:
                store = Store.from_settings(self.settings)
                try:
                    total, where = store.count(), store.url
                finally:
                    store.close()
                name = _shown_path(where.database) if where.get_backend_name() == "sqlite" else \
                    where.render_as_string(hide_password=True)
                lines.append(f"stored: {total} meetings in {name} ({new} new, {updated} updated in this run)")
            except Exception as e:  # noqa: BLE001
                lines.append(f"stored: (store unreadable: {e})")
        if file_handler is not None:
            lines.append(f"full log: {_shown_path(file_handler.baseFilename)}")
        return "".join(f"{line}\n" for line in lines)

    def _store_summary(self, rows, started, exitcode, file_handler) -> dict:
        """Add the summary row and health verdict to each spider's run in the runs table;
        returns ``{portal: (run id, summary stored)}``."""
        from crawler.store import Store, store_enabled

        stored: dict = {}
        if not store_enabled(self.settings):
            return stored
        try:
            store = Store.from_settings(self.settings)
        except Exception as e:  # noqa: BLE001
            logger.error("crawlall: cannot open the store to record the summary: %s", e)
            return stored
        try:
            latest = {}
            for run in store.runs_since(started):
                latest[run["spider"]] = run
            for row in rows:
                run = latest.get(row["portal"])
                if run is None:
                    continue
                summary = {
                    **row,
                    "started_at": started.isoformat(timespec="seconds"),
                    "exit_code": exitcode,
                    "log_file": file_handler.baseFilename if file_handler else None,
                }
                store.update_run_stats(run["id"], {"crawlall": summary})
                row["run_id"] = run["id"]
                stored[row["portal"]] = (run["id"], summary)
        except Exception as e:  # noqa: BLE001
            logger.error("crawlall: could not record the summary in the runs table: %s", e)
        finally:
            store.close()
        return stored

    def _log_to_file(self) -> logging.FileHandler | None:
        pattern = self.settings.get("CRAWLALL_LOG_FILE")
        if not pattern:
            return None
        path = _project_path(datetime.now().strftime(pattern))
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(path, encoding=self.settings.get("LOG_ENCODING") or "utf-8")
        handler.setFormatter(logging.Formatter(self.settings.get("LOG_FORMAT"), self.settings.get("LOG_DATEFORMAT")))
        # The lower of LOG_LEVEL (the console) and CRAWLALL_LOG_FILE_LEVEL: cron can keep the
        # console (its mail) to warnings while the file keeps the whole INFO log.
        levels = [self.settings.get("LOG_LEVEL") or "INFO", self.settings.get("CRAWLALL_LOG_FILE_LEVEL") or "INFO"]
        handler.setLevel(min(logging.getLevelName(str(v).upper()) if not isinstance(v, int) else v for v in levels))
        logging.getLogger().addHandler(handler)
        return handler

    def _serve_replica(self, articles: int, seed: int, generation: str = "both") -> None:
        # The replica listens on the reactor the crawl runs on: one process, no network.
        from crawler.replica import build_site, listen

        site = build_site(articles=articles, seed=seed, generation=generation)
        port = listen(site, port=0).getHost().port
        self.settings.set("PORTAL_MIRROR", f"http://127.0.0.1:{port}", priority="cmdline")
        # Every generation the replica serves is crawled, each from its listing URL, unless
        # the user named start URLs.
        if not self.settings.get("PORTAL_START_URLS"):
            self.settings.set("PORTAL_START_URLS", {name: site.start_urls(name) for name in site.portals},
                              priority="cmdline")
        # A local server needs no politeness delays.
        self.settings.set("DOWNLOAD_DELAY", 0, priority="cmdline")
        self.settings.set("AUTOTHROTTLE_ENABLED", False, priority="cmdline")


def _project_path(value: str | os.PathLike) -> Path:
    """A relative path is relative to the project directory (the one holding scrapy.cfg)."""
    path = Path(value)
    if path.is_absolute():
        return path
    from scrapy.utils.conf import closest_scrapy_cfg

    cfg = closest_scrapy_cfg()
    return (Path(cfg).parent if cfg else Path.cwd()) / path


def _shown_path(path: str) -> str:
    """A path as short as it is clear: relative to the current directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _file_only(handler: logging.Handler, message: str, level: int) -> None:
    record = logger.makeRecord(logger.name, level, __file__, 0, message, None, None)
    if record.levelno >= handler.level:
        handler.handle(record)
