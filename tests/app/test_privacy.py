"""Privacy (SPEC §1): nobody sees what is not theirs — on every page, in every export, in the CLI.

* Unit isolation: a handler of 广安区 (unit A), on a register with cases of 广安区 and 岳池县
  (unit B) and an unassigned one, opens every page of the navigation table (those of other
  roles must refuse), every download those pages offer, a ``?case=`` address of unit B, and the
  CLI's exports as ``--as`` that handler: no case id, title, name, phone, leader's note or figure
  of unit B appears — in the rendered elements (text, tables, charts' data) or in the files.
* Masking: each role sees exactly the personal data SPEC §1 allows — in the tracking table,
  the case detail, the exported file, chart data and the daily digest.

New pages are covered by adding their row to ``lib/ui/nav.py``: the tests walk that table.
"""

from __future__ import annotations

import io
import os
import zipfile

import pandas as pd
import pytest
from google.protobuf import text_format
from google.protobuf.descriptor import FieldDescriptor
from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
from streamlit.testing.v1 import AppTest

from lib import cli
from lib.digest import daily_digest
from lib.ui import nav
from tests.app.conftest import Portal, texts, user

WIDGETS = {
    "Button",
    "ButtonGroup",
    "Checkbox",
    "ColorPicker",
    "DateInput",
    "DownloadButton",
    "Multiselect",
    "NumberInput",
    "Radio",
    "Selectbox",
    "SelectSlider",
    "Slider",
    "TextArea",
    "TextInput",
    "TimeInput",
    "Toggle",
}

# --- the register: unit A (广安区), unit B (岳池县), one unassigned --------------------------

A_CASE = {"petitioner": "张三", "phone": "13800138000", "id_number": "11010519491231002X"}
A_SECRET = {"petitioner": "李四", "phone": "13900139000", "id_number": "511602198503120016"}
B_CASE = {
    "petitioner": "王五岳",
    "phone": "13700137777",
    "id_number": "511621198001010019",
    "title": "岳池县九龙镇垃圾站臭气扰民",
    "content": "九龙镇垃圾站夏天臭气熏天，附近居民无法开窗。",
    "region": "岳池县",
}
B_OTHER = {
    "petitioner": "赵六岳",
    "phone": "13600136666",
    "id_number": "511621199002020029",
    "title": "岳池县城区学校周边交通拥堵",
    "content": "上下学时段车辆堵塞，存在安全隐患。",
    "region": "岳池县",
}
UNASSIGNED = {
    "petitioner": "孙七",
    "phone": "13500135555",
    "id_number": "511602197707070036",
    "title": "尚未交办的留言：路灯不亮",
    "region": "岳池县",
}
B_NOTES = ("请岳池县务必本周内解决", "岳池县已电话督办", "久拖不办提请问责", "岳池县县长 钱多多")


@pytest.fixture
def spread(portal: Portal) -> dict[str, str]:
    clerk, supervisor, leader = user("clerk"), user("supervisor"), user("leader")
    yc_handler = user("other_handler")
    ids = {}
    ids["a"] = portal.intake(**A_CASE, title="广安区小区电梯长期停运")
    ids["a_secret"] = portal.intake(**A_SECRET, title="举报某局干部", confidential=True)
    for key in ("a", "a_secret"):
        portal.reg.assign(clerk, ids[key], unit="广安区", assigned_at="2026-03-05")
    portal.reg.accept(user("handler"), ids["a"], accepted_at="2026-03-06")
    ids["b"] = portal.intake(**B_CASE, received_at="2026-02-10")
    portal.reg.assign(
        clerk, ids["b"], unit="岳池县", lead_official=B_NOTES[3], assigned_at="2026-02-12"
    )
    portal.reg.accept(yc_handler, ids["b"], accepted_at="2026-02-13")
    portal.reg.reply(yc_handler, ids["b"], reply="已清运并加装除臭设备", concluded_at="2026-03-01")
    portal.reg.evaluate(clerk, ids["b"], evaluation="不满意", evaluated_at="2026-03-03")
    ids["b_other"] = portal.intake(**B_OTHER, received_at="2026-01-05")
    portal.reg.assign(clerk, ids["b_other"], unit="岳池县", assigned_at="2026-01-06")  # overdue
    portal.reg.instruct(leader, ids["b_other"], leader="市长", text=B_NOTES[0])
    portal.reg.supervise(supervisor, ids["b_other"], kind="电话督办", note=B_NOTES[1])
    portal.reg.escalate(supervisor, ids["b_other"], reason=B_NOTES[2])
    ids["unassigned"] = portal.intake(**UNASSIGNED)
    return ids


