"""受理登记: the generated form, saving, inline errors, likely repeats, instructions, import."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from lib import schema as schema_module
from lib.schema import default_schema
from lib.store import open_store
from lib.ui import forms
from tests.app.conftest import MAY_USE, Portal, no_errors, texts, unexpected_shown

FORM_KEYS = [f.key for f in forms.form_fields(default_schema()["cases"])]


def fill(at, **values):
    """Type values into the intake form by field key."""
    for key, value in values.items():
        wkey = f"intake.{key}"
        if key in ("channel", "region", "domain", "type"):
            at.selectbox(key=wkey).set_value(value)
        elif key == "content":
            at.text_area(key=wkey).input(value)
        elif key == "received_at":
            at.date_input(key=wkey).set_value(value)
        elif key in ("is_first", "confidential"):
            at.checkbox(key=wkey).set_value(value)
        else:
            at.text_input(key=wkey).input(value)
    return at


GOOD = {
    "petitioner": "刘小燕",
    "phone": "13912345678",
    "region": "岳池县",
    "title": "九龙街道老旧小区屋顶漏雨",
    "content": "我家住在九龙街道某小区5栋顶楼，屋顶漏雨半年，物业不管，请领导督促维修。",
}


@pytest.mark.parametrize("role", MAY_USE["intake"])
@pytest.mark.parametrize("register", ["portal", "demo_portal"])
def test_the_form_has_a_widget_for_every_intake_field(role, register, request):
    p: Portal = request.getfixturevalue(register)
    at = p.page(role, "intake")
    no_errors(at)
    assert at.title[0].value == "受理登记"
    keys = {
        w.key
        for kind in ("text_input", "text_area", "selectbox", "date_input", "checkbox")
        for w in at.get(kind)
    }
    assert {f"intake.{k}" for k in FORM_KEYS} <= keys
    # workflow and derived fields are not typed at intake
    assert "intake.status" not in keys and "intake.unit" not in keys
    assert at.date_input(key="intake.received_at").value == dt.date(2026, 3, 20)
    assert at.selectbox(key="intake.channel").value == "人民网领导留言板"
    regions = at.selectbox(key="intake.region").options
    assert "广安区" in regions and "市住房和城乡建设局" not in regions
    assert [tab.label for tab in at.tabs] == ["单件登记", "批量导入"]


def test_saving_a_message_shows_its_id_and_puts_it_in_the_queue(portal: Portal):
    at = portal.page("clerk", "intake")
    fill(at, **GOOD)
    at.button(key="intake.save").click().run()
    no_errors(at)
    case_id = "GA2026-000001"
    assert any(case_id in s for s in texts(at.success))
    assert portal.case(case_id)["title"] == GOOD["title"]
    assert portal.case(case_id)["phone"] == "13912345678"
    # the form is fresh again
    assert at.text_input(key="intake.title").value == ""
    # and the case waits in the bureau's queue
    at.switch_page("pages/tracking.py").run()
    no_errors(at)
    queue = at.dataframe[0].value
    assert case_id in set(queue["case_id"])
    assert "待交办（1）" in [tab.label for tab in at.tabs]


def test_an_invalid_message_shows_errors_keeps_the_input_and_writes_nothing(portal: Portal):
    at = portal.page("clerk", "intake")
    before = {s: portal.count(s) for s in ("cases", "history", "instructions")}
    fill(at, phone="0826-2338612", content="只有内容", id_number="110105194912310021")
    at.button(key="intake.save").click().run()
    assert not at.exception
    errors = " ".join(texts(at.error))
    assert "“留言人”为必填项" in errors
    assert "“标题”为必填项" in errors
    assert "身份证号" in errors  # bad check digit
    # inline, next to the field
    assert any("“标题”为必填项" in c for c in texts(at.caption))
    # what was typed is still there
    assert at.text_input(key="intake.phone").value == "0826-2338612"
    assert at.text_area(key="intake.content").value == "只有内容"
    assert {s: portal.count(s) for s in before} == before
    # correcting the form then saves it
    fill(at, petitioner="王五", title="修好了吗", id_number="11010519491231002X")
    at.button(key="intake.save").click().run()
    no_errors(at)
    assert portal.count("cases") == 1


def test_errors_are_in_english_for_english_users(portal: Portal):
    at = portal.page("clerk", "intake")
    at.session_state["lang"] = "en"
    at.run()
    at.button(key="intake.save").click().run()
    errors = " ".join(texts(at.error))
    assert "“Petitioner” is required" in errors and "“Title” is required" in errors


def test_a_similar_earlier_case_is_suggested_and_linked_in_one_click(portal: Portal):
    original = portal.intake(phone="13800138000", title="小区电梯长期停运", region="广安区")
    at = portal.page("clerk", "intake")
    fill(at, phone="+86 138-0013-8000").run()
    panel = " ".join(texts(at.markdown))
    assert original in panel and "同一电话" in panel
    at.button(key=f"intake.rep.{original}").click().run()
    assert at.text_input(key="intake.repeat_of").value == original
    assert any(original in i for i in texts(at.info))
    fill(
        at, petitioner="张三", title="再次反映电梯停运", content="电梯还是没修好。", region="广安区"
    )
    at.button(key="intake.save").click().run()
    no_errors(at)
    assert portal.case("GA2026-000002")["repeat_of"] == original


def test_similar_text_counts_only_in_the_same_region(portal: Portal):
    original = portal.intake(
        petitioner="赵六",
        phone="13700000000",
        region="广安区",
        title="浓洄街道滨江小区3号楼电梯长期停运",
        content="滨江小区3号楼电梯停运两个月，老人上下楼困难。",
    )
    new = {
        "petitioner": "钱七",
        "phone": "13600000000",
        "title": "滨江小区3号楼电梯长期停运无人维修",
        "content": "滨江小区3号楼电梯停运很久了，老人上下楼困难。",
    }
    at = portal.page("clerk", "intake")
    fill(at, region="广安区", **new).run()
    panel = " ".join(texts(at.markdown))
    assert original in panel and "同区县内容相似" in panel
    fill(at, region="岳池县").run()
    assert original not in " ".join(texts(at.markdown))


def test_a_leaders_instruction_can_be_recorded_at_intake(portal: Portal):
    at = portal.page("clerk", "intake")
    fill(at, **GOOD)
    at.checkbox(key="intake.with_instruction").check().run()
    at.text_input(key="intake.instr.leader").input("市长")
    at.text_area(key="intake.instr.text").input("请岳池县抓紧处理。")
    at.button(key="intake.save").click().run()
    no_errors(at)
    instr = portal.reg.load().instructions
    assert list(instr["case_id"]) == ["GA2026-000001"]
    assert instr["leader"].iloc[0] == "市长"


def test_a_missing_instruction_text_is_an_error_and_nothing_is_written(portal: Portal):
    at = portal.page("clerk", "intake")
    fill(at, **GOOD)
    at.checkbox(key="intake.with_instruction").check().run()
    at.text_input(key="intake.instr.leader").input("市长")
    at.button(key="intake.save").click().run()
    assert "批示内容" in " ".join(texts(at.error))
    assert portal.count("cases") == 0
    assert at.text_input(key="intake.title").value == GOOD["title"]


def test_a_field_added_to_the_yaml_appears_in_the_form(
    portal: Portal, tmp_path, monkeypatch, schema_with_field
):
    folder_schema = schema_with_field(
        tmp_path,
        {
            "key": "ticket_no",
            "header": "工单编号",
            "label_en": "Ticket No.",
            "type": "text",
            "max_length": 30,
        },
    )
    folder = tmp_path / "sheets_schema"
    assert "ticket_no" in folder_schema["cases"].by_key
    monkeypatch.setattr(schema_module, "SCHEMA_DIR", folder)
    default_schema.cache_clear()
    try:
        at = portal.page("clerk", "intake")
        no_errors(at)
        assert at.text_input(key="intake.ticket_no").label == "工单编号"
        fill(at, ticket_no="12345-0001", **GOOD)
        at.button(key="intake.save").click().run()
        no_errors(at)
        # Read it back with the new schema (the store finds the column by its header).
        reread = open_store(os.environ["REGISTER_URL"], schema=folder_schema)
        row = reread.get_row("cases", "GA2026-000001")
        reread.close()
        assert row["ticket_no"] == "12345-0001"
    finally:
        monkeypatch.undo()
        default_schema.cache_clear()


def test_bulk_import_previews_errors_then_imports_the_good_rows(portal: Portal):
    csv = (
        "渠道,登记日期,留言人,联系电话,所属区县,领域,类型,标题,内容\n"
        "12345热线,2026-03-01,甲,13800000001,广安区,城建,投诉,路灯不亮,路灯坏了\n"
        "12345热线,2026-03-02,乙,13800000002,岳池县,交通,求助,公交太少,班次太少\n"
        "12345热线,2026-03-03,丙,13800000003,广安区,城建,投诉,,没有标题\n"
    ).encode()
    at = portal.page("clerk", "intake")
    at.get("file_uploader")[0].upload("old.csv", csv, "text/csv").run()
    no_errors(at)
    summary = " ".join(texts(at.markdown))
    assert "共 3 行：可导入 2 行" in summary and "有错误 1 行" in summary
    assert any("第 4 行" in c and "标题" in c for c in texts(at.caption))
    preview = at.dataframe[0].value
    assert len(preview) == 3
    at.button(key="import.confirm").click().run()
    no_errors(at)
    assert any("导入 2 行" in s for s in texts(at.success))
    assert portal.count("cases") == 2
    # the same file is not offered again
    assert not [b for b in at.button if b.key == "import.confirm"]


@pytest.mark.parametrize("role", ["handler", "supervisor", "leader"])
def test_roles_without_intake_have_no_intake_page(portal: Portal, role):
    at = portal.app(role)
    with pytest.raises(ValueError):
        at.switch_page("pages/intake.py")
    assert not unexpected_shown(at)


def test_an_emptied_required_date_or_choice_is_refilled_with_its_default(portal: Portal):
    at = portal.page("clerk", "intake")
    at.date_input(key="intake.received_at").set_value(None)
    at.selectbox(key="intake.type").set_value(None)
    at.selectbox(key="intake.region").set_value(None)  # required, but no default
    at.run()
    no_errors(at)
    assert at.date_input(key="intake.received_at").value == dt.date(2026, 3, 20)
    assert at.selectbox(key="intake.type").value == "投诉"
    assert at.selectbox(key="intake.region").value is None
