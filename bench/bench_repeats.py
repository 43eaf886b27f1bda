"""Benchmark of the likely-repeat search (SPEC §7, lib/repeats.py) on 100,000 demo cases.

Run: ``.venv/bin/python bench/bench_repeats.py [--cases N] [--repeat R]``.
Prints a table and writes ``bench/results/repeats.json``. CI does not fail on timings (the
test suite checks the search's results on 100,000 cases, not its speed).

The intake page searches on every rerun while a clerk types, so the warm search (the n-gram
index of a snapshot already built) must fit the page's warm budget: ≤ 0.3 s. The first search
of a snapshot also builds the index (once per snapshot, shared by all sessions). Cases come
from the demo generator (:func:`lib.demo.generate`, realistic Chinese titles and contents);
the query is an earlier case's title and the start of its content with another phone and
name, so only the text similarity can find it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib import demo, workflow  # noqa: E402
from lib.repeats import find_repeats  # noqa: E402

TODAY = dt.date(2026, 11, 27)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    t0 = time.perf_counter()
    rows = demo.generate(args.cases, 3, TODAY, workflow.Rules(), password_hash="bench")["cases"]
    frame = pd.DataFrame(rows)
    frame["received_at"] = pd.to_datetime(frame["received_at"])
    print(f"{len(frame):,} demo cases generated in {time.perf_counter() - t0:.1f} s")
    target = frame.iloc[len(frame) // 3]
    query = {
        "phone": "13900000000",
        "petitioner": "查重测",
        "region": str(target["region"]),
        "title": str(target["title"]),
        "content": str(target["content"])[:150],
    }
    results = []
    for r in range(args.repeat):
        snap = frame.copy()  # a new snapshot: the index is built again
        t = time.perf_counter()
        found = find_repeats(snap, **query)
        cold = time.perf_counter() - t
        warm = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            again = find_repeats(snap, **query)
            warm.append(time.perf_counter() - t)
        assert target["case_id"] in set(found["case_id"]), "the earlier case is found"
        assert list(again["case_id"]) == list(found["case_id"])
        results.append({"cold_s": cold, "warm_s": warm})
        print(
            f"run {r + 1}: first search {cold:.3f} s, then median {statistics.median(warm):.3f} s"
        )
    cold = [x["cold_s"] for x in results]
    warm = [w for x in results for w in x["warm_s"]]
    table = [
        ("first search of a snapshot (builds the index)", cold, None),
        ("search, index built (each intake rerun)", warm, 0.3),
    ]
    print(f"\nLikely-repeat search, {len(frame):,} cases")
    print(f"{'operation':<48} {'best':>7} {'median':>7}  target")
    for name, times, target_s in table:
        verdict = (
            "" if target_s is None else ("ok" if statistics.median(times) <= target_s else "MISSED")
        )
        print(
            f"{name:<48} {min(times):7.3f} {statistics.median(times):7.3f}  "
            f"{'—' if target_s is None else f'≤ {target_s} s {verdict}'}"
        )
    out = ROOT / "bench" / "results" / "repeats.json"
    out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                "cases": len(frame),
                "results": [{"operation": n, "times_s": t, "target_s": g} for n, t, g in table],
            },
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