def forbidden(ids: dict[str, str]) -> list[str]:
    """What a 广安区 handler must never see."""
    out = [ids["b"], ids["b_other"], ids["unassigned"], *B_NOTES]
    for case in (B_CASE, B_OTHER, UNASSIGNED):
        out += [v for k, v in case.items() if k != "region"]
    return out


# --- reading what a run shows ---------------------------------------------------------------


def _arrow_texts(msg) -> list[str]:
    """The tables inside a proto (dataframes, chart datasets) as CSV text."""
    out: list[str] = []
    for fd, value in msg.ListFields():
        values = value if fd.is_repeated else [value]
        for v in values:
            if fd.type == FieldDescriptor.TYPE_BYTES and v:
                try:
                    out.append(convert_arrow_bytes_to_pandas_df(v).to_csv())
                except Exception:  # not Arrow: some other bytes
                    continue
            elif fd.type == FieldDescriptor.TYPE_MESSAGE:
                out += _arrow_texts(v)
    return out


def shown(at: AppTest) -> tuple[str, str]:
    """Everything a run rendered: (data elements, widgets) as text."""
    data: list[str] = []
    widgets: list[str] = []

    def walk(node) -> None:
        proto = getattr(node, "proto", None)
        if proto is not None:
            bucket = widgets if type(node).__name__ in WIDGETS else data
            bucket.append(text_format.MessageToString(proto, as_utf8=True))
            bucket += _arrow_texts(proto)
        for child in getattr(node, "children", {}).values():
            walk(child)

    walk(at._tree)
    # Markdown escapes ``*`` (``张\\*``, in the proto's text form ``张\\\\*``): read it as shown.
    unescape = lambda s: s.replace("\\\\*", "*").replace("\\*", "*")  # noqa: E731
    return unescape("\n".join(data)), unescape("\n".join(widgets))


def file_text(name: str, content: bytes | str) -> str:
    """The text of a downloaded file (csv, md, txt, xlsx, docx)."""
    if isinstance(content, str):
        return content
    if name.endswith((".xlsx", ".docx")):
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            return "\n".join(
                z.read(n).decode("utf-8", "replace") for n in z.namelist() if n.endswith(".xml")
            )
    return content.decode("utf-8-sig", "replace")


def downloaded(downloads: dict) -> dict[str, str]:
    out = {}
    for name, make in list(downloads.items()):
        out[name] = file_text(name, make())
    return out


def open_page(portal: Portal, role: str, spec: nav.PageSpec, **query) -> AppTest:
    """The page as ``role`` — through the navigation when the role has it, else by its
    address (the page itself must refuse)."""
    if role in spec.roles:
        return portal.page(role, spec.path, **query)
    at = portal.page(role, "tracking")
    at.switch_page(spec.path)
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


PAGES = [p for p in nav.PAGES if p.exists()]


# --- unit isolation -------------------------------------------------------------------------


@pytest.mark.parametrize("spec", PAGES, ids=[p.key for p in PAGES])
def test_a_handler_sees_nothing_of_another_unit_on_any_page(portal, spread, downloads, spec):
    at = open_page(portal, "handler", spec)

    assert not at.exception, [e.value for e in at.exception]
    data, widgets = shown(at)
    for text in forbidden(spread):
        assert text not in data, f"{text!r} shown on {spec.key}"
        assert text not in widgets, f"{text!r} offered on {spec.key}"
    assert "岳池县" not in data.replace("所属区县", ""), f"unit B named on {spec.key}"
    for name, content in downloaded(downloads).items():
        for text in [*forbidden(spread), "岳池县"]:
            assert text not in content, f"{text!r} in {name} from {spec.key}"
    if "handler" not in spec.roles:
        assert any("不能使用此页面" in e for e in texts(at.error)), spec.key


def test_the_handler_s_own_cases_and_figures_are_all_there(portal, spread, downloads):
    at = portal.page("handler", "tracking")
    data, _ = shown(at)
    assert spread["a"] in data and spread["a_secret"] in data
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {"待受理": "1", "办理中": "1", "已逾期": "0", "3 天内到期": "1"}
    assert "共 2 件" in texts(at.caption)
    [csv] = [
        c for n, c in downloaded(downloads).items() if n.startswith("cases-") and n.endswith(".csv")
    ]
    assert spread["a"] in csv and spread["a_secret"] in csv


@pytest.mark.parametrize("key", ["b", "b_other", "unassigned"])
def test_another_unit_s_case_address_is_refused(portal, spread, key):
    at = portal.page("handler", "case", case=spread[key])

    assert any("不属于您的单位" in e for e in texts(at.error))
    data, _ = shown(at)
    for text in forbidden(spread):
        if text != spread[key]:  # the refusal names the id that was typed
            assert text not in data
    at = portal.app("handler", case=spread[key])  # the root address redirects, then refuses
    assert any("不属于您的单位" in e for e in texts(at.error))


