-- Contacts that failed to validate or match, last seen in [start, end) (UTC), oldest first.
-- Dialect-neutral (SQLite and PostgreSQL). Bound parameters:
--   start, end     timestamps, inclusive start and exclusive end, compared with last_seen
--   workspace      a workspace name, or NULL for every workspace
--   open_only      1 = only failures not resolved yet (resolved_at IS NULL), 0 = resolved ones too
-- The reasons column is a JSON list; filtering and counting by reason code is done by the caller
-- (contact_sync/state/reports.py), so no dialect-specific JSON SQL is needed here.
SELECT
    workspace,
    sf_id,
    run_key,
    outcome,
    reasons,
    raw_email,
    raw_phone,
    raw_mobile,
    raw_country,
    normalized_email,
    normalized_phone,
    region_assumed,
    region_source,
    owner_sf_id,
    system_modstamp,
    first_seen,
    last_seen,
    resolved_at
FROM matching_failures
WHERE last_seen >= :start
  AND last_seen < :end
  AND (:workspace IS NULL OR workspace = :workspace)
  AND (:open_only = 0 OR resolved_at IS NULL)
ORDER BY last_seen, workspace, sf_id
