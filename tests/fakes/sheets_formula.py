"""A small formula evaluator for the Sheets emulator.

It covers what tests of a data app meet: arithmetic (``=1+1``, ``= 1 / 1024``, ``=-2^2``),
comparisons, ``&`` concatenation, cell and range references (``=A1*2``, ``=SUM(B2:B9)``,
``='Other sheet'!A1``) and a handful of functions. Anything else evaluates to the error
value Sheets would show: ``#NAME?`` for an unknown function or name, ``#ERROR!`` for a
formula that does not parse, ``#DIV/0!``, ``#VALUE!``, ``#REF!`` (also for cycles).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from tests.fakes.sheets_a1 import column_index
from tests.fakes.sheets_cells import general_number, to_serial

Value = str | float | bool | None

#: resolve(sheet_title_or_None, row, col) -> effective value of that cell (None if empty)
CellResolver = Callable[[str | None, int, int], Value]
#: resolve_range(sheet, r0, c0, r1, c1) -> values of the box, row-major
RangeResolver = Callable[[str | None, int, int, int, int], list[Value]]


#: Error values a cell can show; a referenced error propagates through arithmetic.
ERROR_CODES = frozenset({"#NAME?", "#ERROR!", "#DIV/0!", "#VALUE!", "#REF!", "#NUM!", "#N/A"})


class FormulaError(Exception):
    """An error value such as ``#DIV/0!``; ``code`` is what the cell shows."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class _Ref:
    sheet: str | None
    row: int
    col: int


@dataclass(frozen=True)
class _RangeRef:
    sheet: str | None
    r0: int
    c0: int
    r1: int
    c1: int


_TOKEN_RE = re.compile(
    r"""\s*(?:
        (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<string>"(?:[^"]|"")*")
      | (?P<qsheet>'(?:[^']|'')+'!)
      | (?P<ident>\$?[A-Za-z_][A-Za-z0-9_.]*\$?[0-9]*!?)
      | (?P<op><=|>=|<>|[-+*/^&=<>%(),:])
    )""",
    re.VERBOSE,
)
_CELL_REF_RE = re.compile(r"^\$?([A-Za-z]{1,3})\$?([0-9]+)$")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError("#ERROR!")
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    return tokens


class _Parser:
    """Recursive-descent evaluator (parses and evaluates in one pass)."""

    def __init__(
        self,
        tokens: list[tuple[str, str]],
        resolve: CellResolver,
        resolve_range: RangeResolver,
    ) -> None:
        self.tokens = tokens
        self.pos = 0
        self.resolve = resolve
        self.resolve_range = resolve_range

    # -- token helpers
    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if tok is None:
            raise FormulaError("#ERROR!")
        self.pos += 1
        return tok

    def accept_op(self, *ops: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok[0] == "op" and tok[1] in ops:
            self.pos += 1
            return tok[1]
        return None

    def expect_op(self, op: str) -> None:
        if self.accept_op(op) is None:
            raise FormulaError("#ERROR!")

    # -- grammar
    def parse(self) -> object:
        value = self.comparison()
        if self.peek() is not None:
            raise FormulaError("#ERROR!")
        return value

    def comparison(self) -> object:
        left = self.concat()
        while op := self.accept_op("=", "<>", "<", ">", "<=", ">="):
            right = self.concat()
            left = _compare(op, self.deref(left), self.deref(right))
        return left

    def concat(self) -> object:
        left = self.additive()
        while self.accept_op("&"):
            right = self.additive()
            left = _text(self.deref(left)) + _text(self.deref(right))
        return left

    def additive(self) -> object:
        left = self.multiplicative()
        while op := self.accept_op("+", "-"):
            right = self.multiplicative()
            a, b = _number(self.deref(left)), _number(self.deref(right))
            left = a + b if op == "+" else a - b
        return left

    def multiplicative(self) -> object:
        left = self.power()
        while op := self.accept_op("*", "/"):
            right = self.power()
            a, b = _number(self.deref(left)), _number(self.deref(right))
            if op == "/":
                if b == 0:
                    raise FormulaError("#DIV/0!")
                left = a / b
            else:
                left = a * b
        return left

    def power(self) -> object:
        left = self.unary()
        while self.accept_op("^"):
            right = self.unary()
            try:
                left = math.pow(_number(self.deref(left)), _number(self.deref(right)))
            except (OverflowError, ValueError) as exc:
                raise FormulaError("#NUM!") from exc
        return left

    def unary(self) -> object:
        if op := self.accept_op("+", "-"):
            value = _number(self.deref(self.unary()))
            return -value if op == "-" else value
        return self.postfix()

    def postfix(self) -> object:
        value = self.primary()
        while self.accept_op("%"):
            value = _number(self.deref(value)) / 100
        return value

    def primary(self) -> object:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1].replace('""', '"')
        if kind == "op" and text == "(":
            value = self.comparison()
            self.expect_op(")")
            return value
        if kind == "qsheet":
            return self.reference(text[1:-2].replace("''", "'"))
        if kind == "ident":
            if text.endswith("!"):
                return self.reference(text[:-1])
            nxt = self.peek()
            if nxt == ("op", "("):
                self.pos += 1
                return self.call(text.upper())
            if text.upper() in {"TRUE", "FALSE"}:
                return text.upper() == "TRUE"
            m = _CELL_REF_RE.match(text)
            if m:
                return self.maybe_range(None, _cell(m))
            raise FormulaError("#NAME?")
        raise FormulaError("#ERROR!")

    def reference(self, sheet: str) -> object:
        kind, text = self.take()
        m = _CELL_REF_RE.match(text) if kind == "ident" else None
        if not m:
            raise FormulaError("#ERROR!")
        return self.maybe_range(sheet, _cell(m))

    def maybe_range(self, sheet: str | None, start: tuple[int, int]) -> object:
        if self.accept_op(":"):
            kind, text = self.take()
            m = _CELL_REF_RE.match(text) if kind == "ident" else None
            if not m:
                raise FormulaError("#ERROR!")
            end = _cell(m)
            r0, r1 = sorted((start[0], end[0]))
            c0, c1 = sorted((start[1], end[1]))
            return _RangeRef(sheet, r0, c0, r1, c1)
        return _Ref(sheet, start[0], start[1])

    def call(self, name: str) -> object:
        args: list[object] = []
        if not self.accept_op(")"):
            while True:
                args.append(self.comparison())
                if self.accept_op(")"):
                    break
                self.expect_op(",")
        func = _FUNCTIONS.get(name)
        if func is None:
            raise FormulaError("#NAME?")
        return func(self, args)

    # -- value access
    def deref(self, value: object) -> Value:
        if isinstance(value, _Ref):
            return self.resolve(value.sheet, value.row, value.col)
        if isinstance(value, _RangeRef):
            raise FormulaError("#VALUE!")
        return value  # type: ignore[return-value]

    def flatten(self, args: list[object]) -> list[Value]:
        out: list[Value] = []
        for arg in args:
            if isinstance(arg, _RangeRef):
                out.extend(self.resolve_range(arg.sheet, arg.r0, arg.c0, arg.r1, arg.c1))
            else:
                out.append(self.deref(arg))
        return out


