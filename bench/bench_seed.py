"""Benchmark: seed a fresh SQLite register with demo data (``seed-demo --cases N``), end to end.

Times, for N cases (default 100,000) into a new file in a temporary folder:

* ``generate``: building every sheet's rows in memory (:func:`lib.demo.generate`), alone;
* ``seed``: what ``python -m lib seed-demo`` does: open (and ``init``) the register, then
  :func:`lib.demo.seed_demo` (generation plus writing every sheet through
  ``Register.bulk_append``), with the writing split per sheet from the progress callback;
* ``load``: reading the seeded register back once (``Register.load``), as a page would.

Prints a table and writes ``bench/results/seed.json``. The target is N = 100,000 seeded in
under 60 s. Usage: ``.venv/bin/python bench/bench_seed.py [--cases N] [--seed S] [--keep]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RESULTS = ROOT / "bench" / "results" / "seed.json"
TODAY = dt.date(2026, 11, 27)


def main(argv: list[str] | None = None) -> dict:
    """Run the benchmark; returns the results written to ``bench/results/seed.json``."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", action="store_true", help="keep the SQLite file and print its path")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    from lib import LOCAL_ADMIN, demo, open_register, workflow

    t_import = time.perf_counter() - t0
    demo.demo_password_hash()  # scrypt once, as the CLI's first seed would

    t0 = time.perf_counter()
    rows = demo.generate(args.cases, args.seed, TODAY, workflow.Rules())
    t_generate = time.perf_counter() - t0
    sizes = {s: len(rows[s]) for s in demo.SHEETS}
    del rows

    folder = Path(tempfile.mkdtemp(prefix="bench_seed_"))
    path = folder / "register.db"
    marks: list[tuple[float, int]] = []
    t0 = time.perf_counter()
    reg = open_register(f"sqlite:///{path}")
    t_open = time.perf_counter() - t0
    counts = demo.seed_demo(
        reg,
        LOCAL_ADMIN,
        cases=args.cases,
        seed=args.seed,
        today=TODAY,
        progress=lambda done, total: marks.append((time.perf_counter() - t0, done)),
    )
    t_seed = time.perf_counter() - t0
    reg.store.close()

    # Writing time per sheet, from the progress marks (sheets are written in WRITE_ORDER).
    write_start = marks[0][0]
    per_sheet: dict[str, float] = {}
    bound, prev_t = 0, write_start
    for sheet in demo.WRITE_ORDER:
        bound += counts[sheet]
        ends = [t for t, done in marks if done <= bound]
        end = ends[-1] if ends else prev_t
        per_sheet[sheet] = end - prev_t
        prev_t = end

    t0 = time.perf_counter()
    reg2 = open_register(f"sqlite:///{path}")
    loaded = reg2.load(force=True)
    t_load = time.perf_counter() - t0
    assert len(loaded.cases) == args.cases
    reg2.store.close()
    db_mb = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    if args.keep:
        print(f"register kept at {path}")
    else:
        for f in folder.iterdir():
            f.unlink()
        folder.rmdir()

    result = {
        "benchmark": "seed-demo into a fresh SQLite register",
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
        "cases": args.cases,
        "seed": args.seed,
        "rows": counts,
        "rows_total": sum(counts.values()),
        "seconds": {
            "import": round(t_import, 2),
            "generate_alone": round(t_generate, 2),
            "open_and_init": round(t_open, 2),
            "seed_end_to_end": round(t_seed, 2),
            "generate_in_seed": round(write_start - t_open, 2),
            **{f"write_{s}": round(v, 2) for s, v in per_sheet.items()},
            "load_back": round(t_load, 2),
        },
        "db_megabytes": round(db_mb, 1),
        "peak_rss_megabytes": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "target_seconds": 60,
        "within_target": t_seed < 60,
    }
    assert sizes == counts or sizes["cases"] == counts["cases"]
    _print_table(result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"\nwritten to {RESULTS.relative_to(ROOT)}")
    return result


def _print_table(result: dict) -> None:
    secs = result["seconds"]
    rows = result["rows"]
    print(
        f"seed-demo --cases {result['cases']:,}  "
        f"({result['rows_total']:,} rows, {result['db_megabytes']} MB on disk, "
        f"peak RSS {result['peak_rss_megabytes']} MB, "
        f"{result['machine']['cpus']} CPUs, load {result['machine']['load_avg_1m']})"
    )
    print(f"{'phase':<28}{'rows':>12}{'seconds':>10}")
    print("-" * 50)
    print(f"{'import lib':<28}{'':>12}{secs['import']:>10.2f}")
    print(f"{'generate (alone)':<28}{rows['cases']:>12,}{secs['generate_alone']:>10.2f}")
    print(f"{'open + init':<28}{'':>12}{secs['open_and_init']:>10.2f}")
    print(f"{'  generate (in seed)':<28}{rows['cases']:>12,}{secs['generate_in_seed']:>10.2f}")
    for key, value in secs.items():
        if key.startswith("write_"):
            sheet = key.removeprefix("write_")
            print(f"{'  write ' + sheet:<28}{rows[sheet]:>12,}{value:>10.2f}")
    print(f"{'seed end to end':<28}{result['rows_total']:>12,}{secs['seed_end_to_end']:>10.2f}")
    print(f"{'load back (one read)':<28}{rows['cases']:>12,}{secs['load_back']:>10.2f}")
    verdict = "within" if result["within_target"] else "OVER"
    print(f"target: {result['target_seconds']} s — {verdict}")


if __name__ == "__main__":
    main()
