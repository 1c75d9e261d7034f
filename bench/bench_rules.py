"""Benchmark: normalise + classify + ownership + GX validation of N demo contacts.

Prints, all measured in the same run (the machine is shared, so compare the ratios rather than absolute
figures between runs):

* a plain per-row ``phonenumbers`` + ``email-validator`` loop on a sample (contacts/s, 1 process);
* ``classify_batch`` on the same sample (contacts/s, 1 process) and its ratio to the plain loop;
* ``classify_many`` on all N with ``--processes`` processes (contacts/s) and its ratio to the plain loop;
* ``assign_ownership``, the validation frame and the Great Expectations suite (seconds each);
* the total wall time of classify + ownership + frame + GX, its throughput and ratio to the plain loop;
* peak RSS: the parent, the largest worker, and the largest sampled sum of parent + workers (forked
  workers share the input pages copy-on-write, so that sum over-counts).

Usage::

    .venv/bin/python bench/bench_rules.py --count 1000000
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import resource
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence


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


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


class _RssSampler(threading.Thread):
    """Samples RSS of this process plus its children every ``interval`` seconds (Linux ``/proc``)."""

    def __init__(self, interval: float = 0.25) -> None:
        super().__init__(daemon=True)
        self.interval = interval
        self.peak_total_kib = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        pid = os.getpid()
        while not self._stop_event.wait(self.interval):
            total = _rss_kib(pid) + sum(_rss_kib(child) for child in _children(pid))
            self.peak_total_kib = max(self.peak_total_kib, total)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--sample", type=int, default=50_000, help="rows for the plain loop and the 1-process run"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--docs", default=None, help="write GX Data Docs to this folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)

    from contact_sync import assign_ownership, classify_batch, classify_many
    from contact_sync.validation import frame_for_validation, validate_written

    started = time.perf_counter()
    contacts = _generate(args.count, args.seed)
    generated = time.perf_counter() - started
    input_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"generated {len(contacts):,} demo contacts in {generated:.1f} s (not timed below); "
        f"RSS with the input held: {input_rss:,.0f} MB"
    )
    sample = contacts[: min(args.sample, len(contacts))]

    classify_batch(sample[:2_000])  # load phonenumbers / email-validator metadata outside the timings
    base = _baseline(sample)
    base_rate = len(sample) / base
    print(
        f"plain loop (phonenumbers + email-validator), 1 process, {len(sample):,} rows: {base_rate:,.0f} contacts/s"
    )

    t0 = time.perf_counter()
    classify_batch(sample)
    single = time.perf_counter() - t0
    single_rate = len(sample) / single
    print(
        f"classify_batch, 1 process, same rows: {single_rate:,.0f} contacts/s "
        f"(ratio to plain loop: {single_rate / base_rate:.2f}x)"
    )

    # Warm the GX import so the timed run measures validation, as an Airflow worker that already imported it.
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401

    gc.collect()
    gc.freeze()
    sampler = _RssSampler()
    sampler.start()
    t0 = time.perf_counter()
    classified = classify_many(contacts, processes=args.processes)
    t1 = time.perf_counter()
    ownership = assign_ownership(classified, {})
    t2 = time.perf_counter()
    frame = frame_for_validation(ownership.decisions)
    t3 = time.perf_counter()
    summary = validate_written(frame, data_docs_dir=args.docs, run_name="bench")
    t4 = time.perf_counter()
    sampler.stop()
    wall = t4 - t0
    many_rate = len(contacts) / (t1 - t0)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    actions = Counter(d.action for d in ownership.decisions)
    print(
        f"classify_many, {args.processes} processes, {len(contacts):,} rows: {t1 - t0:.1f} s "
        f"({many_rate:,.0f} contacts/s; {many_rate / single_rate:.2f}x the 1-process rate, "
        f"{many_rate / base_rate:.2f}x the plain loop)"
    )
    print(
        f"assign_ownership: {t2 - t1:.1f} s; validation frame: {t3 - t2:.1f} s; "
        f"GX validation on {len(frame):,} rows: {t4 - t3:.1f} s"
    )
    print(
        f"TOTAL classify+ownership+frame+GX: {wall:.1f} s wall for {len(contacts):,} contacts "
        f"({len(contacts) / wall:,.0f} contacts/s, {(len(contacts) / wall) / base_rate:.2f}x the plain loop); "
        f"target: 1M in <= 60 s on 2 cores"
    )
    print(
        f"peak RSS: parent {own:,.0f} MB (of which input {input_rss:,.0f} MB), largest worker {worker:,.0f} MB, "
        f"parent + workers sampled {sampler.peak_total_kib / 1024:,.0f} MB (shared pages counted per process)"
    )
    print(
        f"actions: {dict(actions)}; suite success: {summary.success} "
        f"({summary.successful_expectations}/{summary.evaluated_expectations})"
    )
    return 0 if summary.success else 1


if __name__ == "__main__":
    sys.exit(main())
