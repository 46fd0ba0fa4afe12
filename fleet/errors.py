"""Errors that reach the user as one line and a documented exit status, never a traceback."""

from __future__ import annotations


class FleetError(Exception):
    """An error the user can act on. `exit_code` is what the CLI exits with."""

    exit_code = 1

    def __init__(self, message: str, exit_code: int | None = None) -> None:
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code


class NotFound(FleetError):
    exit_code = 4


class InputError(FleetError):
    """Bad user input: a broken CSV, an unknown option value."""

    exit_code = 2


class DatabaseError(FleetError):
    exit_code = 5


class SecretError(FleetError):
    """A credential reference that cannot be resolved (missing variable, unsafe file mode)."""

    exit_code = 3
