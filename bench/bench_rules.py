"""Benchmark: normalise + classify + ownership + GX validation of N demo contacts.

Prints contacts/s in one process and with ``--processes`` workers, the wall time of the whole pipeline
(including the Great Expectations suite), peak RSS, and the ratio to a plain per-row ``phonenumbers`` +
``email-validator`` loop measured in the same run on a sample.

Usage::

    .venv/bin/python bench/bench_rules.py --count 1000000 --processes 2
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import sys
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any


def _generate(count: int, seed: int) -> list[dict[str, Any]]:
    from sandbox.demo_data import generate_contacts

    return list(generate_contacts(count, seed=seed))


def _baseline(contacts: Sequence[Mapping[str, Any]]) -> float:
    """Plain per-row loop: phonenumbers parse+is_valid+format for Phone and MobilePhone, email-validator for Email."""
    import email_validator
    import phonenumbers

    start = time.perf_counter()
    for contact in contacts:
        for field in ("Phone", "MobilePhone"):
            raw = contact.get(field)
            if raw:
                try:
                    number = phonenumbers.parse(raw, "US")
                    if phonenumbers.is_valid_number(number):
                        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                except phonenumbers.NumberParseException:
                    pass
        raw = contact.get("Email")
        if raw:
            try:
                email_validator.validate_email(raw, check_deliverability=False)
            except email_validator.EmailNotValidError:
                pass
    return time.perf_counter() - start


def _rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--sample", type=int, default=50_000, help="rows for the single-process and baseline runs")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--docs", default=None, help="write GX Data Docs to this folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from contact_sync import assign_ownership, classify_batch, classify_many
    from contact_sync.validation import frame_for_validation, validate_written

    started = time.perf_counter()
    contacts = _generate(args.count, args.seed)
    generated = time.perf_counter() - started
    print(f"generated {len(contacts):,} demo contacts in {generated:.1f} s (not counted below)")
    sample = contacts[: min(args.sample, len(contacts))]

    base = _baseline(sample)
    print(f"baseline loop (phonenumbers + email-validator), 1 process: {len(sample) / base:,.0f} contacts/s")

    t0 = time.perf_counter()
    classify_batch(sample)
    single = time.perf_counter() - t0
    print(f"classify_batch, 1 process: {len(sample) / single:,.0f} contacts/s "
          f"(ratio to baseline: {base / single:.2f}x)")

    # Warm the GX import so the timed run measures validation, as an Airflow worker that already imported it.
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401

    gc.collect()
    gc.freeze()
    t0 = time.perf_counter()
    classified = classify_many(contacts, processes=args.processes)
    t1 = time.perf_counter()
    ownership = assign_ownership(classified, {})
    t2 = time.perf_counter()
    frame = frame_for_validation(ownership.decisions)
    t3 = time.perf_counter()
    summary = validate_written(frame, data_docs_dir=args.docs, run_name="bench")
    t4 = time.perf_counter()
    wall = t4 - t0
    own, children = _rss_mb()
    actions = Counter(d.action for d in ownership.decisions)
    print(f"classify_many, {args.processes} processes: {t1 - t0:.1f} s ({len(contacts) / (t1 - t0):,.0f} contacts/s)")
    print(f"assign_ownership: {t2 - t1:.1f} s; frame: {t3 - t2:.1f} s; GX suite on {len(frame):,} rows: {t4 - t3:.1f} s")
    print(f"TOTAL normalise+classify+ownership+validate: {wall:.1f} s wall for {len(contacts):,} contacts "
          f"({len(contacts) / wall:,.0f} contacts/s); target 1M in <= 60 s on 2 cores")
    print(f"pipeline vs baseline loop on 1 core: {(len(contacts) / wall) / (len(sample) / base):.2f}x throughput")
    print(f"peak RSS: parent {own:,.0f} MB, largest worker {children:,.0f} MB")
    print(f"actions: {dict(actions)}; suite success: {summary.success} "
          f"({summary.successful_expectations}/{summary.evaluated_expectations})")
    return 0 if summary.success else 1


if __name__ == "__main__":
    sys.exit(main())
