"""The command line (SPEC §8): ``python -m lib COMMAND …`` for batch jobs and scripts.

Every command takes ``--register URL`` (else env ``REGISTER_URL``, else the app's setting, else
the embedded default file) and ``--as USERNAME`` (act with that user's role and units; without
it, act as the local administrator).

Exit codes: 0 done; 1 done but with data problems (rows rejected by ``import``, problems found
by ``check``) or invalid input; 2 refused (the role may not do it, unknown user) or a usage
error; 3 the register could not be reached or read.
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from lib.auth import LOCAL_ADMIN, ROLES, User
from lib.i18n import DomainError
from lib.register import Register, ValidationError, open_register
from lib.schema import parse_date
from lib.store.base import StoreError

EXIT_OK, EXIT_PROBLEMS, EXIT_REFUSED, EXIT_UNREACHABLE = 0, 1, 2, 3
REFUSALS = ("err.forbidden", "err.not_your_unit", "err.unknown_user")


def _date(s: str) -> dt.date:
    try:
        return parse_date(s)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是有效日期：{s}（应为 YYYY-MM-DD）") from None


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and ``--help``)."""

    def add_common(parser: argparse.ArgumentParser, top: bool) -> argparse.ArgumentParser:
        # The options may come before or after the command; a sub-command's copies must not
        # overwrite what was given before it, hence SUPPRESS as their default.
        kw = {} if top else {"default": argparse.SUPPRESS}
        parser.add_argument(
            "--register", metavar="URL", help="sqlite:///path 或 gsheets://KEY", **kw
        )
        parser.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help="以该用户身份执行", **kw
        )
        parser.add_argument(
            "--lang", choices=("zh", "en"), help="输出语言", **(kw or {"default": "zh"})
        )
        return parser

    common = add_common(argparse.ArgumentParser(add_help=False), top=False)
    p = add_common(
        argparse.ArgumentParser(
            prog="python -m lib",
            description="留言办理台账 命令行工具 / the petition case register's command line",
        ),
        top=True,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("init", parents=[common], help="创建台账的表和表头（可重复执行）")

    s = sub.add_parser("seed-demo", parents=[common], help="生成演示数据")
    s.add_argument("--cases", type=int, default=3000)
    s.add_argument("--seed", type=int, default=0)

    s = sub.add_parser("import", parents=[common], help="导入 .xlsx/.csv")
    s.add_argument("file")
    s.add_argument("--table", default="cases", choices=("cases", "units", "users"))

    s = sub.add_parser("export", parents=[common], help="导出为 .xlsx/.csv")
    s.add_argument("file")
    s.add_argument(
        "--table",
        default="cases",
        choices=("cases", "units", "instructions", "supervisions", "history", "users", "settings"),
    )

    s = sub.add_parser("report", parents=[common], help="三率排名表")
    s.add_argument("--from", dest="date_from", type=_date, required=True)
    s.add_argument("--to", dest="date_to", type=_date, required=True)
    s.add_argument("--as-of", dest="as_of", type=_date)
    s.add_argument("--format", choices=("csv", "xlsx", "md"), default="csv")
    s.add_argument("--out")

    s = sub.add_parser("bulletin", parents=[common], help="周调度、月通报、季考核文档")
    s.add_argument("--period", required=True, choices=("week", "month", "quarter"))
    s.add_argument("--date", dest="day", type=_date, required=True, help="期间内的任一天")
    s.add_argument("--as-of", dest="as_of", type=_date)
    s.add_argument("--format", choices=("docx", "xlsx", "md"))
    s.add_argument("--out")

    s = sub.add_parser("digest", parents=[common], help="每日信访摘要")
    s.add_argument("--date", type=_date)

    sub.add_parser("check", parents=[common], help="数据健康检查")

    s = sub.add_parser("migrate", parents=[common], help="把台账复制到另一个地址并逐行核对")
    s.add_argument("--to", dest="target", required=True, metavar="URL")

    s = sub.add_parser("user", parents=[common], help="账号管理")
    usub = s.add_subparsers(
        dest="user_command", required=True, metavar="add|list|disable|enable|reset"
    )
    a = usub.add_parser("add", parents=[common], help="新增或修改账号")
    a.add_argument("name")
    a.add_argument("--role", required=True, choices=ROLES)
    a.add_argument("--units", default="", help="承办人所属单位，逗号分隔")
    a.add_argument("--display-name")
    a.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    usub.add_parser("list", parents=[common], help="列出账号")
    d = usub.add_parser("disable", parents=[common], help="停用账号")
    d.add_argument("name")
    e = usub.add_parser("enable", parents=[common], help="重新启用账号")
    e.add_argument("name")
    r = usub.add_parser(
        "reset", parents=[common], help="重置密码：新的一次性密码，首次登录须修改；解除登录锁定"
    )
    r.add_argument("name")
    r.add_argument("--password-stdin", action="store_true", help="从标准输入读取新的一次性密码")
    return p


def _err(msg: str) -> None:
    print(msg, file=sys.stderr)


def _progress(label: str):
    last = {"pct": -1}

    def cb(done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 100
        if pct != last["pct"] and (pct % 5 == 0 or done == total):
            last["pct"] = pct
            print(f"\r{label} {done}/{total}（{pct}%）", end="", file=sys.stderr, flush=True)
            if done >= total:
                print(file=sys.stderr)

    return cb


def _frame_text(frame: pd.DataFrame) -> str:
    if frame.empty:
        return "（无）"
    return frame.to_string(index=False)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the exit code."""
    args = build_parser().parse_args(argv)
    lang = args.lang
    try:
        reg = open_register(args.register, init=args.command != "init")
        user = reg.find_user(args.as_user) if args.as_user else LOCAL_ADMIN
        return _run(args, reg, user)
    except StoreError as exc:  # first: a Sheets error is also a DomainError
        _err(exc.message(lang) if isinstance(exc, DomainError) else str(exc))
        return EXIT_UNREACHABLE
    except ValidationError as exc:
        _err(exc.message(lang))
        return EXIT_PROBLEMS
    except DomainError as exc:
        _err(exc.message(lang))
        return EXIT_REFUSED if exc.key in REFUSALS else EXIT_PROBLEMS
    except KeyboardInterrupt:
        _err("已中断")
        return 130


def _run(args: argparse.Namespace, reg: Register, user: User) -> int:
    cmd = args.command
    lang = args.lang
    if cmd == "init":
        from lib.auth import require

        require(user, "init")
        changes = reg.store.init(reg.schema)
        print("\n".join(changes) if changes else "台账已是最新，无需改动")
        return EXIT_OK
    if cmd == "seed-demo":
        from lib.demo import seed_demo

        counts = seed_demo(
            reg, user, cases=args.cases, seed=args.seed, progress=_progress("生成演示数据")
        )
        print("，".join(f"{k} {v}" for k, v in counts.items()))
        return EXIT_OK
    if cmd == "import":
        from lib import importer

        result = importer.run_import(
            reg, user, args.file, name=args.file, sheet_name=args.table, progress=_progress("导入")
        )
        for issue in result.plan.rejected:
            print(issue.text(lang))
        for issue in result.plan.skipped:
            print(issue.text(lang), file=sys.stderr)
        print(result.summary(lang))
        return EXIT_OK if result.ok else EXIT_PROBLEMS
    if cmd == "export":
        from lib import importer

        fmt = importer.fmt_of(args.file)
        data = importer.export_table(reg, user, args.table, fmt, lang=lang)
        Path(args.file).write_bytes(data)
        print(f"已导出到 {args.file}")
        return EXIT_OK
    if cmd == "report":
        return _report(args, reg, user)
    if cmd == "bulletin":
        return _bulletin(args, reg, user)
    if cmd == "digest":
        from lib.digest import daily_digest

        day = args.date or reg.today()
        print(daily_digest(reg.data(user), day, lang=lang))
        reg.log_export(user, "digest", note=day.isoformat())
        return EXIT_OK
    if cmd == "check":
        from lib.auth import require
        from lib.health import HEADERS_ZH, check_register

        require(user, "read_all")
        problems = check_register(reg, lang)
        if problems.empty:
            print("未发现问题" if lang == "zh" else "No problems found")
            return EXIT_OK
        shown = problems.rename(columns=HEADERS_ZH) if lang == "zh" else problems
        print(_frame_text(shown))
        print(f"共 {len(problems)} 个问题" if lang == "zh" else f"{len(problems)} problems")
        return EXIT_PROBLEMS
    if cmd == "migrate":
        from lib.migrate import migrate

        report = migrate(reg, user, args.target, progress=_progress("迁移"))
        for line in report:
            print(line)
        return EXIT_OK
    if cmd == "user":
        return _user(args, reg, user)
    raise AssertionError(cmd)


def _report(args: argparse.Namespace, reg: Register, user: User) -> int:
    from lib.metrics import REPORT_COLUMNS, league_table
    from lib.reports import write_report

    if args.format == "xlsx" and not args.out:
        _err("xlsx 格式需要 --out FILE")
        return EXIT_REFUSED
    data = reg.data(user)
    as_of = args.as_of or reg.today()
    table = league_table(
        data.cases,
        data.instructions,
        data.supervisions,
        data.rules,
        date_from=args.date_from,
        date_to=args.date_to,
        as_of=as_of,
    )
    out = write_report(table[list(REPORT_COLUMNS)], args.format, None)
    if args.out:
        Path(args.out).write_bytes(out)
        print(f"已写入 {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    reg.log_export(user, f"report.{args.format}", rows=len(table))
    return EXIT_OK


def _bulletin(args: argparse.Namespace, reg: Register, user: User) -> int:
    """Write the week's, month's or quarter's bulletin: to --out, else md to stdout and a
    Word or Excel file under its title in the current folder."""
    from lib import bulletin

    fmt = args.format
    if fmt is None and args.out:
        suffix = Path(args.out).suffix.lower().lstrip(".")
        fmt = "md" if suffix == "markdown" else suffix
    fmt = fmt or "docx"
    if fmt not in bulletin.FORMATS:
        _err(f"不支持的通报格式“{fmt}”（可选：docx、xlsx、md）")
        return EXIT_REFUSED
    data = reg.data(user)
    today = reg.today()
    doc = bulletin.build_bulletin(
        data,
        args.period,
        args.day,
        as_of=args.as_of or today,
        issued=today,
        lang=args.lang,
        with_charts=fmt == "docx",
    )
    out = bulletin.render(doc, fmt)
    if args.out:
        Path(args.out).write_bytes(out)
        print(f"已写入 {args.out}", file=sys.stderr)
    elif fmt == "md":
        sys.stdout.buffer.write(out)
        sys.stdout.flush()
    else:
        path = Path(bulletin.default_filename(doc, fmt))
        path.write_bytes(out)
        print(f"已写入 {path}", file=sys.stderr)
    reg.log_export(user, f"bulletin.{fmt}", note=doc.title)
    return EXIT_OK


def _user(args: argparse.Namespace, reg: Register, user: User) -> int:
    sub = args.user_command
    if sub == "list":
        from lib.auth import require

        require(user, "manage_users")
        users = reg.load(force=True).users  # never holds password hashes
        cols = [
            "username",
            "display_name",
            "role",
            "units",
            "email",
            "active",
            "must_change_password",
            "last_sign_in",
            "locked_until",
        ]
        print(_frame_text(users[[c for c in cols if c in users.columns]]))
        return EXIT_OK
    if sub in ("disable", "enable"):
        if reg.store.get_row("users", args.name) is None:
            raise DomainError("err.unknown_user", username=args.name)
        reg.save_user(user, args.name, active=sub == "enable")
        print(f"已停用 {args.name}" if sub == "disable" else f"已启用 {args.name}")
        return EXIT_OK
    if sub == "reset":
        given = None
        if args.password_stdin:
            given = sys.stdin.readline().rstrip("\r\n")
            if not given:
                _err("标准输入中没有密码")
                return EXIT_PROBLEMS
        new = reg.reset_password(user, args.name, password=given)
        print(f"已重置 {args.name} 的密码，首次登录须修改")
        if given is None:
            print(f"一次性密码：{new}")
        return EXIT_OK
    units = [u.strip() for u in args.units.replace("，", ",").split(",") if u.strip()]
    existing = reg.store.get_row("users", args.name) is not None
    password = None
    generated = False
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            _err("标准输入中没有密码")
            return EXIT_PROBLEMS
    elif not existing:
        if sys.stdin.isatty():
            password = getpass.getpass("密码（留空则自动生成）：")
        if not password:
            password = secrets.token_urlsafe(9)
            generated = True
    reg.save_user(
        user,
        args.name,
        role=args.role,
        units=units if units or args.role == "handler" else None,
        display_name=args.display_name,
        password=password,
        must_change_password=True if generated else None,
        active=True,
    )
    print(f"已保存账号 {args.name}（{args.role}）")
    if generated:
        print(f"一次性密码：{password}（首次登录须修改）")
    return EXIT_OK