def _cell(m: re.Match[str]) -> tuple[int, int]:
    return int(m.group(2)) - 1, column_index(m.group(1))


def _number(value: Value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    if value in ERROR_CODES:
        raise FormulaError(str(value))
    try:
        return float(str(value).replace(",", ""))
    except ValueError as exc:
        raise FormulaError("#VALUE!") from exc


def _text(value: Value) -> str:
    if isinstance(value, str) and value in ERROR_CODES:
        raise FormulaError(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return general_number(value)
    return value


def _compare(op: str, a: Value, b: Value) -> bool:
    def key(v: Value) -> tuple[int, object]:
        if v is None:
            return (0, 0.0)
        if isinstance(v, bool):
            return (2, v)
        if isinstance(v, int | float):
            return (0, float(v))
        return (1, v.casefold())

    ka, kb = key(a), key(b)
    if ka[0] != kb[0]:
        ka, kb = (ka[0], 0), (kb[0], 0)
    result = {
        "=": ka == kb,
        "<>": ka != kb,
        "<": ka < kb,  # type: ignore[operator]
        ">": ka > kb,  # type: ignore[operator]
        "<=": ka <= kb,  # type: ignore[operator]
        ">=": ka >= kb,  # type: ignore[operator]
    }
    return result[op]


def _numbers_in(parser: _Parser, args: list[object]) -> list[float]:
    """Numbers for SUM-like functions: ranges contribute numbers only, literals coerce."""
    out: list[float] = []
    for arg in args:
        if isinstance(arg, _RangeRef):
            values = parser.resolve_range(arg.sheet, arg.r0, arg.c0, arg.r1, arg.c1)
        elif isinstance(arg, _Ref):
            values = [parser.deref(arg)]
        else:
            out.append(_number(arg))  # type: ignore[arg-type]
            continue
        for v in values:
            if isinstance(v, str) and v in ERROR_CODES:
                raise FormulaError(v)
            if isinstance(v, int | float) and not isinstance(v, bool):
                out.append(float(v))
    return out


def _fn_sum(p: _Parser, a: list[object]) -> float:
    return float(sum(_numbers_in(p, a)))


def _fn_average(p: _Parser, a: list[object]) -> float:
    nums = _numbers_in(p, a)
    if not nums:
        raise FormulaError("#DIV/0!")
    return sum(nums) / len(nums)


def _fn_min(p: _Parser, a: list[object]) -> float:
    nums = _numbers_in(p, a)
    return min(nums) if nums else 0.0


def _fn_max(p: _Parser, a: list[object]) -> float:
    nums = _numbers_in(p, a)
    return max(nums) if nums else 0.0


def _fn_count(p: _Parser, a: list[object]) -> float:
    return float(
        sum(1 for v in p.flatten(a) if isinstance(v, int | float) and not isinstance(v, bool))
    )


def _fn_counta(p: _Parser, a: list[object]) -> float:
    return float(sum(1 for v in p.flatten(a) if v not in (None, "")))


def _one(p: _Parser, a: list[object], n: int = 1) -> list[Value]:
    if len(a) != n:
        raise FormulaError("#N/A")
    return [p.deref(x) for x in a]


def _fn_len(p: _Parser, a: list[object]) -> float:
    return float(len(_text(_one(p, a)[0])))


def _fn_upper(p: _Parser, a: list[object]) -> str:
    return _text(_one(p, a)[0]).upper()


def _fn_lower(p: _Parser, a: list[object]) -> str:
    return _text(_one(p, a)[0]).lower()


def _fn_trim(p: _Parser, a: list[object]) -> str:
    return " ".join(_text(_one(p, a)[0]).split())


def _fn_concatenate(p: _Parser, a: list[object]) -> str:
    return "".join(_text(v) for v in p.flatten(a))


def _fn_if(p: _Parser, a: list[object]) -> Value:
    if len(a) not in (2, 3):
        raise FormulaError("#N/A")
    cond = p.deref(a[0])
    if _number(cond) != 0:
        return p.deref(a[1])
    return p.deref(a[2]) if len(a) == 3 else False


def _fn_and(p: _Parser, a: list[object]) -> bool:
    return all(_number(v) != 0 for v in p.flatten(a) if v is not None)


def _fn_or(p: _Parser, a: list[object]) -> bool:
    return any(_number(v) != 0 for v in p.flatten(a) if v is not None)


def _fn_not(p: _Parser, a: list[object]) -> bool:
    return _number(_one(p, a)[0]) == 0


def _fn_round(p: _Parser, a: list[object]) -> float:
    if len(a) not in (1, 2):
        raise FormulaError("#N/A")
    x = _number(p.deref(a[0]))
    places = int(_number(p.deref(a[1]))) if len(a) == 2 else 0
    scaled = abs(x) * 10**places
    rounded = math.floor(scaled + 0.5) / 10**places
    return math.copysign(rounded, x)


def _fn_abs(p: _Parser, a: list[object]) -> float:
    return abs(_number(_one(p, a)[0]))


def _fn_int(p: _Parser, a: list[object]) -> float:
    return float(math.floor(_number(_one(p, a)[0])))


def _fn_mod(p: _Parser, a: list[object]) -> float:
    x, y = (_number(v) for v in _one(p, a, 2))
    if y == 0:
        raise FormulaError("#DIV/0!")
    return x - y * math.floor(x / y)


def _fn_date(p: _Parser, a: list[object]) -> float:
    y, m, d = (int(_number(v)) for v in _one(p, a, 3))
    try:
        return to_serial(datetime(y, m, d))
    except ValueError as exc:
        raise FormulaError("#NUM!") from exc


_FUNCTIONS: dict[str, Callable[[_Parser, list[object]], object]] = {
    "SUM": _fn_sum,
    "AVERAGE": _fn_average,
    "MIN": _fn_min,
    "MAX": _fn_max,
    "COUNT": _fn_count,
    "COUNTA": _fn_counta,
    "LEN": _fn_len,
    "UPPER": _fn_upper,
    "LOWER": _fn_lower,
    "TRIM": _fn_trim,
    "CONCATENATE": _fn_concatenate,
    "CONCAT": _fn_concatenate,
    "IF": _fn_if,
    "AND": _fn_and,
    "OR": _fn_or,
    "NOT": _fn_not,
    "ROUND": _fn_round,
    "ABS": _fn_abs,
    "INT": _fn_int,
    "MOD": _fn_mod,
    "DATE": _fn_date,
}


def evaluate_formula(
    formula: str, resolve: CellResolver, resolve_range: RangeResolver
) -> str | float | bool | None:
    """Evaluate ``formula`` (with its leading ``=``); errors come back as their code."""
    body = formula[1:] if formula.startswith("=") else formula
    try:
        tokens = _tokenize(body)
        if not tokens:
            raise FormulaError("#ERROR!")
        parser = _Parser(tokens, resolve, resolve_range)
        result = parser.deref(parser.parse())
    except FormulaError as exc:
        return exc.code
    except RecursionError:
        return "#REF!"
    if isinstance(result, float):
        if not math.isfinite(result):
            return "#NUM!"
        return int(result) if result.is_integer() and abs(result) < 2**53 else result
    return result