def test_the_cli_as_a_handler_leaves_out_another_unit(portal, spread, tmp_path, capsys):
    base = ["--register", os.environ["REGISTER_URL"], "--as", "ga_handler"]
    outputs = []
    for table in ("cases", "instructions", "supervisions", "history"):
        out = tmp_path / f"{table}.csv"
        assert cli.main([*base, "export", str(out), "--table", table]) == cli.EXIT_OK
        outputs.append(out.read_text(encoding="utf-8-sig"))
    assert cli.main([*base, "report", "--from", "2026-01-01", "--to", "2026-03-31"]) == 0
    assert cli.main([*base, "digest"]) == 0
    md = tmp_path / "bulletin.md"
    assert (
        cli.main([*base, "bulletin", "--period", "month", "--date", "2026-03-01", "--out", str(md)])
        == 0
    )
    outputs += [capsys.readouterr().out, md.read_text(encoding="utf-8")]
    assert spread["a"] in outputs[0]
    for text in [*forbidden(spread), "岳池县"]:
        for out in outputs:
            assert text not in out
    for table in ("users", "settings"):
        assert cli.main([*base, "export", str(tmp_path / "x.csv"), "--table", table]) == 2


# --- masking by role ------------------------------------------------------------------------

# role -> which of the two 广安区 cases it sees with full personal data (None: not at all)
FULL = {
    "admin": {"a": True, "a_secret": True},
    "clerk": {"a": True, "a_secret": True},
    "handler": {"a": True, "a_secret": False},
    "supervisor": {"a": False, "a_secret": False},
    "leader": {"a": False, "a_secret": False},
    "other_handler": {"a": None, "a_secret": None},
}
MASKED = {
    "a": {"petitioner": "张*", "phone": "138****8000", "id_number": "110105********002X"},
    "a_secret": {"petitioner": "李*", "phone": "139****9000", "id_number": "511602********0016"},
}
VALUES = {"a": A_CASE, "a_secret": A_SECRET}


def check_pii(text: str, key: str, full: bool | None, fields=("petitioner", "phone", "id_number")):
    for f in fields:
        real, masked = VALUES[key][f], MASKED[key][f]
        if full:
            assert real in text, (key, f)
        else:
            assert real not in text, (key, f)
            if full is False:
                assert masked in text, (key, f)


@pytest.mark.parametrize("role", list(FULL))
def test_each_role_sees_exactly_the_personal_data_it_may(portal, spread, downloads, role):
    # the tracking table (its petitioner column) and its export
    at = portal.page(role, "tracking")
    data, _ = shown(at)
    files = downloaded(downloads)
    for key, full in FULL[role].items():
        check_pii(data, key, full, fields=("petitioner",))
        for name, content in files.items():
            if name.startswith("cases-") and name.endswith(".csv"):  # the tracking export
                check_pii(content, key, full)
    # the case detail
    for key, full in FULL[role].items():
        at = portal.page(role, "case", case=spread[key])
        data, _ = shown(at)
        if full is None:
            assert any("不属于您的单位" in e for e in texts(at.error))
        check_pii(data, key, full)


@pytest.mark.parametrize("role", ["admin", "clerk", "supervisor", "leader"])
def test_charts_and_the_digest_carry_no_personal_data(portal, spread, downloads, role):
    specs = [p for p in PAGES if role in p.roles and p.key not in ("intake", "case", "tracking")]
    charts = 0
    for spec in specs:
        at = open_page(portal, role, spec)
        assert not at.exception, (spec.key, [e.value for e in at.exception])
        for chart in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart"):
            charts += 1
            text = "\n".join(_arrow_texts(chart.proto)) + chart.proto.spec
            for values in (A_CASE, A_SECRET, B_CASE):
                for f in ("petitioner", "phone", "id_number"):
                    assert values[f] not in text, (spec.key, f)
                    assert MASKED["a"]["phone"] not in text
        data, _ = shown(at)
        if role in ("supervisor", "leader"):
            for values in (A_CASE, A_SECRET, B_CASE):
                for f in ("phone", "id_number"):
                    assert values[f] not in data, (spec.key, f)
        # (a Word bulletin renders its charts, ≈ 2 s: read it for one role only)
        made = {n: f for n, f in downloads.items() if role == "leader" or not n.endswith(".docx")}
        for name, content in downloaded(made).items():
            if role in ("supervisor", "leader"):
                for values in (A_CASE, A_SECRET, B_CASE):
                    assert values["phone"] not in content, (spec.key, name)
    assert charts, "the oversight pages draw charts"
    digest = daily_digest(portal.reg.data(user(role)), pd.Timestamp("2026-03-20").date())
    for values in (A_CASE, A_SECRET, B_CASE, B_OTHER):
        for f in ("petitioner", "phone", "id_number"):
            assert values.get(f, "-") not in digest
