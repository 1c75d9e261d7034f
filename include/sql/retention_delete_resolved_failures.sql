-- Retention: forget failures that were resolved before cutoff. Open failures are never deleted.
-- Dialect-neutral (SQLite and PostgreSQL). Bound parameters: cutoff (timestamp, UTC).
DELETE FROM matching_failures
WHERE resolved_at IS NOT NULL
  AND resolved_at < :cutoff
