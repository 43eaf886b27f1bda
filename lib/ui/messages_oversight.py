"""Strings of the oversight pages (督办看板, 满意度分析, 系统管理): key -> (zh, en).

Importing this module registers them with :mod:`lib.i18n` (the pages import it); kept apart
from :mod:`lib.ui.messages` so the pages' strings live next to each other.
"""

from __future__ import annotations

from lib.i18n import register_messages

MESSAGES: dict[str, tuple[str, str]] = {
    # --- 督办看板 the supervision board ---------------------------------------------------
    "ov.unit": ("承办单位", "Handling unit"),
    "ov.all_units": ("全部单位", "All units"),
    "ov.period": ("统计期间", "Period"),
    "ov.period.week": ("本周", "This week"),
    "ov.period.month": ("本月", "This month"),
    "ov.period.quarter": ("本季度", "This quarter"),
    "ov.range": (
        "三率统计 {start} 至 {end} 登记的留言，数据截至 {as_of}",
        "Rates over messages received {start} to {end}, as of {as_of}",
    ),
    "ov.read_at": (
        "数据读取于 {read}（{checked} 已核对）",
        "Data read at {read} (checked {checked})",
    ),
    "ov.auto": ("每 {n} 秒自动刷新", "refreshes every {n} s"),
    "ov.auto_off": ("自动刷新已关闭", "auto refresh is off"),
    "ov.kpi.open": ("在办案件", "Open cases"),
    "ov.kpi.overdue": ("逾期案件", "Overdue"),
    "ov.kpi.due_soon": ("{days}天内到期", "Due within {days} d"),
    "ov.kpi.unsatisfied": ("不满意待回访", "Unsatisfied, to follow up"),
    "ov.kpi.instructed": ("在办批示件", "Open instructed cases"),
    "ov.kpi.repeats": ("重复留言", "Repeat messages"),
    "ov.kpi.trend": (
        "小图为近{n}个统计期间的走势",
        "The small charts show the last {n} periods",
    ),
    "ov.tab.overdue": ("逾期案件", "Overdue"),
    "ov.tab.due_soon": ("临期案件", "Due soon"),
    "ov.tab.unsatisfied": ("不满意待回访", "Unsatisfied"),
    "ov.tab.repeats": ("重复留言", "Repeat messages"),
    "ov.tab.instructed": ("批示件", "Instructed"),
    "ov.tab.league": ("单位排名", "League table"),
    "ov.count": ("共 {n} 件", "{n} cases"),
    "ov.empty.overdue": ("没有逾期案件。", "No case is overdue."),
    "ov.empty.due_soon": ("近期没有到期的案件。", "No case is due soon."),
    "ov.empty.unsatisfied": (
        "没有待回访的不满意案件。",
        "No unsatisfied case waits for a follow-up.",
    ),
    "ov.empty.repeats": ("本期没有重复留言。", "No repeat message in this period."),
    "ov.empty.instructed": ("没有在办的批示件。", "No open case with an instruction."),
    "ov.empty.league": ("本期还没有留言。", "No message in this period yet."),
    "ov.unsatisfied.help": (
        "群众评价为“不满意”、且评价之后尚无督办记录的案件；记录一次督办后即移出此列表。",
        "Cases rated “unsatisfied” with no supervision recorded since the rating; recording a "
        "supervision takes a case off this list.",
    ),
    "ov.repeats.help": (
        "本期登记的重复留言，计入原件所在单位。",
        "Repeat messages received in this period, counted in the original case's unit.",
    ),
    "ov.pick_help": (
        "点选表格中的一行，在下方“督办操作”中办理该案件。",
        "Click a row to act on that case under “Supervision” below.",
    ),
    "ov.col.days_overdue": ("逾期天数", "Days overdue"),
    "ov.col.stage": ("逾期环节", "Overdue stage"),
    "ov.col.days_left": ("剩余天数", "Days left"),
    "ov.col.current_due": ("当前时限", "Due"),
    "ov.col.supervisions": ("督办次数", "Supervisions"),
    "ov.col.last_supervision": ("最近督办", "Last supervised"),
    "ov.col.leader": ("批示领导", "Instructed by"),
    "ov.col.instructed_at": ("批示日期", "Instructed on"),
    "ov.col.counted_unit": ("计入单位", "Counted in"),
    "ov.col.original_status": ("原件状态", "Original's status"),
    "ov.stage.accept": ("逾期未受理", "not accepted"),
    "ov.stage.handle": ("逾期未办结", "not concluded"),
    "ov.league.caption": (
        "后进在前：按综合得分由低到高排列；比率保留一位小数，“—”表示无可计算的案件。导出文件保留全部精度。",
        "Worst first: by score, lowest first; rates to one decimal, “—” where nothing could be "
        "measured. The export keeps full precision.",
    ),
    "ov.league.download": ("导出排名表（CSV）", "Export the league table (CSV)"),
    "ov.act.title": ("督办操作", "Supervision"),
    "ov.act.case": ("案件编号", "Case ID"),
    "ov.act.case_help": (
        "在上方表格中点选案件，或从列表中选择、输入案件编号。",
        "Click a case in a table above, or choose or type a case ID.",
    ),
    "ov.act.placeholder": ("选择或输入案件编号", "Choose or type a case ID"),
    "ov.act.none": (
        "您在看板上没有可执行的督办操作。",
        "You have no supervision action on the board.",
    ),
    "ov.why.overdue": ("逾期{days}天", "{days} d overdue"),
    "ov.why.due_soon": ("{days}天内到期", "due in {days} d"),
    "ov.why.unsatisfied": ("不满意", "unsatisfied"),
    "ov.why.instructed": ("批示件", "instructed"),
    "ov.why.repeat": ("重复留言", "repeat message"),
    "ov.digest": ("每日信访（纯文本，可复制）", "Daily digest (plain text to copy)"),
    "ov.digest.help": (
        "点击文本框右上角的复制按钮，粘贴到工作群。",
        "Use the copy button at the top right of the box, then paste into the group chat.",
    ),
    "ov.wall.enter": ("大屏模式", "Wall display"),
    "ov.wall.exit": ("退出大屏模式", "Leave the wall display"),
    # --- 满意度分析 satisfaction -----------------------------------------------------------
    "sat.title": ("满意度分析", "Satisfaction analysis"),
    "sat.preset": ("统计期间", "Period"),
    "sat.preset.12m": ("近12个月", "Last 12 months"),
    "sat.preset.year": ("本年度", "This year"),
    "sat.preset.quarter": ("本季度", "This quarter"),
    "sat.preset.month": ("本月", "This month"),
    "sat.preset.custom": ("自定义", "Custom"),
    "sat.from": ("登记日期从", "Received from"),
    "sat.to": ("登记日期至", "Received to"),
    "sat.freq": ("趋势按", "Trend by"),
    "sat.freq.W": ("周", "week"),
    "sat.freq.M": ("月", "month"),
    "sat.freq.Q": ("季度", "quarter"),
    "sat.range": (
        "统计 {start} 至 {end} 登记的留言，评价截至 {as_of}",
        "Messages received {start} to {end}; evaluations as of {as_of}",
    ),
    "sat.evaluated": ("参评数", "Evaluated"),
    "sat.tab.rates": ("三率趋势", "Rates over time"),
    "sat.tab.units": ("各单位评价", "By unit"),
    "sat.tab.domain": ("按领域", "By domain"),
    "sat.tab.type": ("按类型", "By type"),
    "sat.tab.volume": ("区县×领域", "Region × domain"),
    "sat.download": ("下载图表数据（CSV）", "Download the chart's data (CSV)"),
    "sat.hint": (
        "点击图中的点、柱形或方格，下方列出相应案件（按住 Shift 可多选，双击图中空白处取消）；"
        "鼠标移到图表上，右上角工具栏可将图表下载为 PNG 图片。",
        "Click a point, bar or cell to list its cases below (Shift-click adds, double-click an "
        "empty spot to clear); hover over a chart for its toolbar, which downloads it as PNG.",
    ),
    "sat.cases": ("相关案件（{n}）", "Cases ({n})"),
    "sat.cases_all": (
        "本期全部已评价案件（{n}）。点击图表可筛选。",
        "Every evaluated case of the period ({n}). Click the chart to filter.",
    ),
    "sat.cases_volume": (
        "本期全部留言（{n}）。点击方格可筛选。",
        "Every message of the period ({n}). Click a cell to filter.",
    ),
    "sat.filtered": ("已筛选：{what}", "Filtered: {what}"),
    "sat.no_cases": ("没有符合条件的案件。", "No case matches."),
    "sat.cases_shown": (
        "共 {n} 件，表中显示最新登记的 {shown} 件；导出的 Excel / CSV 包含全部 {n} 件。",
        "{n} cases: the table shows the {shown} received last; the Excel / CSV export holds "
        "all {n}.",
    ),
    "sat.bad_range": (
        "起始日期不能晚于截止日期。",
        "The start date cannot be after the end date.",
    ),
    # --- 系统管理 administration ------------------------------------------------------------
    "adm.tab.units": ("承办单位", "Units"),
    "adm.tab.users": ("账号", "Users"),
    "adm.tab.settings": ("参数设置", "Settings"),
    "adm.tab.health": ("数据检查", "Data health"),
    "adm.tab.backup": ("完整备份", "Backup"),
    "adm.tab.demo": ("演示数据", "Demo data"),
    "adm.new": ("＋ 新增", "+ New"),
    "adm.count_units": ("共 {n} 个单位（{active} 个启用）", "{n} units ({active} active)"),
    "adm.count_users": ("共 {n} 个账号（{active} 个启用）", "{n} accounts ({active} active)"),
    "adm.unit.pick": ("修改单位", "Edit a unit"),
    "adm.unit.form_new": ("新增承办单位", "Add a unit"),
    "adm.unit.form_edit": ("修改“{name}”", "Edit “{name}”"),
    "adm.unit.key_note": (
        "单位名称是台账中的引用依据，保存后不能修改；如需改名，请新增单位后停用旧单位。",
        "A unit's name is what cases refer to and cannot change once saved; to rename, add a "
        "new unit and deactivate the old one.",
    ),
    "adm.unit.save": ("保存单位", "Save the unit"),
    "adm.unit.saved": ("已保存单位“{name}”", "Unit “{name}” saved"),
    "adm.unit.exists": (
        "单位“{name}”已存在，请在上方选择它进行修改。",
        "The unit “{name}” exists already; choose it above to edit it.",
    ),
    "adm.user.pick": ("修改账号", "Edit an account"),
    "adm.user.form_new": ("新增账号", "Add an account"),
    "adm.user.form_edit": ("修改账号“{username}”", "Edit the account “{username}”"),
    "adm.user.must_change": ("下次登录须修改密码", "Must change the password at next sign-in"),
    "adm.user.reset": ("重置密码", "Reset the password"),
    "adm.user.reset_help": (
        "生成一次性密码并解除登录锁定；本人下次登录时须修改密码。",
        "Creates a one-time password and lifts any sign-in lock; the person must change it "
        "at the next sign-in.",
    ),
    "adm.user.one_time": (
        "账号“{username}”的一次性密码：{password} —— 仅显示这一次，请告知本人；下次登录时须修改。",
        "One-time password of “{username}”: {password} — shown this once; tell the person, who "
        "must change it at the next sign-in.",
    ),
    "adm.user.new_help": (
        "保存后生成一次性密码（仅显示一次），本人首次登录时须修改。",
        "Saving creates a one-time password (shown once), to be changed at the first sign-in.",
    ),
    "adm.user.units_placeholder": ("选择所属单位（承办人必选）", "Choose units (handlers)"),
    "adm.user.units_help": (
        "承办人只能看到所属单位的案件。",
        "Handlers see only the cases of their units.",
    ),
    "adm.user.save": ("保存账号", "Save the account"),
    "adm.user.saved": ("已保存账号“{username}”", "Account “{username}” saved"),
    "adm.user.exists": (
        "账号“{username}”已存在，请在上方选择它进行修改。",
        "The account “{username}” exists already; choose it above to edit it.",
    ),
    "adm.user.self": (
        "不能停用自己的账号，也不能取消自己的系统管理员角色。",
        "You cannot deactivate your own account or remove your own administrator role.",
    ),
    "adm.user.need_units": (
        "承办人至少要有一个所属单位。",
        "A handler needs at least one unit.",
    ),
    "adm.set.help": (
        "修改后立即生效；时限参数影响之后重新计算的时限和统计。",
        "Changes apply at once; deadline settings apply to deadlines and figures computed "
        "from now on.",
    ),
    "adm.set.calendar": ("自然日", "calendar days"),
    "adm.set.working": ("工作日", "working days"),
    "adm.set.default": ("默认值：{value}", "Default: {value}"),
    "adm.set.save": ("保存参数", "Save the settings"),
    "adm.set.saved": ("已保存 {n} 项参数：{names}", "{n} settings saved: {names}"),
    "adm.set.unchanged": ("参数没有变化。", "Nothing changed."),
    "adm.set.failed": ("“{label}”未保存：{reason}", "“{label}” was not saved: {reason}"),
    "adm.set.bad_value": ("值“{value}”无效", "“{value}” is not a valid value"),
    "adm.health.help": (
        "检查台账中无法识别的取值、错误日期、缺少的必填项、重复编号、先后顺序不对的日期等（与命令 "
        "python -m lib check 相同）。不会修改任何数据。",
        "Looks for unknown values, bad dates, missing required values, duplicate ids, dates out "
        "of order and more (as python -m lib check does). Nothing is changed.",
    ),
    "adm.health.run": ("运行检查", "Run the check"),
    "adm.health.ok": ("未发现问题（检查于 {time}）。", "No problem found (checked at {time})."),
    "adm.health.found": (
        "发现 {n} 个问题（检查于 {time}）",
        "{n} problems found (checked at {time})",
    ),
    "adm.health.cases": ("涉及的案件", "Cases concerned"),
    "adm.health.more": ("另有 {n} 件未列出。", "{n} more not listed."),
    "adm.health.col.sheet": ("表", "Sheet"),
    "adm.health.col.row": ("行", "Row"),
    "adm.health.col.key": ("编号", "Key"),
    "adm.health.col.field": ("列", "Column"),
    "adm.health.col.value": ("值", "Value"),
    "adm.health.col.problem": ("问题", "Problem"),
    "adm.backup.help": (
        "下载一个 Excel 文件，台账的每张表（{sheets}）各占一个工作表，表头与导入格式相同；所有单元格均存为文本，"
        "不含公式，密码哈希不导出。下载会记入变更记录。",
        "Downloads one Excel file with a worksheet per sheet of the register ({sheets}), headed "
        "as imports expect; every cell is stored as text, never a formula; password hashes are "
        "left out. The download is logged in the history.",
    ),
    "adm.backup.download": ("下载完整备份（Excel）", "Download a full backup (Excel)"),
    "adm.demo.help": (
        "重新生成演示台账（{cases} 件虚构案件）。现有演示数据文件不会删除，而是改名保存为 {folder} 下的备份。",
        "Creates the demo register again ({cases} invented cases). The current demo file is "
        "not deleted but moved to a backup in {folder}.",
    ),
    "adm.demo.confirm": (
        "我确认要重建演示台账",
        "Yes, create the demo register again",
    ),
    "adm.demo.reset": ("重建演示台账", "Re-create the demo register"),
    "adm.demo.running": ("正在重建演示台账……", "Re-creating the demo register…"),
    "adm.demo.done": (
        "演示台账已重建（{cases} 件案件），原文件已保存为 {backup}",
        "The demo register was re-created ({cases} cases); the old file is kept as {backup}",
    ),
    "adm.demo.only": (
        "仅在演示模式下、使用演示数据文件（{path}）时可以重建。",
        "Only available in demo mode on the demo file ({path}).",
    ),
}

register_messages(MESSAGES)
