"""系统管理: units, accounts, settings, data health, the full backup, the demo reset — for the
administrator only; every change through the service layer, with history."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from lib import auth
from lib.store.base import Changeset, Update
from lib.ui import context, demo_reset
from tests.app.conftest import ROLES, Portal, no_errors, texts, user

PAGE = "pages/admin.py"
TABS = ["承办单位", "账号", "参数设置", "数据检查", "完整备份"]


def admin_page(portal: Portal, tab: str | None = None):
    at = portal.page("admin", PAGE)
    if tab:
        at.session_state["adm.tabs"] = tab
        at.run()
    return at


def table(at) -> pd.DataFrame:
    return at.dataframe[0].value


def hist(portal: Portal, action: str) -> list[dict]:
    frame = portal.reg.store.read(["history"])["history"]
    return frame[frame["action"] == action].to_dict("records")


# --- who -------------------------------------------------------------------------------------


def test_the_admin_sees_every_tab_on_an_empty_register(portal: Portal):
    at = admin_page(portal)
    no_errors(at)
    assert at.title[0].value == "系统管理"
    assert [t.label for t in at.tabs] == TABS  # no demo tab outside demo mode
    assert list(table(at)["name"]) == ["广安区", "岳池县", "市住房和城乡建设局"]
    for tab in TABS[1:]:
        at = admin_page(portal, tab)
        no_errors(at)


def test_the_admin_on_a_demo_register(demo_portal: Portal):
    at = admin_page(demo_portal)
    no_errors(at)
    units = demo_portal.reg.load().units
    assert len(table(at)) == len(units)
    for tab in TABS[1:]:
        at = admin_page(demo_portal, tab)
        no_errors(at)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_other_roles_do_not_get_the_page(portal: Portal, role):
    at = portal.app(role)
    with pytest.raises(ValueError):
        at.switch_page(PAGE)


# --- units -----------------------------------------------------------------------------------


def test_add_a_unit(portal: Portal):
    at = admin_page(portal)
    k = "adm.unit.__new__."
    at.text_input(key=k + "name").input("邻水县")
    at.selectbox(key=k + "kind").select("区市县")
    at.text_input(key=k + "contact").input("陈主任")
    at.text_input(key=k + "phone").input("0826-1234567")
    at.button(key=k + "submit").click().run()
    no_errors(at)
    assert "已保存单位“邻水县”" in texts(at.success)
    row = portal.reg.store.get_row("units", "邻水县")
    assert (row["kind"], row["contact"], row["phone"], row["active"]) == (
        "区市县",
        "陈主任",
        "0826-1234567",
        "TRUE",
    )
    assert "邻水县" in set(table(at)["name"])
    assert any(h["new"] == "邻水县" for h in hist(portal, "manage_units"))


def test_deactivate_a_unit(portal: Portal):
    at = admin_page(portal)
    at.selectbox(key="adm.unit.pick").select("岳池县").run()
    k = "adm.unit.岳池县."
    assert at.text_input(key=k + "name").disabled
    at.checkbox(key=k + "active").uncheck()
    at.button(key=k + "submit").click().run()
    no_errors(at)
    assert portal.reg.store.get_row("units", "岳池县")["active"] == "FALSE"
    changes = [h for h in hist(portal, "manage_units") if h["field"] == "units.岳池县.active"]
    assert changes and (changes[-1]["old"], changes[-1]["new"]) == ("TRUE", "FALSE")


def test_a_unit_name_twice_or_missing_is_refused(portal: Portal):
    at = admin_page(portal)
    k = "adm.unit.__new__."
    at.text_input(key=k + "name").input("广安区")
    at.button(key=k + "submit").click().run()
    assert "单位“广安区”已存在，请在上方选择它进行修改。" in texts(at.error)
    before = portal.count("units")
    at.text_input(key=k + "name").input("")
    at.button(key=k + "submit").click().run()
    assert not at.exception and at.error
    assert "单位名称" in texts(at.error)[0]
    assert portal.count("units") == before


# --- users -----------------------------------------------------------------------------------


def test_the_account_list_never_shows_password_hashes(portal: Portal):
    at = admin_page(portal, "账号")
    no_errors(at)
    shown = table(at)
    assert "password_hash" not in shown.columns
    assert set(shown["username"]) >= {"admin1", "clerk1", "sup1"}
    assert not any(str(v).startswith("scrypt$") for v in shown.astype(str).to_numpy().ravel())


def test_add_a_handler_gets_a_one_time_password(portal: Portal):
    at = admin_page(portal, "账号")
    k = "adm.user.__new__."
    at.text_input(key=k + "username").input("ls_handler")
    at.text_input(key=k + "display_name").input("吴承办")
    at.selectbox(key=k + "role").select("handler")
    at.button(key=k + "submit").click().run()
    assert "承办人至少要有一个所属单位。" in texts(at.error)
    assert portal.reg.store.get_row("users", "ls_handler") is None
    at.multiselect(key=k + "units").select("岳池县")
    at.button(key=k + "submit").click().run()
    no_errors(at)
    assert "已保存账号“ls_handler”" in texts(at.success)
    note = next(i for i in texts(at.info) if "一次性密码" in i)
    password = note.split("一次性密码：")[1].split(" ")[0]
    row = portal.reg.store.get_row("users", "ls_handler")
    assert (row["role"], row["units"], row["must_change_password"]) == ("handler", "岳池县", "TRUE")
    assert auth.verify_password(password, row["password_hash"])
    assert password not in " ".join(str(v) for v in table(at).to_numpy().ravel())


def test_change_a_role_and_disable_an_account(portal: Portal):
    at = admin_page(portal, "账号")
    at.selectbox(key="adm.user.pick").select("clerk1").run()
    k = "adm.user.clerk1."
    at.selectbox(key=k + "role").select("supervisor")
    at.checkbox(key=k + "active").uncheck()
    at.button(key=k + "submit").click().run()
    no_errors(at)
    row = portal.reg.store.get_row("users", "clerk1")
    assert (row["role"], row["active"]) == ("supervisor", "FALSE")


def test_an_admin_cannot_lock_themselves_out(portal: Portal):
    at = admin_page(portal, "账号")
    at.selectbox(key="adm.user.pick").select("admin1").run()
    k = "adm.user.admin1."
    at.selectbox(key=k + "role").select("clerk")
    at.button(key=k + "submit").click().run()
    assert "不能停用自己的账号，也不能取消自己的系统管理员角色。" in texts(at.error)
    assert portal.reg.store.get_row("users", "admin1")["role"] == "admin"


def test_reset_a_password(portal: Portal):
    at = admin_page(portal, "账号")
    at.selectbox(key="adm.user.pick").select("sup1").run()
    at.button(key="adm.user.sup1.reset").click().run()
    no_errors(at)
    note = next(i for i in texts(at.info) if "一次性密码" in i)
    password = note.split("一次性密码：")[1].split(" ")[0]
    row = portal.reg.store.get_row("users", "sup1")
    assert auth.verify_password(password, row["password_hash"])
    assert row["must_change_password"] == "TRUE"


# --- settings --------------------------------------------------------------------------------


def setting_key(at, key: str) -> str:
    return next(
        w.key
        for w in [*at.number_input, *at.selectbox, *at.text_input]
        if w.key and w.key.startswith("adm.set.") and w.key.endswith("." + key)
    )


def test_every_setting_is_on_the_form(portal: Portal):
    at = admin_page(portal, "参数设置")
    no_errors(at)
    defaults = portal.reg.schema["settings"].defaults
    labels = [w.label for w in [*at.number_input, *at.selectbox, *at.text_input]]
    for d in defaults.values():
        assert d["label"] in labels
    assert at.number_input(key=setting_key(at, "refresh_seconds")).value == 60
    assert at.selectbox(key=setting_key(at, "accept_day_kind")).value == "calendar"


def test_change_settings(portal: Portal):
    at = admin_page(portal, "参数设置")
    at.number_input(key=setting_key(at, "refresh_seconds")).set_value(30)
    at.selectbox(key=setting_key(at, "accept_day_kind")).select("working")
    at.number_input(key=setting_key(at, "due_soon_days")).set_value(5)
    at.button(key="adm.settings.submit").click().run()
    no_errors(at)
    assert any(s.startswith("已保存 3 项参数") for s in texts(at.success))
    settings = portal.reg.settings()
    assert (
        settings["refresh_seconds"],
        settings["accept_day_kind"],
        settings["due_soon_days"],
    ) == ("30", "working", "5")
    assert len(hist(portal, "settings")) == 3
    # the form now shows the saved values
    assert at.number_input(key=setting_key(at, "refresh_seconds")).value == 30


def test_a_bad_setting_is_refused_clearly_and_the_rest_saved(portal: Portal):
    at = admin_page(portal, "参数设置")
    at.text_input(key=setting_key(at, "timezone")).input("Mars/Olympus")
    at.text_input(key=setting_key(at, "quarter_month_weights")).input("1,abc")
    at.number_input(key=setting_key(at, "handle_days")).set_value(45)
    at.button(key="adm.settings.submit").click().run()
    assert not at.exception
    errors = texts(at.error)
    assert any("时区" in e and "Mars/Olympus" in e for e in errors)
    assert any("季度考核月份权重" in e for e in errors)
    assert any("已保存 1 项参数" in s for s in texts(at.success))
    settings = portal.reg.settings()
    assert settings["timezone"] == "Asia/Shanghai" and settings["quarter_month_weights"] == ""
    assert settings["handle_days"] == "45"


def test_nothing_changed(portal: Portal):
    at = admin_page(portal, "参数设置")
    at.button(key="adm.settings.submit").click().run()
    assert "参数没有变化。" in texts(at.info)


# --- data health -----------------------------------------------------------------------------


def test_a_healthy_register(demo_portal: Portal):
    at = admin_page(demo_portal, "数据检查")
    no_errors(at)
    assert any(s.startswith("未发现问题") for s in texts(at.success))


def test_problems_are_listed_with_links_to_their_cases(portal: Portal):
    case_id = portal.intake()
    cs = Changeset()
    cs.updates.append(Update("cases", case_id, {"domain": "外星"}, expected_version=1))
    portal.reg.store.commit(cs)  # a hand edit in the sheet, past the service layer
    at = admin_page(portal, "数据检查")
    no_errors(at)
    assert any(w.startswith("发现 1 个问题") for w in texts(at.warning))
    shown = at.dataframe[0].value
    assert list(shown.columns) == ["表", "行", "编号", "列", "值", "问题"]
    assert (shown.iloc[0]["编号"], shown.iloc[0]["列"], shown.iloc[0]["值"]) == (
        case_id,
        "领域",
        "外星",
    )
    links = at.get("page_link")
    assert any(case_id in str(link.proto.label) for link in links)
    assert any("case=" + case_id in str(link.proto.query_string) for link in links)


# --- backup ----------------------------------------------------------------------------------


def test_the_full_backup_has_every_sheet_as_text(portal: Portal, downloads):
    risky = portal.intake(title='=HYPERLINK("http://x")', phone="0086-138 0013 8000")
    at = admin_page(portal, "完整备份")
    no_errors(at)
    name = next(n for n in downloads if n.startswith("backup-"))
    assert name == "backup-2026-03-20.xlsx"
    wb = openpyxl.load_workbook(io.BytesIO(downloads[name]()))
    schema = portal.reg.schema
    assert wb.sheetnames == [schema[n].title for n in schema.names]
    for name in schema.names:
        ws = wb[schema[name].title]
        headers = [c.value for c in ws[1]]
        want = [f.header for f in schema[name].fields if not f.secret]
        assert headers == want, name
        for row in ws.iter_rows(min_row=2):
            for c in row:
                assert c.value is None or c.data_type == "s", (name, c.coordinate, c.value)
    assert "密码哈希" not in [c.value for c in wb["账号"][1]]
    cases = wb["案件"]
    head = [c.value for c in cases[1]]
    rows = {r[head.index("案件编号")]: r for r in cases.iter_rows(min_row=2, values_only=True)}
    assert rows[risky][head.index("标题")] == '=HYPERLINK("http://x")'
    assert rows[risky][head.index("联系电话")] == "0086-138 0013 8000"
    assert rows[risky][head.index("登记日期")] == "2026-03-02"
    assert len(list(wb["账号"].iter_rows(min_row=2))) == portal.count("users")
    assert any(h["field"] == "cases" for h in hist(portal, "export"))


# --- demo ------------------------------------------------------------------------------------


@pytest.fixture
def demo_file(demo_portal: Portal, app_env: Path, monkeypatch) -> Portal:
    """The demo portal in demo mode, its register file taken for the demo file."""
    monkeypatch.setenv("LIUYAN_DEMO", "1")
    monkeypatch.setattr(demo_reset, "DEMO_PATH", app_env)
    monkeypatch.setattr(context, "DEMO_CASES", 60)
    return demo_portal


@pytest.mark.sqlite_only  # the demo register is the embedded file data/demo.db
def test_the_demo_register_is_recreated_and_the_old_one_kept(demo_file: Portal, app_env: Path):
    old_cases = demo_file.count("cases")
    at = admin_page(demo_file, "演示数据")
    no_errors(at)
    assert [t.label for t in at.tabs][-1] == "演示数据"
    assert at.button(key="adm.demo.reset").disabled
    at.checkbox(key="adm.demo.sure").check().run()
    at.button(key="adm.demo.reset").click().run()
    no_errors(at)
    done = next(s for s in texts(at.success) if s.startswith("演示台账已重建"))
    assert "60 件案件" in done
    assert demo_file.count("cases") == 60
    backups = sorted((app_env.parent / demo_reset.BACKUP_DIR).glob("*.db"))
    assert len(backups) == 1 and backups[0].name in done
    from lib.store.sqlite import SQLiteStore

    old = SQLiteStore(backups[0])
    assert len(old.read(["cases"])["cases"]) == old_cases
    old.close()
    # the app goes on with the new register; whoever reset it is still there
    assert demo_file.reg.store.get_row("users", "admin1")["role"] == "admin"
    at = demo_file.page("admin", "pages/board.py")
    no_errors(at)


def test_no_demo_reset_outside_demo_mode_or_on_another_file(demo_portal: Portal, monkeypatch):
    monkeypatch.setenv("LIUYAN_DEMO", "1")  # demo mode, but the register is not data/demo.db
    at = admin_page(demo_portal, "演示数据")
    no_errors(at)
    assert any("仅在演示模式下" in i for i in texts(at.info))
    assert not [b for b in at.button if b.key == "adm.demo.reset"]
    with pytest.raises(ValueError):
        demo_reset.reset_demo(demo_portal.reg, user("admin"), cases=5, seed=1)
