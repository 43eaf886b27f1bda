"""The emulator's building blocks: A1 ranges, USER_ENTERED parsing, rendering, formulas."""

from __future__ import annotations

import pytest

from tests.fakes.sheets_a1 import (
    RangeParseError,
    column_index,
    column_letters,
    format_range,
    parse_range,
    quote_title,
)
from tests.fakes.sheets_cells import (
    FORMATTED_STRING,
    FORMATTED_VALUE,
    FORMULA,
    SERIAL_NUMBER,
    UNFORMATTED_VALUE,
    Cell,
    CellInputError,
    raw_cell,
    render_cell,
    user_entered_cell,
)
from tests.fakes.sheets_formula import evaluate_formula


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("'案件'!A1:Z", ("案件", 0, 0, None, 25)),
        ("Sheet1!B2", ("Sheet1", 1, 1, 1, 1)),
        ("'It''s'!A:C", ("It's", 0, 0, None, 2)),
        ("'案件'!A1:1", ("案件", 0, 0, 0, None)),
        ("'案件'!3:5", ("案件", 2, 0, 4, None)),
        ("'案件'!D4:A1", ("案件", 0, 0, 3, 3)),
        ("A1:B2", (None, 0, 0, 1, 1)),
        ("'案件'", ("案件", None, None, None, None)),
        ("案件", ("案件", None, None, None, None)),
    ],
)
def test_parse_range(text: str, expected: tuple[object, ...]) -> None:
    rng = parse_range(text, ["案件", "Sheet1"])
    assert (rng.sheet, rng.start_row, rng.start_col, rng.end_row, rng.end_col) == expected


@pytest.mark.parametrize("text", ["Sheet2", "A1:B2:C3", "'open", "A:1", "AAAA1"])
def test_unparseable_ranges(text: str) -> None:
    with pytest.raises(RangeParseError):
        parse_range(text, ["Sheet1"])


def test_columns_and_titles() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]
    assert column_index("zz") == 701
    assert [quote_title(t) for t in ("Sheet1", "D3", "案件", "my sheet", "R1C1")] == [
        "Sheet1",
        "'D3'",
        "'案件'",
        "'my sheet'",
        "'R1C1'",
    ]
    assert format_range("Sheet1", 0, 0, 0, 0) == "Sheet1!A1"


@pytest.mark.parametrize(
    ("typed", "formatted", "unformatted"),
    [
        ("0042", "42", 42),
        ("-3.50", "-3.5", -3.5),
        ("2,000,000.01", "2,000,000.01", 2000000.01),
        ("12%", "12%", 0.12),
        ("12.5%", "12.50%", 0.125),
        ("$1,234.5", "$1,234.50", 1234.5),
        ("1e3", "1.00E+03", 1000),
        ("2026-01-01", "2026-01-01", 46023),
        ("2026/1/1", "2026/01/01", 46023),
        ("1/2/2026", "1/2/2026", 46024),
        ("2026-01-01 08:30", "2026-01-01 8:30:00", 46023.354166666664),
        ("14:30", "2:30:00 PM", 0.6041666666666666),
        ("true", "TRUE", True),
        ("'0042", "0042", "0042"),
        ("2026-02-30", "2026-02-30", "2026-02-30"),
        ("138-0013-8000", "138-0013-8000", "138-0013-8000"),
        ("+86 138", "#ERROR!", "#ERROR!"),
        ("=1+1", "2", 2),
        ("=SUM(1,2)/0", "#DIV/0!", "#DIV/0!"),
        ("=NOSUCH(1)", "#NAME?", "#NAME?"),
    ],
)
def test_user_entered_parsing_and_rendering(
    typed: str, formatted: object, unformatted: object
) -> None:
    cell = user_entered_cell(typed)
    assert cell is not None

    def evaluate(formula: str) -> object:
        return evaluate_formula(formula, lambda *_: None, lambda *_: [])

    assert render_cell(cell, FORMATTED_VALUE, SERIAL_NUMBER, evaluate) == formatted  # type: ignore[arg-type]
    assert render_cell(cell, UNFORMATTED_VALUE, SERIAL_NUMBER, evaluate) == unformatted  # type: ignore[arg-type]


def test_dates_follow_datetime_render_option() -> None:
    cell = user_entered_cell("2026-01-01")
    assert cell is not None
    never = lambda _: None  # noqa: E731

    assert render_cell(cell, UNFORMATTED_VALUE, FORMATTED_STRING, never) == "2026-01-01"
    assert render_cell(cell, FORMULA, SERIAL_NUMBER, never) == 46023


def test_raw_input_keeps_types_and_clears_on_empty() -> None:
    assert raw_cell("=1+1") == Cell(value="=1+1")
    assert raw_cell(12.5) == Cell(value=12.5)
    assert raw_cell(False) == Cell(value=False)
    assert raw_cell("") is None
    with pytest.raises(CellInputError, match="maximum of 50000 characters"):
        raw_cell("x" * 50_001)
    with pytest.raises(CellInputError, match="Invalid values"):
        raw_cell({"nested": True})


@pytest.mark.parametrize(
    ("formula", "result"),
    [
        ("= 1 / 1024", 0.0009765625),
        ("=-2^2", 4),
        ("=(1+2)*3", 9),
        ("=A1*2", 20),
        ("=SUM(A1:B2)", 33),
        ('=A1&"件"', "10件"),
        ('=IF(A1>5,"多","少")', "多"),
        ("=B1", ""),
        ("=ROUND(2.5)", 3),
        ("=1+", "#ERROR!"),
    ],
)
def test_formulas(formula: str, result: object) -> None:
    cells = {(0, 0): 10.0, (1, 0): 3.0, (1, 1): 20.0}

    def resolve(_sheet: str | None, r: int, c: int) -> object:
        return cells.get((r, c))

    def resolve_range(_sheet: str | None, r0: int, c0: int, r1: int, c1: int) -> list[object]:
        return [cells.get((r, c)) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]

    value = evaluate_formula(formula, resolve, resolve_range)  # type: ignore[arg-type]
    assert (value if value is not None else "") == result
