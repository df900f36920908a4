"""What turns owe, sealed while it waits in Redis or the database.

Owed items carry what the customer typed and, in a mail or SMS still to be sent, the plain
one-time code. They are stored only until delivered, and only sealed: AES-256-GCM with a key
derived (HKDF-SHA256) from ``SECRET_KEY`` and a 96-bit nonce per item. A tampered or foreign
item fails its tag and is refused.

The nonces follow NIST SP 800-38D's deterministic construction (8.2.1): a fixed field of 64
random bits drawn when the codec is made (and again in a forked child, and after 2**32 items),
then a 32-bit counter. Within a field no nonce repeats; two fields collide with a chance of
about n**2 / 2**65 over n fields drawn (every process start draws one). No system call per
item, as a fresh random nonce would make.
"""

from __future__ import annotations

import os
import weakref

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dialogs.owed import JsonCodec, OwedCodec, OwedItem

NONCE = 12
_COUNTER = 4  # bytes of the nonce that count
_COUNTER_END = 1 << (8 * _COUNTER)
_INFO = b"onboard owed items v1"


def sealing_key(secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)


class SealedCodec:
    """:class:`~dialogs.owed.OwedCodec` that encrypts what the inner codec writes."""

    def __init__(self, secret: bytes, inner: OwedCodec | None = None) -> None:
        self._aead = AESGCM(sealing_key(secret))
        self._inner = inner or JsonCodec()
        self._fixed = b""
        self._count = _COUNTER_END
        redraw = weakref.WeakMethod(self._redraw)  # (the hook must not keep the codec alive)
        os.register_at_fork(after_in_child=lambda: (method := redraw()) and method())

    def _redraw(self) -> None:
        self._fixed, self._count = os.urandom(NONCE - _COUNTER), 0

    def encode(self, item: OwedItem) -> bytes:
        if self._count >= _COUNTER_END:
            self._redraw()
        nonce = self._fixed + self._count.to_bytes(_COUNTER, "big")
        self._count += 1
        return nonce + self._aead.encrypt(nonce, self._inner.encode(item), None)

    def decode(self, data: bytes) -> OwedItem:
        try:
            plain = self._aead.decrypt(data[:NONCE], data[NONCE:], None)
        except InvalidTag:
            raise ValueError("an owed item failed its integrity check") from None
        return self._inner.decode(plain)
