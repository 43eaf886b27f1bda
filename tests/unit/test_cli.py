"""The command line end to end (SPEC §8), run as a real process on a temporary register."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from lib.cli import main

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def cli(*args: str, stdin: str | None = None) -> Run:
    """Run the CLI's ``main(ARGS)`` in this process (fast), capturing output and exit code."""
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="")
    err = io.StringIO()
    old_stdin = sys.stdin
    sys.stdin = io.StringIO(stdin or "")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:  # argparse usage errors
                code = int(exc.code or 0)
    finally:
        sys.stdin = old_stdin
    out.flush()
    return Run(code, out.buffer.getvalue().decode("utf-8"), err.getvalue())


def cli_process(*args: str) -> subprocess.CompletedProcess:
    """Run ``python -m lib ARGS`` as a real process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("REGISTER_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "lib", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


@pytest.fixture(autouse=True)
def _no_register_env(monkeypatch):
    monkeypatch.delenv("REGISTER_URL", raising=False)


@pytest.fixture
def reg_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def write_csv(path: Path, header: list[str], rows: list[list[str]], encoding="utf-8") -> Path:
    buf = io.StringIO(newline="")
    csv.writer(buf).writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


UNITS_HEADER = ["单位名称", "单位类别"]
CASE_HEADER = [
    "渠道", "来源编号", "登记日期", "留言人", "联系电话", "所属区县", "领域", "类型", "标题", "内容",
    "承办单位", "交办日期", "受理日期", "办结日期", "答复内容", "满意度", "评价日期",
]  # fmt: skip


def ledger_rows() -> list[list[str]]:
    done = ["2026-01-06", "2026-01-08", "2026-02-01", "已修复", "满意", "2026-02-03"]
    return [
        ["人民网领导留言板", "1", "2026-01-05", "张三", "013800138000", "广安区", "城建", "投诉",
         "路灯坏了", "小区路灯坏了一个月。", "广安区", *done],
        ["人民网领导留言板", "2", "2026-01-05", "李四", "13900139000", "岳池县", "交通", "建言",
         "公交线路", "建议增开公交。", "岳池县", "2026-01-06", "", "", "", "", ""],
        ["人民网领导留言板", "3", "2026-01-05", "", "", "广安区", "城建", "投诉", "缺人名", "内容",
         "", "", "", "", "", "", ""],
    ]  # fmt: skip


@pytest.fixture
def loaded(reg_url: str, tmp_path: Path) -> str:
    """A register with units, one handler, and a small ledger imported."""
    assert cli("init", "--register", reg_url).returncode == 0
    units = write_csv(
        tmp_path / "units.csv", UNITS_HEADER, [["广安区", "区市县"], ["岳池县", "区市县"]]
    )
    assert cli("import", str(units), "--table", "units", "--register", reg_url).returncode == 0
    r = cli(
        "user", "add", "gaq", "--role", "handler", "--units", "广安区",
        "--password-stdin", "--register", reg_url, stdin="s3cret-pass\n",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    ledger = write_csv(tmp_path / "ledger.csv", CASE_HEADER, ledger_rows(), "gbk")
    r = cli("import", str(ledger), "--register", reg_url)
    assert r.returncode == 1  # one row rejected
    return reg_url


def test_init_is_idempotent(reg_url):
    first = cli_process("init", "--register", reg_url)
    second = cli_process("--register", reg_url, "init")
    assert first.returncode == second.returncode == 0
    assert "新建表 cases" in first.stdout
    assert "无需改动" in second.stdout


def test_import_reports_rejected_rows_with_their_number_and_exit_1(reg_url, tmp_path):
    cli("init", "--register", reg_url)
    units = write_csv(
        tmp_path / "u.csv", UNITS_HEADER, [["广安区", "区市县"], ["岳池县", "区市县"]]
    )
    cli("import", str(units), "--table", "units", "--register", reg_url)
    ledger = write_csv(tmp_path / "l.csv", CASE_HEADER, ledger_rows())
    r = cli("import", str(ledger), "--register", reg_url)
    assert r.returncode == 1
    assert "第 4 行" in r.stdout and "留言人" in r.stdout
    assert "导入 2 行" in r.stdout
    again = cli("import", str(ledger), "--register", reg_url)
    assert "导入 0 行，跳过重复 2 行" in again.stdout


def test_import_of_a_clean_file_exits_0(reg_url, tmp_path):
    cli("init", "--register", reg_url)
    units = write_csv(tmp_path / "u.csv", UNITS_HEADER, [["广安区", "区市县"]])
    r = cli("import", str(units), "--table", "units", "--register", reg_url)
    assert r.returncode == 0, r.stdout + r.stderr


def test_export_xlsx_and_csv(loaded, tmp_path):
    out = tmp_path / "cases.xlsx"
    assert cli("export", str(out), "--register", loaded).returncode == 0
    ws = openpyxl.load_workbook(out).active
    assert ws["A1"].value == "案件编号"
    assert ws.max_row == 3
    phones = [c.value for c in ws[1 + 1]] + [c.value for c in ws[3]]
    assert "013800138000" in phones
    out_csv = tmp_path / "cases.csv"
    assert cli("export", str(out_csv), "--register", loaded).returncode == 0
    assert out_csv.read_bytes().startswith(b"\xef\xbb\xbf")


def test_as_handler_sees_only_their_unit_and_may_not_import(loaded, tmp_path):
    out = tmp_path / "mine.csv"
    r = cli("export", str(out), "--register", loaded, "--as", "gaq")
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8-sig")
    assert "广安区" in text and "岳池县" not in text.split("\n", 1)[1].replace("所属区县", "")
    units = write_csv(tmp_path / "u.csv", UNITS_HEADER, [["邻水县", "区市县"]])
    refused = cli("import", str(units), "--table", "units", "--register", loaded, "--as", "gaq")
    assert refused.returncode == 2
    assert "无权" in refused.stderr


def test_unknown_user_is_refused(loaded):
    r = cli("check", "--register", loaded, "--as", "nobody")
    assert r.returncode == 2
    assert "nobody" in r.stderr


def test_report_csv_has_the_spec_columns(loaded):
    r = cli(
        "report", "--from", "2026-01-01", "--to", "2026-01-31", "--as-of", "2026-03-01",
        "--register", loaded,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = list(csv.reader(io.StringIO(r.stdout.lstrip("\ufeff"))))
    assert rows[0][:14] == [
        "承办单位", "案件数", "及时受理数", "受理超期数", "及时受理率", "按期办结数", "办结超期数",
        "按期办结率", "参评数", "满意数", "群众满意率", "参评率", "综合得分", "排名",
    ]  # fmt: skip
    by_unit = {r[0]: r for r in rows[1:]}
    assert by_unit["广安区"][4] == "1.0"  # accepted on time
    assert by_unit["岳池县"][4] == "0.0"  # never accepted, past its due day
    assert by_unit["广安区"][13] == "1"


def test_report_md_and_xlsx(loaded, tmp_path):
    md = cli_process("report", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "md",
             "--as-of", "2026-03-01", "--register", loaded)  # fmt: skip
    assert md.returncode == 0, md.stderr
    assert "100.0%" in md.stdout
    out = tmp_path / "r.xlsx"
    x = cli("report", "--from", "2026-01-01", "--to", "2026-01-31", "--format", "xlsx",
            "--out", str(out), "--register", loaded)  # fmt: skip
    assert x.returncode == 0 and out.exists()


def test_digest_lists_overdue_cases_by_unit(loaded):
    r = cli("digest", "--date", "2026-03-01", "--register", loaded)
    assert r.returncode == 0, r.stderr
    assert "【每日信访】2026年3月1日" in r.stdout
    assert "岳池县 1 件（逾期未受理 1 件" in r.stdout


def test_check_finds_hand_made_problems(loaded, reg_url):
    assert cli("check", "--register", loaded).returncode == 0
    import sqlite3

    path = loaded[len("sqlite:///") :]
    con = sqlite3.connect(path)
    con.execute("UPDATE cases SET received_at = '2026-13-01' WHERE source_id = '1'")
    con.execute("UPDATE cases SET domain = '外星' WHERE source_id = '2'")
    con.commit()
    con.close()
    r = cli("check", "--register", loaded)
    assert r.returncode == 1
    assert "2026-13-01" in r.stdout and "外星" in r.stdout


def test_migrate_copies_and_verifies(loaded, tmp_path):
    target = f"sqlite:///{tmp_path / 'copy.db'}"
    r = cli("migrate", "--to", target, "--register", loaded)
    assert r.returncode == 0, r.stderr
    assert "全部一致" in r.stdout
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    cli("export", str(a), "--register", loaded)
    cli("export", str(b), "--register", target)
    assert a.read_text(encoding="utf-8-sig") == b.read_text(encoding="utf-8-sig")
    again = cli("migrate", "--to", target, "--register", loaded)
    assert again.returncode == 1 and "空台账" in again.stderr


def test_user_list_and_disable(loaded):
    listed = cli("user", "list", "--register", loaded)
    assert (
        "gaq" in listed.stdout and "s3cret" not in listed.stdout and "scrypt" not in listed.stdout
    )
    assert cli("user", "disable", "gaq", "--register", loaded).returncode == 0
    assert cli("check", "--register", loaded, "--as", "gaq").returncode == 2


def test_user_add_without_password_prints_a_one_time_password(reg_url):
    cli("init", "--register", reg_url)
    r = cli("user", "add", "boss", "--role", "leader", "--register", reg_url, stdin="")
    assert r.returncode == 0, r.stderr
    assert "一次性密码" in r.stdout


def test_bad_register_url_is_explained(tmp_path):
    r = cli("check", "--register", "ftp://nowhere")
    assert r.returncode == 1
    assert "sqlite:///" in r.stderr


def test_seed_demo_fills_an_empty_register(reg_url):
    r = cli("seed-demo", "--cases", "200", "--seed", "3", "--register", reg_url)
    assert r.returncode == 0, r.stderr
    c = cli("check", "--register", reg_url)
    assert c.returncode == 0, c.stdout[-2000:]
    refused = cli("seed-demo", "--cases", "10", "--register", reg_url)
    assert refused.returncode != 0


def test_reports_digests_and_exports_are_logged_in_history(loaded, tmp_path):
    cli("report", "--from", "2026-01-01", "--to", "2026-01-31", "--register", loaded)
    cli("digest", "--date", "2026-03-01", "--register", loaded)
    cli("export", str(tmp_path / "x.csv"), "--register", loaded, "--as", "gaq")
    out = tmp_path / "h.csv"
    assert cli("export", str(out), "--table", "history", "--register", loaded).returncode == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    exports = [(r["操作人"], r["字段"]) for r in rows if r["操作"] == "export"]
    assert ("local-admin", "report.csv") in exports
    assert ("local-admin", "digest") in exports
    assert ("gaq", "cases") in exports
