"""The strings of sign-in, the account page and the audit log (key -> (zh, en)).

Importing this module registers them (:mod:`lib.ui.signin` imports it, and every page reaches
that through :mod:`lib.ui.context`). The service layer's own sign-in errors (``err.signin_*``,
``err.password_*``) live in :mod:`lib.auth`, so the command line has them too.
"""

from __future__ import annotations

from lib.i18n import register_messages

MESSAGES: dict[str, tuple[str, str]] = {
    # navigation
    "ui.nav.me": ("我的", "Me"),
    "ui.nav.account": ("我的账号", "My account"),
    "ui.nav.audit": ("审计日志", "Audit log"),
    # the sign-in page
    "ui.signin.title": ("登录", "Sign in"),
    "ui.signin.intro": (
        "留言办理台账存有群众的姓名、电话等个人信息，请使用本人账号登录。",
        "This register holds citizens' names and phone numbers: sign in with your own account.",
    ),
    "ui.signin.username": ("用户名", "Username"),
    "ui.signin.password": ("密码", "Password"),
    "ui.signin.submit": ("登录", "Sign in"),
    "ui.signin.sso": ("使用单位统一身份认证登录", "Sign in with single sign-on"),
    "ui.signin.sso_named": ("使用 {provider} 登录", "Sign in with {provider}"),
    "ui.signin.sso_other": ("换一个账号登录", "Use another account"),
    "ui.signin.or": ("或使用本系统账号登录：", "Or sign in with an account of this register:"),
    "ui.signin.no_method": (
        "本系统已配置单点登录，但未启用密码登录。请使用上方按钮登录。",
        "Single sign-on is configured and password sign-in is off: use the button above.",
    ),
    "ui.signin.timed_out": (
        "您已闲置超过 {minutes} 分钟，为保护个人信息已自动退出，请重新登录。",
        "You were idle for more than {minutes} minutes and have been signed out to protect "
        "personal data. Please sign in again.",
    ),
    "ui.signin.signed_out": ("您已退出登录。", "You have signed out."),
    "ui.signin.reload_note": (
        "提示：刷新浏览器页面或在新标签页中打开链接时需要重新登录；登录后会打开原来要访问的页面。",
        "Note: reloading the page or opening a link in a new tab asks you to sign in again; "
        "afterwards the page you asked for opens.",
    ),
    "ui.signin.demo_title": ("演示账号", "Demo accounts"),
    "ui.signin.demo_help": (
        "这是演示台账（数据均为虚构）。每个角色一个账号，密码都是 “{password}”，"
        "也可直接点击按钮以该身份登录。",
        "This is a demo register (all data invented). One account per role, each with the "
        "password “{password}”; or click a button to sign in as that account.",
    ),
    "ui.signin.demo_as": ("以{role}身份登录", "Sign in as {role}"),
    "ui.signin.test_mode": (
        "测试模式：未经登录，以账号 {username} 运行（LIUYAN_TESTING）。切勿用于正式环境。",
        "Test mode: running as {username} without signing in (LIUYAN_TESTING). Never in "
        "production.",
    ),
    "ui.signin.empty_fields": ("请输入用户名和密码", "Enter a username and a password"),
    # the sidebar
    "ui.signout": ("退出登录", "Sign out"),
    # password changes
    "ui.password.forced_title": ("请设置新密码", "Set a new password"),
    "ui.password.forced_help": (
        "您正在使用一次性密码。继续使用前，请为账号 {username} 设置只有您本人知道的新密码"
        "（至少 {min} 个字符）。",
        "You signed in with a one-time password. Before you go on, set a new password for "
        "{username} that only you know (at least {min} characters).",
    ),
    "ui.password.current": ("当前密码", "Current password"),
    "ui.password.new": ("新密码", "New password"),
    "ui.password.confirm": ("再次输入新密码", "New password again"),
    "ui.password.submit": ("修改密码", "Change password"),
    "ui.password.changed": ("密码已修改。", "Your password has been changed."),
    # the account page
    "ui.account.title": ("我的账号", "My account"),
    "ui.account.username": ("用户名", "Username"),
    "ui.account.name": ("姓名", "Name"),
    "ui.account.role": ("角色", "Role"),
    "ui.account.units": ("所属单位", "Units"),
    "ui.account.email": ("邮箱", "Email"),
    "ui.account.last_sign_in": ("最近登录", "Last sign-in"),
    "ui.account.method": ("登录方式", "Signed in with"),
    "ui.account.method.password": ("本系统密码", "Password of this register"),
    "ui.account.method.sso": ("单点登录", "Single sign-on"),
    "ui.account.method.test": ("测试模式（未登录）", "Test mode (not signed in)"),
    "ui.account.sso_password": (
        "您通过单点登录进入，密码由单位统一身份认证系统管理。",
        "You signed in with single sign-on: your password is managed by your organisation's "
        "identity provider.",
    ),
    "ui.account.change_title": ("修改密码", "Change password"),
    "ui.account.may": ("您可以", "You may"),
    "ui.account.idle": (
        "闲置 {minutes} 分钟后自动退出。",
        "You are signed out after {minutes} minutes idle.",
    ),
    # the audit log
    "ui.audit.title": ("审计日志", "Audit log"),
    "ui.audit.caption": (
        "登录、登录失败、导出和每一项修改都记录在变更记录中，只增不改。",
        "Sign-ins, failed sign-ins, exports and every change are recorded in the history, "
        "which is only ever appended to.",
    ),
    "ui.audit.user": ("操作人", "User"),
    "ui.audit.case": ("案件编号（可输入部分）", "Case ID (part of it will do)"),
    "ui.audit.action": ("操作", "Action"),
    "ui.audit.from": ("起始日期", "From"),
    "ui.audit.to": ("截止日期", "To"),
    "ui.audit.rows": ("共 {n} 条记录", "{n} entries"),
    "ui.audit.shown": ("（显示最新 {n} 条）", "(the newest {n} shown)"),
    "ui.audit.empty": ("没有符合条件的记录。", "No entries match."),
    # history actions that are not service actions of lib.auth.PERMISSIONS
    "action.signin": ("登录", "sign in"),
    "action.signin_failed": ("登录失败", "failed sign-in"),
    "action.signin_locked": ("锁定期内尝试登录", "sign-in while locked"),
    "action.signout": ("退出登录", "sign out"),
    "action.timeout": ("闲置超时退出", "idle time-out"),
    "action.change_password": ("修改密码", "change password"),
    "action.change_password_failed": ("修改密码失败", "failed password change"),
}

register_messages(MESSAGES)
