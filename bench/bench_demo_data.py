"""Benchmark of the demo-data generator: rows/s for generating (and writing) N contacts, peak RSS.

.venv/bin/python bench/bench_demo_data.py              # 100k rows
.venv/bin/python bench/bench_demo_data.py --count 1000000 --write
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from collections import Counter
from pathlib import Path

from sandbox.demo_data import IMPORT_USER_ID, generate_contacts, generate_respond_io_existing, write_jsonl


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--write", action="store_true", help="also time write_jsonl to a temporary file")
    args = parser.parse_args()

    rss_before = _rss_mib()
    began = time.perf_counter()
    stats: Counter[str] = Counter()
    for row in generate_contacts(args.count, seed=args.seed):
        stats["rows"] += 1
        stats["bulk"] += row["CreatedById"] == IMPORT_USER_ID
        stats["no_email"] += not (row["Email"] or "").strip()
        stats["no_phone"] += not (row["Phone"] or "").strip()
    elapsed = time.perf_counter() - began
    print(
        f"generate: {stats['rows']:,} rows in {elapsed:.2f}s = {stats['rows'] / elapsed:,.0f} rows/s "
        f"(bulk {stats['bulk']:,}, blank email {stats['no_email']:,}, blank phone {stats['no_phone']:,}); "
        f"peak RSS {rss_before:.0f} -> {_rss_mib():.0f} MiB"
    )

    if args.write:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "contacts.jsonl"
            began = time.perf_counter()
            written = write_jsonl(path, generate_contacts(args.count, seed=args.seed))
            elapsed = time.perf_counter() - began
            size = path.stat().st_size / 2**20
            print(
                f"write_jsonl: {written:,} rows, {size:.1f} MiB in {elapsed:.2f}s "
                f"= {written / elapsed:,.0f} rows/s"
            )

    sample = min(args.count, 20_000)
    began = time.perf_counter()
    existing = generate_respond_io_existing(
        generate_contacts(sample, seed=args.seed), share=0.05, seed=args.seed
    )
    elapsed = time.perf_counter() - began
    print(f"respond.io existing: {len(existing):,} of {sample:,} contacts in {elapsed:.2f}s")


if __name__ == "__main__":
    main()
