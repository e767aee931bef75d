"""What cron and people see of a run: health checks, the request ledger, the summary,
the progress display, alerts, the crawlall lock."""
