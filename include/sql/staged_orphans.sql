-- Staging rows whose run has no sync_runs row (retention cannot date them; reported, not deleted).
-- Dialect-neutral (SQLite and PostgreSQL). No parameters.
SELECT COUNT(*) AS orphans
FROM staged_contacts s
WHERE NOT EXISTS (
    SELECT 1
    FROM sync_runs r
    WHERE r.dag_id || '/' || r.run_id = s.run_key
)
