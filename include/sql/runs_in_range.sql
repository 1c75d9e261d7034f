-- Sync runs started in [start, end) (UTC), oldest first. Dialect-neutral (SQLite and PostgreSQL).
-- Bound parameters:
--   start, end     timestamps, inclusive start and exclusive end, compared with started_at
--   workspace      a workspace name, or NULL for every workspace
-- counts is a JSON object {outcome: n}; the caller decodes it.
SELECT
    dag_id,
    run_id,
    workspace,
    window_start,
    window_end,
    status,
    counts,
    started_at,
    finished_at
FROM sync_runs
WHERE started_at >= :start
  AND started_at < :end
  AND (:workspace IS NULL OR workspace = :workspace)
ORDER BY started_at, dag_id, run_id, workspace
