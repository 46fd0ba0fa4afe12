"""crypto.py's AES-CBC and HMAC give the bytes cryptography's CBC mode and the standard hmac give (pure logic: the
reference implementations are the libraries pyghmi itself uses)."""

from __future__ import annotations

import hashlib
import hmac as std_hmac
import os

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from fleet.collectors.ipmi import crypto


@pytest.mark.parametrize("blocks", [1, 2, 3, 7])
def test_cbc_both_ways_as_cryptography(blocks: int) -> None:
    for _ in range(20):
        key, iv, plain = os.urandom(16), os.urandom(16), os.urandom(16 * blocks)
        ref = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        expected = ref.update(plain) + ref.finalize()
        ours = crypto.Cipher(algorithm=crypto.algorithms.AES(key), mode=crypto.modes.CBC(iv)).encryptor()
        assert ours.update(plain) + ours.finalize() == expected
        back = crypto.Cipher(algorithm=crypto.algorithms.AES(key), mode=crypto.modes.CBC(iv)).decryptor()
        assert back.update(bytearray(expected)) + back.finalize() == plain


def test_a_partial_block_is_refused_and_spoils_nothing() -> None:
    key, iv, plain = os.urandom(16), os.urandom(16), os.urandom(32)
    ref = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    good = ref.update(plain) + ref.finalize()
    with pytest.raises(ValueError):
        crypto.Cipher(crypto.algorithms.AES(key), crypto.modes.CBC(iv)).decryptor().update(good[:20])
    # the key's shared context holds no leftover bytes: the next packet decrypts right
    assert crypto.Cipher(crypto.algorithms.AES(key), crypto.modes.CBC(iv)).decryptor().update(good) == plain


@pytest.mark.parametrize("digestmod", [hashlib.sha1, hashlib.sha256])
def test_hmac_as_the_standard_module(digestmod: object) -> None:
    key, msg = os.urandom(20), os.urandom(77)
    assert crypto.hmac.new(key, msg, digestmod).digest() == std_hmac.new(key, msg, digestmod).digest()  # type: ignore[arg-type]
