"""Benchmark of the SPEC §5 figures (lib/metrics.py) on a synthetic 100,000-case register.

Run: ``.venv/bin/python bench/bench_metrics.py [--cases N] [--repeat R] [--seed S]``.
Prints a table and writes ``bench/results/metrics.json``. Target: a year's league table
grouped by month in ≤ 0.5 s. CI does not fail on timings.

The synthetic register is generated vectorised with numpy: 12 months of cases over 20 units,
about 4 % never assigned, 3 % rejected, most accepted within the 15 days (some late, some still
pending), handling times around the 60-day deadline, 10 % extended, 75 % of concluded cases
evaluated, 5 % repeat messages, instructions on 6 % and supervision actions on 20 % of cases.
Dates after ``as_of`` are cut (a stage after ``as_of`` and everything after it is empty), so the
frame is what a register could hold on ``as_of``.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from lib import metrics, workflow  # noqa: E402

YEAR_START = pd.Timestamp("2025-01-01")
YEAR_END = pd.Timestamp("2025-12-31")
AS_OF = pd.Timestamp("2026-01-15")
UNITS = [
    "广安区",
    "前锋区",
    "岳池县",
    "武胜县",
    "邻水县",
    "华蓥市",
    "广安经开区",
    "市住房和城乡建设局",
    "市交通运输局",
    "市农业农村局",
    "市生态环境局",
    "市教育局",
    "市卫生健康委",
    "市人力资源和社会保障局",
    "市公安局",
    "市市场监督管理局",
    "国网广安供电公司",
    "市自然资源和规划局",
    "市水务局",
    "市城市管理行政执法局",
]


def _days(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    return rng.integers(low, high + 1, n).astype("timedelta64[D]")


def synthetic_cases(
    n: int = 100_000, seed: int = 1
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A typed cases frame of ``n`` cases over 2025, plus instructions and supervisions."""
    rng = np.random.default_rng(seed)
    nat = np.datetime64("NaT", "D")
    span = (YEAR_END - YEAR_START).days + 1
    received = np.datetime64(YEAR_START.date(), "D") + np.sort(rng.integers(0, span, n)).astype(
        "timedelta64[D]"
    )
    assigned_ok = rng.random(n) > 0.04
    assigned = np.where(assigned_ok, received + _days(rng, 0, 3, n), nat)
    # Acceptance: mostly within the 15 days; a tail late; 3 % rejected; a few never decided.
    decide = assigned + np.where(rng.random(n) < 0.85, _days(rng, 0, 15, n), _days(rng, 16, 40, n))
    fate = rng.random(n)
    rejected = np.where(fate < 0.03, decide, nat)
    accepted = np.where((fate >= 0.03) & (fate < 0.97), decide, nat)
    extension = np.where(rng.random(n) < 0.10, rng.integers(10, 31, n), 0)
    extended = np.where(extension > 0, accepted + _days(rng, 20, 55, n), nat)
    conclude_in = np.where(rng.random(n) < 0.8, rng.integers(5, 61, n), rng.integers(61, 110, n))
    concluded = accepted + conclude_in.astype("timedelta64[D]")
    evaluated = np.where(rng.random(n) < 0.75, concluded + _days(rng, 0, 10, n), nat)
    evaluation = rng.choice(["满意", "基本满意", "不满意"], n, p=[0.6, 0.28, 0.12])

    asof = np.datetime64(AS_OF.date(), "D")
    # Cut the chain at as_of: a stage after as_of, and every later stage, does not exist yet.
    assigned = np.where(assigned <= asof, assigned, nat)
    alive = ~np.isnat(assigned)
    accepted = np.where(alive & (accepted <= asof), accepted, nat)
    rejected = np.where(alive & (rejected <= asof), rejected, nat)
    extended = np.where(~np.isnat(accepted) & (extended <= asof), extended, nat)
    # An extension after the conclusion did not happen.
    concluded = np.where(~np.isnat(accepted) & (concluded <= asof), concluded, nat)
    extended = np.where(np.isnat(concluded) | (extended <= concluded), extended, nat)
    extension = np.where(np.isnat(extended), 0, extension)
    evaluated = np.where(~np.isnat(concluded) & (evaluated <= asof), evaluated, nat)
    evaluation = np.where(np.isnat(evaluated), "", evaluation)

    ids = np.char.add("GA2025-", np.char.zfill(np.arange(1, n + 1).astype(str), 6))
    unit = np.where(alive, np.array(UNITS)[rng.integers(0, len(UNITS), n)], "")
    # 5 % repeat an earlier case (index-wise earlier, so received no later).
    repeat = (rng.random(n) < 0.05) & (np.arange(n) > 0)
    target = (rng.random(n) * np.arange(n)).astype("int64")
    repeat_of = np.where(repeat, ids[target], "")

    def ts(a: np.ndarray) -> pd.Series:
        return pd.Series(a.astype("datetime64[ns]"))

    cases = pd.DataFrame(
        {
            "case_id": ids.astype(object),
            "received_at": ts(received),
            "unit": unit.astype(object),
            "assigned_at": ts(assigned),
            "accepted_at": ts(accepted),
            "rejected_at": ts(rejected),
            "extension_days": pd.array(extension, dtype="Int64"),
            "extended_at": ts(extended),
            "concluded_at": ts(concluded),
            "evaluation": evaluation.astype(object),
            "evaluated_at": ts(evaluated),
            "repeat_of": repeat_of.astype(object),
            "meet_accept": ts(np.full(n, nat)),
            "meet_handle": ts(np.full(n, nat)),
            "meet_reply": ts(np.full(n, nat)),
        }
    )
    # Text columns are plain object columns, as Sheet.typed_frame makes them.
    for col in ("case_id", "unit", "evaluation", "repeat_of"):
        cases[col] = cases[col].astype(object)
    k = int(n * 0.06)
    who = rng.choice(n, k, replace=False)
    instructions = pd.DataFrame(
        {
            "case_id": pd.Series(ids[who], dtype=object),
            "leader": pd.Series("市委书记", index=range(k), dtype=object),
            "date": ts(np.minimum(received[who] + _days(rng, 0, 5, k), asof)),
        }
    )
    m = int(n * 0.3)
    sup_on = rng.choice(n, m, replace=True)
    supervisions = pd.DataFrame(
        {
            "case_id": pd.Series(ids[sup_on], dtype=object),
            "kind": pd.Series("电话督办", index=range(m), dtype=object),
            "date": ts(np.minimum(received[sup_on] + _days(rng, 10, 80, m), asof)),
        }
    )
    return cases, instructions, supervisions


