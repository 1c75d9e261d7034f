"""After a large lookup load PostgreSQL gets fresh planner statistics at once (stale ones made the next refresh of
1 % of a million rows 11x slower); small upserts do not pay for an ANALYZE."""

from __future__ import annotations

from sqlalchemy import text

from contact_sync.state import make_engine, migrate, sync_store


def _rows(n: int, start: int = 0) -> list[dict]:
    return [
        {
            "sf_id": f"003{i:015d}",
            "email_key": f"p{i % (n // 2 or 1)}@example.com",
            "phone_key": None,
            "fields": {},
        }
        for i in range(start, start + n)
    ]


def _analyzed_tuples(engine) -> float:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT reltuples FROM pg_class WHERE relname = 'contacts_lookup'")
        ).scalar()


def test_a_large_load_is_analyzed_and_a_small_change_is_not(postgres_database_url):
    engine = make_engine(postgres_database_url)
    migrate(engine)
    try:
        sync_store.upsert_lookup(engine, _rows(500))
        assert _analyzed_tuples(engine) <= 0, "500 rows: no ANALYZE (statistics never taken)"

        sync_store.upsert_lookup(engine, _rows(15_000, start=500))

        assert _analyzed_tuples(engine) >= 15_000, "the planner knows the table's new size"
        ambiguous = sync_store.lookup(engine, email_key="p1@example.com")
        assert len(ambiguous) > 1 and all(r["email_ambiguous"] for r in ambiguous)
    finally:
        engine.dispose()
