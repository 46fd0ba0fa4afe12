"""Credentials by reference: never in clear in the database, on a command line, in a log, a report or a screen.

The database (and the command line) hold only a *reference*:

    env:VAR                     the value of an environment variable
    file:/path/creds.toml#key   entry `key` of a TOML credentials file readable by its owner only (mode 0600/0400);
                                the entry is a table with any of: user, password, community, auth_key, priv_key
    file:/path/password.txt     a whole file (owner-only) whose first line is the secret

A resolved value is wrapped in `Secret`, whose str() and repr() never show it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from fleet.collectors.secret import Secret
from fleet.errors import SecretError

__all__ = ["Secret", "read_secret_env", "read_secret_file", "resolve", "resolve_field"]


def _check_owner_only(path: Path) -> None:
    """What ssh asks of a private key: the file is ours and no one else's to read, and no one else can swap it."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise SecretError(f"credentials file not found: {path}") from None
    except OSError as exc:
        raise SecretError(f"cannot read credentials file {path}: {exc.strerror}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretError(
            f"credentials file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); chmod 600 it"
        )
    if st.st_uid != os.geteuid():
        # Another user's file, however private: whoever owns it decides what we send to every BMC.
        raise SecretError(f"credentials file {path} belongs to another user (uid {st.st_uid}); it must be yours")
    _check_folders(path)


def _check_folders(path: Path) -> None:
    """A folder others can write to lets them replace the file (or a folder on the way to it) with their own."""
    folder = path.absolute().parent
    for where in (folder, *folder.parents):
        try:
            st = where.stat()
        except OSError:
            continue
        writable_by_others = st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)
        # A sticky folder (/tmp) keeps others from renaming what is ours, except in the file's own folder, which
        # must be private anyway.
        if writable_by_others and (where == folder or not st.st_mode & stat.S_ISVTX):
            raise SecretError(
                f"credentials file {path} is in a folder others can write to ({where}, mode "
                f"{stat.S_IMODE(st.st_mode):o}); move it to a private folder"
            )


def read_secret_file(path: str | os.PathLike[str]) -> Secret:
    """The first line of an owner-only file."""
    p = Path(path)
    _check_owner_only(p)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise SecretError(f"cannot read {p}: {exc.strerror}") from None
    value = text.splitlines()[0].strip() if text.strip() else ""
    if not value:
        raise SecretError(f"credentials file {p} is empty")
    return Secret(value)


def read_secret_env(var: str) -> Secret:
    value = os.environ.get(var)
    if value is None or value == "":
        raise SecretError(f"environment variable {var} is not set")
    return Secret(value)


def resolve(ref: str, field: str = "password") -> Secret:
    """Resolve a credential reference (see the module docstring) to a Secret."""
    scheme, _, rest = ref.partition(":")
    if scheme == "env" and rest:
        return read_secret_env(rest)
    if scheme == "file" and rest:
        path, _, entry = rest.partition("#")
        if not entry:
            return read_secret_file(path)
        return Secret(_toml_entry(Path(path), entry, field))
    raise SecretError(f"not a credential reference (expected env:VAR or file:PATH[#ENTRY]): {_safe(ref)}")


def resolve_field(ref: str, field: str) -> str | None:
    """A non-secret field (such as the user name) of a file entry, or None."""
    scheme, _, rest = ref.partition(":")
    if scheme != "file" or "#" not in rest:
        return None
    path, _, entry = rest.partition("#")
    try:
        return _toml_entry(Path(path), entry, field)
    except SecretError:
        return None


def _toml_entry(path: Path, entry: str, field: str) -> str:
    import tomllib  # here: `fleet poll` reads its secret from a variable or a plain file, and starts without it

    _check_owner_only(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SecretError(f"cannot parse credentials file {path}: {exc}") from None
    table = data.get(entry)
    if not isinstance(table, dict):
        raise SecretError(f"no entry [{entry}] in credentials file {path}")
    value = table.get(field)
    if not isinstance(value, str) or not value:
        raise SecretError(f"entry [{entry}] of {path} has no {field}")
    return value


def _safe(ref: str) -> str:
    # A user who pasted a password where a reference belongs must not see it echoed back.
    return ref if ref.startswith(("env:", "file:")) else "<hidden>"
