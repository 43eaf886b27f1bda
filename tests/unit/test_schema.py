"""The schema reads cells the way a bureau's staff write them, and says precisely what is wrong.

Every value that reaches the register — typed in a form, pasted in a sheet, read from Excel —
goes through :meth:`Field.parse`: it comes out as a typed value plus canonical text, or as an
error naming the column (its Chinese header), the value and the reason.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd
import pytest

from lib.schema import default_schema, valid_id_number

CASES = default_schema()["cases"]


def parse(key: str, raw, **kw):
    """``(typed, canonical text, error message or None)`` of one cases cell."""
    value, text, err = CASES.field(key).parse(raw, **kw)
    return value, text, err.message() if err else None


# -- dates ---------------------------------------------------------------------------------

MARCH_1 = dt.date(2026, 3, 1)


@pytest.mark.parametrize(
    "raw",
    [
        "2026-03-01",
        "2026-3-1",
        "2026/3/1",
        "2026/03/01",
        "2026.3.1",
        "2026年3月1日",
        "2026 年 3 月 1 日",
        "20260301",
        " 2026-03-01 ",
        "2026-03-01 08:30",  # a date column that got a time
        46082,  # Excel serial number of 2026-03-01, as Excel hands it over
        46082.0,
        46082.75,  # serial with a time of day
        "46082",  # the same serial typed into a sheet
        dt.date(2026, 3, 1),
        dt.datetime(2026, 3, 1, 8, 30),
    ],
)
def test_a_date_is_read_in_every_form_people_write_it(raw):
    assert parse("received_at", raw) == (MARCH_1, "2026-03-01", None)


@pytest.mark.parametrize(
    "raw", ["2026-02-30", "2026年2月30日", "2026/13/1", "2025-02-29", "明天", "3/1/2026", 0, -5]
)
def test_an_impossible_or_unreadable_date_is_an_error_naming_column_and_value(raw):
    value, _, message = parse("received_at", raw)

    assert value is None
    assert "登记日期" in message
    assert str(raw) in message
    assert "日期" in message.replace("登记日期", "", 1), "the reason: not a valid date"


def test_a_leap_day_is_a_real_date():
    assert parse("received_at", "2028-02-29")[1] == "2028-02-29"


def test_an_empty_optional_date_is_empty_not_an_error():
    assert parse("assigned_at", "") == (None, "", None)
    assert parse("assigned_at", None) == (None, "", None)
    assert parse("assigned_at", float("nan")) == (None, "", None)


def test_a_missing_required_value_names_the_column():
    assert parse("received_at", "   ") == (None, "", "“登记日期”为必填项")
    assert parse("title", "") == (None, "", "“标题”为必填项")


# -- ints and bools ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"), [("3", 3), (" 3 ", 3), ("3.0", 3), (3.0, 3), ("05", 5), (30, 30), ("0", 0)]
)
def test_whole_numbers(raw, expected):
    assert parse("extension_days", raw) == (expected, str(expected), None)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("3.5", "不是整数"),
        (3.5, "不是整数"),
        ("三", "不是整数"),
        (True, "不是整数"),
        ("31", "不能大于 30"),
        ("-1", "不能小于 0"),
    ],
)
def test_bad_whole_numbers_are_refused_with_the_reason(raw, reason):
    value, _, message = parse("extension_days", raw)

    assert value is None
    assert "延期天数" in message and reason in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("TRUE", True),
        ("true", True),
        ("是", True),
        ("yes", True),
        ("1", True),
        (True, True),
        ("√", True),
        ("FALSE", False),
        ("否", False),
        ("no", False),
        ("0", False),
        (False, False),
    ],
)
def test_yes_no_values(raw, expected):
    assert parse("is_first", raw) == (expected, "TRUE" if expected else "FALSE", None)


def test_an_unreadable_yes_no_value_is_an_error():
    assert parse("confidential", "也许") == (None, "也许", "“身份保密”的值“也许”应为 是/否")


# -- enums, lengths, patterns, ID numbers --------------------------------------------------


def test_an_enum_accepts_only_its_values_and_lists_them():
    assert parse("channel", "12345热线") == ("12345热线", "12345热线", None)

    _, _, message = parse("channel", "微博")
    assert message.startswith("“渠道”的值“微博”不在可选范围内")
    assert "人民网领导留言板" in message and "来访" in message


def test_an_enum_drawn_from_another_sheet_uses_the_allowed_values():
    assert parse("region", "岳池县", allowed=["广安区", "岳池县"])[2] is None
    assert parse("region", "成都市", allowed=["广安区", "岳池县"])[2] == (
        "“所属区县”的值“成都市”不在可选范围内（广安区、岳池县）"
    )


def test_max_length_counts_characters():
    assert parse("title", "长" * 200)[2] is None

    _, _, message = parse("title", "长" * 201)
    assert "“标题”" in message and "200" in message and "201" in message


def test_text_is_kept_byte_exact():
    for raw in ("  前后空格  ", "0123", "=1+1", "第一行\r\n第二行", "😀𠮷"):
        assert parse("title", raw)[:2] == (raw, raw)


VALID_IDS = [
    "11010519491231002X",  # GB 11643's own example: check digit X
    "511602198503120016",
    "511621200002290032",
    "440304199901011239",
]


@pytest.mark.parametrize("number", VALID_IDS)
def test_valid_resident_id_numbers(number):
    # Check digit by hand for the first: weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2 over
    # 11010519491231002 sum to 167; 167 mod 11 = 2; position 2 of "10X98765432" is X.
    assert valid_id_number(number)
    assert parse("id_number", number) == (number, number, None)


def test_a_lower_case_x_check_digit_is_accepted():
    assert valid_id_number("11010519491231002x")


@pytest.mark.parametrize(
    "number",
    [
        "110105194912310021",  # wrong check digit
        "51160219850312001X",  # X where a digit belongs
        "11010519491231002Y",  # not a check character
        "1101051949123100",  # 16 characters
        "11010519491231002X0",  # 19 characters
        "11010519A91231002X",  # a letter in the body
        "１１０１０５１９４９１２３１００２Ｘ",  # full-width digits
    ],
)
def test_invalid_resident_id_numbers_are_refused(number):
    assert not valid_id_number(number)
    _, _, message = parse("id_number", number)
    assert "身份证号" in message and "校验" in message


@pytest.mark.parametrize("phone", ["013800138000", "+86 138-0013-8000", "(028) 8888-1234", "12345"])
def test_phone_numbers_are_kept_as_written(phone):
    assert parse("phone", phone) == (phone, phone, None)


@pytest.mark.parametrize("phone", ["电话13800138000", "138 0013 8000 转 2", "12"])
def test_a_phone_with_other_characters_is_refused_with_the_hint(phone):
    _, _, message = parse("phone", phone)
    assert "联系电话" in message and "只能包含数字" in message


# Every kind of error, as a clerk fixing a spreadsheet would meet it.
BAD_VALUES = {
    "date": ("received_at", "2026-02-30"),
    "int": ("extension_days", "三天"),
    "int above max": ("extension_days", "45"),
    "int below min": ("extension_days", "-3"),
    "bool": ("is_first", "也许"),
    "enum": ("channel", "微博"),
    "max_length": ("title", "长" * 201),
    "pattern": ("phone", "电话13800138000"),
    "gb11643": ("id_number", "110105194912310021"),
}


@pytest.mark.parametrize(("key", "raw"), BAD_VALUES.values(), ids=BAD_VALUES.keys())
def test_every_error_names_the_column_the_value_and_the_reason(key, raw):
    _, _, err = CASES.field(key).parse(raw)
    header = CASES.field(key).header

    zh = err.message("zh")

    assert err.field == key
    assert f"“{header}”" in zh
    assert err.value and err.value in zh, f"the value {err.value!r} should appear in: {zh}"
    assert len(zh) > len(header) + len(err.value) + 4, "and a reason"


def test_an_english_error_names_the_column_by_its_english_label():
    wrong = {}
    for key, raw in BAD_VALUES.values():
        _, _, err = CASES.field(key).parse(raw)
        en = err.message("en")
        if f"“{CASES.field(key).label_en}”" not in en:
            wrong[key] = en

    assert wrong == {}, "English messages should say “Received on”, not “登记日期”"


# -- typed frames --------------------------------------------------------------------------

# Cell texts of each converted type, canonical and not: typed_frame converts a column once per
# distinct text when texts repeat, which must give what converting each cell alone gives.
TYPED_TEXTS = {
    "received_at": [
        "2026-03-01",
        "",
        "2026/3/1",
        "2026年3月1日",
        "garbage",
        "2026-02-30",
        " 2026-03-01",
    ],
    "is_first": ["TRUE", "FALSE", "", "是", "否", " Yes ", "也许", "1.0"],
    "extension_days": ["1", "", "15", "-3", "1.0", "1.5", "abc", "007", "99999999999999999999"],
    "version": ["1", "2", "", "10", "9007199254740993"],
    "updated_at": [
        "2026-03-01T10:00:00+08:00",
        "",
        "2026-03-02T11:30:00+08:00",
        "bad",
        "2026-03-03 09:15",  # typed by hand into a shared sheet
        "2026/3/4 08:00:00",
        "2026-03-05T10:00:00",
    ],
}


def test_a_typed_frame_converts_each_cell_as_it_would_alone():
    n = 80  # enough rows, and few enough distinct texts, for the once-per-text conversion
    raw = pd.DataFrame(
        {
            "_row": range(n),
            **{
                key: list(itertools.islice(itertools.cycle(texts[i:] + texts[:i]), n))
                for i, (key, texts) in enumerate(TYPED_TEXTS.items())
            },
            "title": [f"第{i}件" for i in range(n)],
        },
        dtype=object,
    ).set_index(pd.RangeIndex(1000, 1000 + n))

    typed = CASES.typed_frame(raw)
    alone = pd.concat([CASES.typed_frame(raw.iloc[[i]]) for i in range(n)])

    pd.testing.assert_frame_equal(typed, alone)
    assert typed["received_at"].dtype == "datetime64[ns]"
    assert typed.loc[1000, "received_at"] == pd.Timestamp("2026-03-01")
    assert typed["is_first"].dtype == "boolean" and typed["version"].dtype == "Int64"
    assert isinstance(typed["updated_at"].dtype, pd.DatetimeTZDtype)
    assert typed["title"].dtype == object


def test_hand_typed_date_times_and_huge_counts_are_read_whatever_comes_first():
    # pandas takes a date-time column's format from its first value: cells written another
    # way became NaT, or not, depending on which row came first. A count too big for a
    # float failed the whole column, so the whole register could not be read.
    texts = ["2026-03-01T10:00:00+08:00", "2026-03-03 09:15", "2026/3/4 08:00:00", "bad", ""]
    for order in (texts, texts[::-1]):
        raw = pd.DataFrame(
            {"_row": range(len(order)), "updated_at": order, "version": ["1"] * len(order)},
            dtype=object,
        )
        raw.loc[0, "version"] = "99999999999999999999"
        typed = CASES.typed_frame(raw).set_index(pd.Index(order))
        assert typed.loc["2026-03-03 09:15", "updated_at"] == pd.Timestamp("2026-03-03 09:15Z")
        assert typed.loc["2026/3/4 08:00:00", "updated_at"] == pd.Timestamp("2026-03-04 08:00Z")
        assert typed.loc["2026-03-01T10:00:00+08:00", "updated_at"] == pd.Timestamp(
            "2026-03-01 02:00Z"
        )
        assert typed["updated_at"].isna().sum() == 2
        assert typed["version"].isna().tolist() == [True] + [False] * (len(order) - 1)


# -- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "登记日期",
        "received_at",
        "Received on",
        "received on",
        "RECEIVED_AT",
        " 登记日期 ",
        "*登记日期",
        "登记 日期",
    ],
)
def test_resolve_header_accepts_chinese_header_english_key_and_english_label(header):
    assert CASES.resolve_header(header) == "received_at"


def test_unknown_headers_are_people_s_own_columns():
    assert CASES.resolve_header("备注") is None
    assert CASES.resolve_header(None) is None


def test_map_headers_finds_columns_by_name_in_any_order():
    assert CASES.map_headers(["备注", "标题", "case_id", "Petitioner", "标题"]) == {
        1: "title",
        2: "case_id",
        3: "petitioner",
    }


def test_parse_row_fills_defaults_and_reports_every_bad_field():
    typed, text, errors = CASES.parse_row(
        {"received_at": "2026-02-30", "petitioner": "张三", "title": "", "content": "内容"},
        skip_derived=True,
    )

    assert text["channel"] == "人民网领导留言板" and text["is_first"] == "TRUE"
    assert text["confidential"] == "FALSE" and typed["extension_days"] == 0
    assert {e.field for e in errors} == {"received_at", "title"}
    assert "status" not in text, "derived fields are skipped on request"


# -- a field added to the YAML -------------------------------------------------------------

NEW_FIELD = {
    "key": "hotline_ticket",
    "header": "工单编号",
    "label_en": "Hotline ticket",
    "type": "text",
    "required": True,
    "max_length": 20,
}


def test_a_field_added_to_the_yaml_appears_everywhere(tmp_path, schema_with_field):
    cases = schema_with_field(tmp_path, NEW_FIELD)["cases"]

    assert cases.headers[-1] == "工单编号"
    assert cases.resolve_header("工单编号") == "hotline_ticket"
    assert cases.resolve_header("Hotline ticket") == "hotline_ticket"
    assert "hotline_ticket" in cases.empty_row()

    _, _, errors = cases.parse_row({"received_at": "2026-03-01"})
    assert "“工单编号”为必填项" in [e.message() for e in errors]
    _, text, errors = cases.parse_row({"hotline_ticket": "0012345"})
    assert "hotline_ticket" not in {e.field for e in errors}
    assert text["hotline_ticket"] == "0012345"

    # The project's own schema is untouched.
    assert "hotline_ticket" not in default_schema()["cases"].keys


def test_a_new_field_s_default_fills_the_empty_row(tmp_path, schema_with_field):
    field = {
        "key": "urgent",
        "header": "加急",
        "label_en": "Urgent",
        "type": "bool",
        "default": True,
    }
    cases = schema_with_field(tmp_path, field)["cases"]

    assert cases.empty_row()["urgent"] == "TRUE"
    assert cases.parse_row({"urgent": "否"})[1]["urgent"] == "FALSE"


def test_a_schema_with_an_unknown_type_is_refused(tmp_path, schema_with_field):
    with pytest.raises(ValueError, match=r"cases\.yaml"):
        schema_with_field(
            tmp_path, {"key": "x", "header": "某列", "label_en": "X", "type": "money"}
        )


def test_a_count_too_big_for_the_typed_register_is_refused_and_reported():
    version = CASES.by_key["version"]
    assert version.parse("9007199254740991")[:2] == (9007199254740991, "9007199254740991")
    value, _, err = version.parse("9007199254740993")
    assert value is None and err is not None and err.code == "err.int_too_big"
    assert version.parse(1e20)[2].code == "err.int_too_big"  # a number cell of a spreadsheet
    assert version.parse(12.0)[:2] == (12, "12")
    assert "过大" in err.message("zh")
    raw = pd.DataFrame(
        {"version": ["1", "9007199254740993", "-99999999999999999999", "12"]}, dtype=object
    )
    bad = [(pos, e.code) for pos, e in CASES.bad_cells(raw) if e.field == "version"]
    assert bad == [(1, "err.int_too_big"), (2, "err.int_too_big")]
