"""Scheduled digests (the role matrix's "trigger scheduled jobs", admin only): cron schedules per
channel (`cron`), kept in PostgreSQL (`store`), fired once across any number of workers (`runner`),
managed with `/aiops jobs add|list|run|delete` (`commands`)."""
