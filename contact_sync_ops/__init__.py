"""Operator tooling for contact-sync: the ``contact-sync`` command (state DB, connections, audits).

Unlike the pure domain package ``contact_sync``, this package talks to Airflow (connections, hooks).
"""
