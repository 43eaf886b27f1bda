"""Benchmark of the Google Sheets store: API calls per operation and read time, 10,000 cases.

Run: ``.venv/bin/python bench/bench_gsheets.py [--cases N] [--repeat R] [--loopback]``.
Prints a table and writes ``bench/results/gsheets.json``. CI does not fail on timings.

The register lives in the in-repo Sheets emulator (``tests/fakes``) and is reached through
gspread's real HTTP code — in process, or over a loopback HTTP server with ``--loopback``.
Call counts are what Google would count against the quota (60 reads and 60 writes a minute per
user); times measure this code plus the emulator, not Google's latency (add ~100–300 ms per
call for the real service; a 10,000-case read is one call whatever its size, see ``bytes``).
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
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import gspread  # noqa: E402
import pandas as pd  # noqa: E402

from lib.auth import User  # noqa: E402
from lib.register import Register  # noqa: E402
from lib.store.base import Changeset, NewId, Update  # noqa: E402
from lib.store.gsheets import READ_PARAMS, GSheetsStore, emulator_session  # noqa: E402
from tests.fakes.sheets_emulator import SheetsEmulator  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "gsheets.json"
ADMIN = User("bench", "基准", "admin")
UNITS = ["广安区", "前锋区", "岳池县", "武胜县", "邻水县", "华蓥市", "市住房和城乡建设局"]


def case(i: int) -> dict[str, Any]:
    """A realistic row of canonical text (about 40 columns, a few hundred characters)."""
    unit = UNITS[i % len(UNITS)]
    assigned = i % 5 != 0
    return {
        "case_id": NewId("GA2026-"),
        "source_id": f"RMW{100000 + i}",
        "channel": "人民网领导留言板" if i % 3 else "12345热线",
        "received_at": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "addressed_to": "市委书记",
        "petitioner": f"网友{i:05d}",
        "phone": f"0138{i:08d}",
        "region": unit if unit.endswith(("区", "县", "市")) else "广安区",
        "town": "浓洄街道",
        "domain": "城建",
        "type": "投诉",
        "title": f"小区电梯长期停运（第{i}件）",
        "content": "我们小区3号楼电梯停运两个月，老人上下楼困难，请领导关心。" * 4,
        "is_first": "TRUE",
        "confidential": "FALSE",
        "status": "已交办" if assigned else "待交办",
        "unit": unit if assigned else "",
        "assigned_at": "2026-03-01" if assigned else "",
        "version": "1",
        "updated_at": "2026-03-01T10:00:00+08:00",
        "updated_by": "bench",
    }


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return min(times), statistics.median(times), result


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print a table and write bench/results/gsheets.json."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--loopback", action="store_true", help="talk HTTP to a loopback server")
    args = ap.parse_args(argv)

    emulator = SheetsEmulator(seed=1)
    sid = emulator.create_spreadsheet("留言办理台账（基准）")
    server = emulator.serve() if args.loopback else None

    def new_store() -> GSheetsStore:
        session = emulator_session(server.address) if server else emulator.session()
        return GSheetsStore(sid, session=session)

    store = new_store()
    store.init()
    started = time.perf_counter()
    for start in range(0, args.cases, 2000):
        cs = Changeset()
        cs.append("cases", *[case(i) for i in range(start, min(start + 2000, args.cases))])
        if start == 0:
            kinds = {u: "市直部门" if u.startswith("市") else "区市县" for u in UNITS}
            cs.append("units", *[{"name": u, "kind": k, "version": "1"} for u, k in kinds.items()])
        store.commit(cs)
    load_s = time.perf_counter() - started

    rows: list[dict[str, Any]] = []

    def measure(name: str, fn: Callable[[], Any], repeat: int, note: str = "") -> Any:
        emulator.reset_counts()
        best, median, result = timed(fn, repeat)
        counts = {k: v // repeat for k, v in emulator.counts.items() if v}
        rows.append(
            {
                "operation": name,
                "calls": sum(counts.values()),
                "by_endpoint": counts,
                "best_s": round(best, 4),
                "median_s": round(median, 4),
                "runs": repeat,
                "note": note,
            }
        )
        return result

    snap = measure("read: every sheet but history (a page run)", store.read, args.repeat)
    assert len(snap["cases"]) == args.cases, len(snap["cases"])
    gc = gspread.Client(auth=None, session=emulator.session())  # type: ignore[arg-type]
    raw = gc.http_client.values_batch_get(sid, ["'案件'"], params=dict(READ_PARAMS))
    payload = len(json.dumps(raw, ensure_ascii=False).encode("utf-8"))
    values = raw["valueRanges"][0]["values"]
    measure(
        "  of which: parsing the cases by header",
        lambda: store._frame("cases", values),
        args.repeat,
        "the store's own CPU time; the rest is the emulator and JSON",
    )
    reg = Register(new_store())
    reg.max_age_s = 30  # as the app sets it (stale_seconds)
    reg.store.init()
    measure(
        "Register.load (read + typed frames)",
        lambda: reg.load(force=True),
        args.repeat,
        "what a page does when the cache is stale",
    )
    target = snap["cases"]["case_id"].iloc[args.cases // 2]
    measure("get_row after a page read", lambda: store.get_row("cases", target), args.repeat)
    measure(
        "get_row, new process (no read yet)",
        lambda: new_store().get_row("cases", target),
        1,
        "+1 spreadsheets.get once per process",
    )
    versions = iter(range(1, 10_000))

    def update() -> None:
        v = next(versions)
        store.commit(
            Changeset(
                updates=[Update("cases", target, {"reply": f"答复{v}", "version": str(v + 1)}, v)]
            )
        )

    measure("update: changed cells + version", update, args.repeat)

    def intake() -> None:
        nid = NewId("GA2026-")
        cs = Changeset()
        cs.append("cases", {**case(0), "case_id": nid})
        row = {"timestamp": "2026-03-20T10:00:00+08:00", "user": "bench", "case_id": nid}
        cs.append("history", {**row, "action": "intake", "new": "x"})
        store.commit(cs)

    measure("intake: new id + case + history", intake, 3, "emulator append scans the table")
    waiting = snap["cases"].loc[snap["cases"]["unit"] == "", "case_id"].iloc[0]
    reg.load()
    measure(
        "service action (Register.assign)",
        lambda: reg.assign(ADMIN, waiting, unit="广安区", assigned_at="2026-03-02"),
        1,
        "get_row 1 + commit 3 (find again, write, history)",
    )
    measure("open an initialised register (init)", lambda: new_store().init(), 1)

    if server:
        server.shutdown()
    result = {
        "benchmark": "gsheets",
        "cases": args.cases,
        "transport": "loopback HTTP" if args.loopback else "in process",
        "seed_s": round(load_s, 2),
        "cases_read_bytes": payload,
        "python": platform.python_version(),
        "gspread": gspread.__version__,
        "pandas": pd.__version__,
        "machine": platform.machine(),
        "results": rows,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    width = max(len(r["operation"]) for r in rows)
    eps = [", ".join(f"{k} {v}" for k, v in sorted(r["by_endpoint"].items())) for r in rows]
    ep_width = max(len("by endpoint"), *(len(e) for e in eps))
    print(
        f"Google Sheets store, {args.cases:,} cases, {result['transport']} "
        f"(cases sheet read = {payload / 1e6:.1f} MB)"
    )
    print(f"{'operation':<{width}}  calls  {'by endpoint':<{ep_width}}  median s")
    for r, ep in zip(rows, eps, strict=True):
        print(
            f"{r['operation']:<{width}}  {r['calls']:>5}  {ep:<{ep_width}}  {r['median_s']:>8.3f}"
        )
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
