"""Credentials files are checked the way ssh checks a private key: owner-only mode, owned by the user who reads
them, in a folder no one else can write to. Each refusal names the file and says why, never the secret."""

from __future__ import annotations

import os

import pytest

from fleet.errors import SecretError
from fleet.sweep.secrets import read_secret_file, resolve

SECRET = "bmc-pw-do-not-print"


def creds(folder, mode: int = 0o600):
    folder.mkdir(exist_ok=True)
    folder.chmod(0o700)
    f = folder / "creds.toml"
    f.write_text(f'[bmc]\nuser = "admin"\npassword = "{SECRET}"\n')
    f.chmod(mode)
    return f


def test_an_owner_only_file_in_a_private_folder_is_read(tmp_path):
    f = creds(tmp_path / "private")
    assert resolve(f"file:{f}#bmc").reveal() == SECRET


def test_a_file_others_can_read_is_refused(tmp_path):
    f = creds(tmp_path / "private", mode=0o640)
    with pytest.raises(SecretError, match="readable by others") as exc:
        resolve(f"file:{f}#bmc")
    assert SECRET not in str(exc.value)


def test_another_users_file_is_refused_even_at_0600(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("only root can give a file to another user (CI runs as root)")
    f = creds(tmp_path / "private")
    os.chown(f, 65534, 65534)  # nobody
    with pytest.raises(SecretError, match="belongs to another user") as exc:
        resolve(f"file:{f}#bmc")
    assert SECRET not in str(exc.value)
    with pytest.raises(SecretError, match="belongs to another user"):
        read_secret_file(f)


@pytest.mark.parametrize("mode", [0o777, 0o1777, 0o770], ids=["world-writable", "sticky-world-writable", "group"])
def test_a_file_in_a_folder_others_can_write_is_refused(tmp_path, mode):
    f = creds(tmp_path / "shared")
    f.parent.chmod(mode)  # someone else could replace creds.toml with their own
    with pytest.raises(SecretError, match="folder others can write to") as exc:
        resolve(f"file:{f}#bmc")
    assert SECRET not in str(exc.value)


def test_a_writable_folder_higher_up_is_refused_unless_sticky(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    f = creds(top / "private")
    top.chmod(0o777)  # anyone may rename `private` away and put their own in its place
    with pytest.raises(SecretError, match="folder others can write to"):
        resolve(f"file:{f}#bmc")
    top.chmod(0o1777)  # like /tmp: others cannot rename what is ours
    assert resolve(f"file:{f}#bmc").reveal() == SECRET
