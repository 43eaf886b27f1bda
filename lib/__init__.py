"""留言办理台账 — the register's library: schema, stores, workflow, figures, import/export, CLI.

From Python, :func:`open_register` returns the register the pages and the CLI use::

    from lib import open_register, LOCAL_ADMIN
    reg = open_register("sqlite:///data/register.db")
    case_id = reg.intake(LOCAL_ADMIN, {...})
"""

from lib.auth import LOCAL_ADMIN, User
from lib.register import Register, ValidationError, open_register

__all__ = ["LOCAL_ADMIN", "Register", "User", "ValidationError", "open_register"]
