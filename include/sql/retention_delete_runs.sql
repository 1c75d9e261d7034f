-- Retention: drop sync_runs rows of runs that started before cutoff.
-- Dialect-neutral (SQLite and PostgreSQL). Bound parameters: cutoff (timestamp, UTC).
DELETE FROM sync_runs
WHERE started_at < :cutoff
