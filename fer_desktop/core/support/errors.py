"""One error type for everything a user can get wrong: what happened and what to do."""

from __future__ import annotations


class UserError(Exception):
    """An error caused by input the user controls (a file, a camera, a URL, a dataset).

    `message` says what happened, `hint` what to do about it. The program shows it and keeps running.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


def as_user_error(exc: BaseException, what: str) -> UserError:
    """`exc` itself when it is a UserError; else a UserError naming the action that failed.

    The original exception is kept as `__cause__`, so the log shows its traceback.
    """
    if isinstance(exc, UserError):
        return exc
    from fer_desktop.core.support.logs import log_path

    err = UserError(
        f"{what} failed: {type(exc).__name__}: {exc}",
        f"Try again; if it repeats, report it together with the log file {log_path()}.",
    )
    err.__cause__ = exc
    return err
