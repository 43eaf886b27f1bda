"""Benchmark of the embedded register on 100,000 cases: snapshot load and import.

Run: ``.venv/bin/python bench/bench_register.py [--cases N] [--import-rows R] [--repeat K]``.
Prints a table and writes ``bench/results/register.json``. CI does not fail on timings.

Targets (issue "The register core"): loading the snapshot from SQLite ≤ 1 s on a 100,000-case
register; importing a 10,000-row ``.xlsx`` ≤ 15 s. The register is filled with the demo data
generator (``seed-demo``), and the import file is an export of 10,000 demo cases from another
register, so the import runs every check on realistic full-lifecycle rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib import LOCAL_ADMIN, importer, open_register  # noqa: E402
from lib.demo import seed_demo  # noqa: E402

TODAY = dt.date(2026, 11, 27)


def clock() -> dt.datetime:
    return dt.datetime(TODAY.year, TODAY.month, TODAY.day, 10, 0)


def timed(fn, repeat: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--import-rows", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        big = open_register(f"sqlite:///{tmp}/big.db", clock=clock)
        t0 = time.perf_counter()
        seed_demo(big, LOCAL_ADMIN, cases=args.cases, seed=1, today=TODAY)
        rows.append(("seed-demo", args.cases, [time.perf_counter() - t0], 60.0))

        times, snap = timed(lambda: big.store.read(), args.repeat)
        rows.append(("store.read (raw snapshot)", len(snap["cases"]), times, 1.0))
        times, data = timed(lambda: big.load(force=True), args.repeat)
        rows.append(("Register.load (read + typed)", len(data.cases), times, 1.0))
        times, _ = timed(lambda: big.load(), args.repeat)
        rows.append(("Register.load (cached, unchanged)", len(data.cases), times, None))

        src = open_register(f"sqlite:///{tmp}/src.db", clock=clock)
        seed_demo(src, LOCAL_ADMIN, cases=args.import_rows, seed=2, today=TODAY)
        frame = src.export_rows(LOCAL_ADMIN, "cases").drop(columns=["case_id", "repeat_of"])
        xlsx = importer.export_frame(frame, src.schema["cases"], "xlsx")
        path = Path(tmp) / "ledger.xlsx"
        path.write_bytes(xlsx)

        def run_import():
            dst = open_register(f"sqlite:///{tmp}/dst-{time.monotonic_ns()}.db", clock=clock)
            for unit in src.export_rows(LOCAL_ADMIN, "units").to_dict("records"):
                dst.save_unit(LOCAL_ADMIN, unit)
            t0 = time.perf_counter()
            result = importer.run_import(dst, LOCAL_ADMIN, path)
            return time.perf_counter() - t0, result

        import_times = []
        result = None
        for _ in range(max(1, args.repeat - 1)):
            t, result = run_import()
            import_times.append(t)
        rows.append(
            (
                f"import .xlsx ({len(result.imported)} imported)",
                args.import_rows,
                import_times,
                15.0,
            )
        )

    print(f"{'operation':42} {'rows':>8} {'best s':>8} {'median s':>9} {'target s':>9}")
    out = []
    for name, n, times, target in rows:
        best, med = min(times), statistics.median(times)
        tgt = f"{target:.1f}" if target else "—"
        print(f"{name:42} {n:>8} {best:>8.3f} {med:>9.3f} {tgt:>9}")
        out.append({"operation": name, "rows": n, "times_s": times, "target_s": target})
    results = ROOT / "bench" / "results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "register.json").write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "results": out,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()
