"""Accounts, masking of personal data and password hashes (SPEC §1)."""

from __future__ import annotations

import pandas as pd
import pytest

from lib.auth import (
    LOCAL_ADMIN,
    User,
    can_see_pii,
    hash_password,
    mask_cases,
    mask_row,
    mask_text,
    require,
    user_from_row,
    verify_password,
)
from lib.i18n import DomainError
from lib.schema import default_schema

CASES = default_schema()["cases"]

# -- masking -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "masked"),
    [
        ("phone", "13800000000", "138****0000"),
        ("phone", "13800138000", "138****8000"),
        ("phone", "013800138000", "013****8000"),
        ("phone", "+86 138-0013-8000", "+86****8000"),
        ("phone", "12345", "*****"),
        ("petitioner", "张三", "张*"),
        ("petitioner", "欧阳娜娜", "欧***"),
        ("petitioner", "张", "张*"),
        ("petitioner", "热心市民", "热***"),
        ("id_number", "11010519491231002X", "110105********002X"),
        ("id_number", "123456", "******"),
        ("phone", "", ""),
    ],
)
def test_masking_formats(key, value, masked):
    assert mask_text(key, value) == masked


def test_masking_leaves_missing_values_missing():
    assert mask_text("phone", None) is None
    assert mask_text("phone", pd.NA) is pd.NA


def test_a_masked_value_never_contains_the_hidden_middle():
    for key, value in [("phone", "13812345678"), ("id_number", "511602198503120016")]:
        assert "1234" not in mask_text(key, value)[3:-4]
        assert "19850312" not in mask_text(key, value)


GA_HANDLER = User("ga", "赵承办", "handler", frozenset({"广安区"}))
CASE = {
    "case_id": "GA2026-000001",
    "unit": "广安区",
    "petitioner": "张三",
    "phone": "13800138000",
    "id_number": "11010519491231002X",
    "title": "小区电梯停运",
    "confidential": "FALSE",
}


@pytest.mark.parametrize(
    ("user", "case", "full"),
    [
        (User("a", "管理员", "admin"), CASE, True),
        (User("c", "受理员", "clerk"), {**CASE, "confidential": "TRUE"}, True),
        (GA_HANDLER, CASE, True),
        (GA_HANDLER, {**CASE, "confidential": "TRUE"}, False),
        (GA_HANDLER, {**CASE, "unit": "岳池县"}, False),
        (User("s", "督办员", "supervisor"), CASE, False),
        (User("l", "领导", "leader"), CASE, False),
    ],
    ids=[
        "admin",
        "clerk on a confidential case",
        "own handler",
        "own handler, confidential",
        "other unit's handler",
        "supervisor",
        "leader",
    ],
)
def test_who_sees_personal_data_in_full(user, case, full):
    assert can_see_pii(user, case) is full
    shown = mask_row(user, case, CASES)
    assert (shown["phone"] == "13800138000") is full
    assert (shown["petitioner"] == "张三") is full
    assert shown["title"] == "小区电梯停运", "only personal data is masked"


def test_mask_cases_masks_only_the_rows_the_user_may_not_see():
    frame = pd.DataFrame(
        [CASE, {**CASE, "case_id": "GA2026-000002", "confidential": "TRUE"}]
    ).assign(confidential=[False, True])

    shown = mask_cases(GA_HANDLER, frame, CASES)

    assert list(shown["phone"]) == ["13800138000", "138****8000"]
    assert list(shown["petitioner"]) == ["张三", "张*"]
    assert list(frame["phone"]) == ["13800138000", "13800138000"], "the input is not changed"


# -- permissions ---------------------------------------------------------------------------


def test_the_local_administrator_may_do_everything():
    for action in ("intake", "accept", "evaluate", "escalate", "manage_users", "migrate"):
        require(LOCAL_ADMIN, action, CASE)


def test_a_refusal_names_the_role_and_the_action():
    with pytest.raises(DomainError) as caught:
        require(User("l", "领导", "leader"), "assign")

    assert caught.value.key == "err.forbidden"
    assert "领导" in str(caught.value)


def test_a_handler_may_not_act_on_another_unit_s_case():
    with pytest.raises(DomainError) as caught:
        require(GA_HANDLER, "accept", {**CASE, "unit": "岳池县"})

    assert caught.value.key == "err.not_your_unit"
    assert "GA2026-000001" in str(caught.value)


# -- passwords -----------------------------------------------------------------------------


def test_a_password_verifies_against_its_hash():
    stored = hash_password("正确的密码 correct horse")

    assert verify_password("正确的密码 correct horse", stored)
    assert not verify_password("正确的密码 correct hors", stored)
    assert not verify_password("", stored)


def test_hashes_are_salted_and_never_contain_the_password():
    first, second = hash_password("s3cret!"), hash_password("s3cret!")

    assert first != second
    assert "s3cret!" not in first
    assert first.startswith("scrypt$")
    assert verify_password("s3cret!", first) and verify_password("s3cret!", second)


@pytest.mark.parametrize(
    "stored", ["", "plain-text", "md5$abc", "scrypt$1$2$3$!!$??", "scrypt$x$8$1$AAAA$AAAA"]
)
def test_a_malformed_stored_hash_never_verifies(stored):
    assert verify_password("anything", stored) is False


# -- accounts from the users sheet ---------------------------------------------------------


def test_user_from_row_reads_role_and_units():
    user = user_from_row(
        {"username": "ga", "display_name": "赵承办", "role": "handler", "units": "广安区, 岳池县"}
    )

    assert user == User("ga", "赵承办", "handler", frozenset({"广安区", "岳池县"}))
    assert user.owns("岳池县") and not user.owns("前锋区") and not user.owns("")


def test_user_from_row_accepts_a_chinese_comma_and_missing_values():
    user = user_from_row(
        {"username": "yc", "display_name": "", "role": "handler", "units": "岳池县，武胜县,"}
    )

    assert user.units == frozenset({"岳池县", "武胜县"})
    assert user.display_name == "yc", "the username stands in for a missing name"
    assert user_from_row({"username": "boss", "role": "leader", "units": None}).units == frozenset()


def test_user_labels_say_the_role():
    assert User("c", "李受理", "clerk").label() == "李受理（受理员）"
