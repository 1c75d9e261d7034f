-- Retention: drop the staging rows of runs that started, or finished, before cutoff.
-- staged_contacts.run_key is "<dag_id>/<run_id>" of its sync_runs row(s); '||' concatenates in both
-- SQLite and PostgreSQL. Staging rows without any sync_runs row are left alone (they cannot be dated).
-- Bound parameters: cutoff (timestamp, UTC).
DELETE FROM staged_contacts
WHERE EXISTS (
    SELECT 1
    FROM sync_runs r
    WHERE r.dag_id || '/' || r.run_id = staged_contacts.run_key
      AND (r.started_at < :cutoff OR r.finished_at < :cutoff)
)