def _time(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    fn()  # warm-up (imports, the holiday calendar cache)
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t0)
    return {"best_s": min(runs), "median_s": statistics.median(runs), "runs": len(runs)}


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table and write bench/results/metrics.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "metrics.json")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    cases, instructions, supervisions = synthetic_cases(args.cases, args.seed)
    gen_s = time.perf_counter() - t0
    rules = workflow.Rules()
    span = {"date_from": YEAR_START, "date_to": YEAR_END, "as_of": AS_OF}

    def lt(freq: str | None) -> Callable[[], object]:
        return lambda: metrics.league_table(
            cases, instructions, supervisions, rules, freq=freq, **span
        )

    jobs: list[tuple[str, Callable[[], object], float | None]] = [
        ("case_measures (all cases)", lambda: metrics.case_measures(cases, rules, AS_OF), None),
        ("league_table year, ungrouped", lt(None), None),
        ("league_table year, by month", lt("M"), 0.5),
        ("league_table year, by quarter", lt("Q"), None),
        ("league_table year, by week", lt("W"), None),
        (
            "summary year, by month",
            lambda: metrics.summary(cases, instructions, supervisions, rules, freq="M", **span),
            None,
        ),
        (
            "rates_by_period year, by month",
            lambda: metrics.rates_by_period(cases, rules, freq="M", **span),
            None,
        ),
    ]
    results = []
    for name, fn, target in jobs:
        r = _time(fn, args.repeat)
        results.append({"name": name, **r, "target_s": target})

    monthly = metrics.league_table(cases, instructions, supervisions, rules, freq="M", **span)
    print(f"metrics benchmark: {len(cases):,} cases, {len(UNITS)} units, as of {AS_OF.date()}")
    print(f"(synthetic data generated in {gen_s:.2f} s; monthly table {len(monthly)} rows)")
    print(f"{'job':<34} {'best s':>8} {'median s':>9} {'target s':>9}  ok")
    for r in results:
        tgt = r["target_s"]
        ok = "" if tgt is None else ("yes" if r["median_s"] <= tgt else "NO")
        tgt_s = "" if tgt is None else f"{tgt:.2f}"
        print(f"{r['name']:<34} {r['best_s']:>8.3f} {r['median_s']:>9.3f} {tgt_s:>9}  {ok}")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": "metrics",
        "cases": len(cases),
        "units": len(UNITS),
        "as_of": AS_OF.date().isoformat(),
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        "machine": platform.machine(),
        "results": results,
    }
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(f"written {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
