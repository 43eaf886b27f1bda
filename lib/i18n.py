"""User-visible strings in Chinese (default) and English.

Every message the app shows comes from ``MESSAGES`` (or from the schema's labels). Domain
errors carry a message key and parameters, so pages and the CLI render them in the user's
language with :func:`t`.
"""

from __future__ import annotations

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"

# key -> (zh, en). Parameters use str.format names.
MESSAGES: dict[str, tuple[str, str]] = {
    # value parsing
    "err.required": ("“{label}”为必填项", "“{label}” is required"),
    "err.enum": (
        "“{label}”的值“{value}”不在可选范围内（{allowed}）",
        "“{label}”: “{value}” is not one of the allowed values ({allowed})",
    ),
    "err.date": (
        "“{label}”的值“{value}”不是有效日期（应为 YYYY-MM-DD）",
        "“{label}”: “{value}” is not a valid date (expected YYYY-MM-DD)",
    ),
    "err.datetime": (
        "“{label}”的值“{value}”不是有效时间",
        "“{label}”: “{value}” is not a valid date and time",
    ),
    "err.int": ("“{label}”的值“{value}”不是整数", "“{label}”: “{value}” is not a whole number"),
    "err.int_too_big": (
        "“{label}”的值“{value}”过大，超出整数的可用范围",
        "“{label}”: “{value}” is too large for a whole number",
    ),
    "err.bool": (
        "“{label}”的值“{value}”应为 是/否",
        "“{label}”: “{value}” should be yes or no",
    ),
    "err.min": ("“{label}”的值“{value}”不能小于 {min}", "“{label}”: “{value}” is below {min}"),
    "err.max": ("“{label}”的值“{value}”不能大于 {max}", "“{label}”: “{value}” is above {max}"),
    "err.max_length": (
        "“{label}”的值“{value}”超过 {max_length} 个字符（现有 {length} 个）",
        "“{label}”: “{value}” is longer than {max_length} characters ({length})",
    ),
    "err.pattern": (
        "“{label}”的值“{value}”格式不对：{hint}",
        "“{label}”: “{value}” has the wrong format ({hint})",
    ),
    "err.gb11643": (
        "“{label}”的值“{value}”不是有效的18位身份证号（位数或校验位不符）",
        "“{label}”: “{value}” is not a valid 18-character ID number (length or check digit)",
    ),
    "err.ref": (
        "“{label}”的值“{value}”不存在",
        "“{label}”: “{value}” does not exist",
    ),
    "err.future": (
        "“{label}”（{value}）不能晚于今天（{today}）",
        "“{label}” ({value}) cannot be after today ({today})",
    ),
    "err.order": (
        "“{label}”（{value}）不能早于“{other_label}”（{other}）",
        "“{label}” ({value}) cannot be before “{other_label}” ({other})",
    ),
    "err.needs": (
        "有“{label}”就必须先有“{other_label}”",
        "“{label}” needs “{other_label}” first",
    ),
    "err.exclusive": (
        "“{label}”和“{other_label}”不能同时存在",
        "“{label}” and “{other_label}” cannot both be set",
    ),
    "err.duplicate_id": (
        "“{label}”的值“{value}”重复",
        "“{label}”: “{value}” appears more than once",
    ),
    "err.derived_mismatch": (
        "“{label}”应为“{expected}”，表中为“{value}”",
        "“{label}” should be “{expected}” but the sheet has “{value}”",
    ),
    # workflow / service
    "err.forbidden": (
        "您的角色（{role}）无权执行“{action}”",
        "Your role ({role}) may not “{action}”",
    ),
    "err.not_your_unit": (
        "案件 {case_id} 不属于您的单位，无权查看或办理",
        "Case {case_id} is not assigned to your unit",
    ),
    "err.not_found": ("找不到案件 {case_id}", "Case {case_id} not found"),
    "err.row_not_found": ("{sheet} 中找不到“{key}”", "“{key}” not found in {sheet}"),
    "err.conflict": (
        "案件 {case_id} 已被他人修改（您看到的是第 {expected} 版，现在是第 {actual} 版）。"
        "请刷新后重试，您填写的内容已保留。",
        "Case {case_id} was changed by someone else (you saw version {expected}, it is now "
        "version {actual}). Refresh and try again; what you typed is kept.",
    ),
    "err.state": (
        "案件 {case_id} 当前状态为“{status}”，不能执行“{action}”",
        "Case {case_id} is “{status}”: “{action}” is not possible now",
    ),
    "err.extension_once": (
        "案件 {case_id} 已延期过一次，只能延期一次",
        "Case {case_id} was already extended; only one extension is allowed",
    ),
    "err.extension_range": (
        "延期天数应为 1–{max} 天",
        "An extension must be 1–{max} days",
    ),
    "err.object_window": (
        "退回须在交办后 {days} 个工作日内（截至 {due}）提出",
        "A case can be returned only within {days} working days of assignment (by {due})",
    ),
    "err.reason_required": ("请填写理由", "A reason is required"),
    "err.unit_inactive": ("单位“{unit}”已停用", "Unit “{unit}” is not active"),
    "err.repeat_self": ("案件不能是自己的重复件", "A case cannot repeat itself"),
    "err.calendar_year": (
        "节假日日历未覆盖 {year} 年（当前支持 {first}–{last} 年），无法按工作日计算期限。"
        "请升级 chinesecalendar 或在系统设置中改为按自然日计算。",
        "The holiday calendar does not cover {year} (it covers {first}–{last}); working-day "
        "deadlines cannot be computed. Upgrade chinesecalendar or switch the setting to calendar days.",
    ),
    "err.setting": ("参数“{key}”的值“{value}”无效", "Setting “{key}”: “{value}” is not valid"),
    "err.unknown_user": ("没有用户“{username}”或已停用", "No active user “{username}”"),
    "err.register_url": (
        "无法识别的台账地址“{url}”（支持 sqlite:///路径 或 gsheets://表格ID）",
        "Unrecognised register URL “{url}” (use sqlite:///path or gsheets://KEY)",
    ),
    "err.invalid": ("输入有误：{details}", "Invalid input: {details}"),
    # import
    "imp.bad_file": ("无法读取文件“{name}”：{reason}", "Cannot read file “{name}”: {reason}"),
    "imp.unknown_ext": (
        "只支持 .xlsx 和 .csv 文件（收到“{name}”）",
        "Only .xlsx and .csv files are supported (got “{name}”)",
    ),
    "imp.no_header": (
        "文件中找不到表头（第1行应为列名，如：{expected}）",
        "No header row found (row 1 should hold column names such as {expected})",
    ),
    "imp.missing_columns": (
        "缺少必需的列：{columns}",
        "Required columns are missing: {columns}",
    ),
    "imp.duplicate_source": (
        "渠道“{channel}”的来源编号“{source_id}”已存在，跳过",
        "Source ID “{source_id}” of channel “{channel}” already exists; skipped",
    ),
    "imp.duplicate_in_file": (
        "与第 {row} 行的渠道和来源编号重复，跳过",
        "Same channel and source ID as row {row}; skipped",
    ),
    "imp.duplicate_key": ("“{key}”已存在", "“{key}” already exists"),
    "imp.row": ("第 {row} 行：{reason}", "Row {row}: {reason}"),
    "imp.summary": (
        "共 {total} 行：导入 {imported} 行，跳过重复 {skipped} 行，拒绝 {rejected} 行",
        "{total} rows: {imported} imported, {skipped} duplicates skipped, {rejected} rejected",
    ),
    # status names in English (Chinese is the value itself)
    "status.待交办": ("待交办", "Awaiting assignment"),
    "status.已交办": ("已交办", "Assigned"),
    "status.办理中": ("办理中", "In progress"),
    "status.已办结": ("已办结", "Concluded"),
    "status.已评价": ("已评价", "Evaluated"),
    "status.不予受理": ("不予受理", "Not accepted"),
    # actions
    "action.intake": ("登记", "register"),
    "action.assign": ("交办", "assign"),
    "action.reassign": ("改派", "reassign"),
    "action.accept": ("受理", "accept"),
    "action.reject": ("不予受理", "reject"),
    "action.object": ("退回", "return"),
    "action.extend": ("延期", "extend"),
    "action.meet": ("三见面", "record a meeting"),
    "action.reply": ("答复办结", "reply"),
    "action.evaluate": ("回访评价", "record the evaluation"),
    "action.instruct": ("批示", "record an instruction"),
    "action.supervise": ("督办", "supervise"),
    "action.escalate": ("提请问责", "escalate"),
    "action.mark_repeat": ("标记重复件", "mark as repeat"),
    "action.import": ("导入", "import"),
    "action.export": ("导出", "export"),
    "action.manage_users": ("管理账号", "manage users"),
    "action.manage_units": ("管理单位", "manage units"),
    "action.settings": ("修改参数", "change settings"),
    "action.init": ("初始化台账", "initialise the register"),
    "action.seed": ("生成演示数据", "seed demo data"),
    "action.read_all": ("查看全部案件", "see all cases"),
    "action.migrate": ("迁移台账", "migrate the register"),
    # roles
    "role.admin": ("系统管理员", "Administrator"),
    "role.clerk": ("受理员", "Clerk"),
    "role.handler": ("承办人", "Handler"),
    "role.supervisor": ("督办员", "Supervisor"),
    "role.leader": ("领导", "Leader"),
    "unassigned": ("未交办", "Unassigned"),
    "no_value": ("—", "—"),
}


def register_messages(table: dict[str, tuple[str, str]]) -> None:
    """Add a module's own messages (key -> (zh, en)) to the table; keys must be new."""
    clash = set(table) & set(MESSAGES)
    clash = {k for k in clash if MESSAGES[k] != table[k]}
    if clash:
        raise ValueError(f"message keys defined twice: {sorted(clash)}")
    MESSAGES.update(table)


def t(key: str, lang: str = DEFAULT_LANG, /, **params: object) -> str:
    """Return the message ``key`` in ``lang`` with ``params`` filled in.

    An unknown key returns the key itself, so a missing translation is visible but harmless.
    """
    pair = MESSAGES.get(key)
    if pair is None:
        return key
    text = pair[1] if lang == "en" else pair[0]
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


class DomainError(Exception):
    """An error a user should read: a message key plus parameters, rendered per language."""

    def __init__(self, key: str, /, **params: object) -> None:
        self.key = key
        self.params = params
        super().__init__(t(key, DEFAULT_LANG, **params))

    def message(self, lang: str = DEFAULT_LANG) -> str:
        """The message in ``lang``."""
        return t(self.key, lang, **self.params)
