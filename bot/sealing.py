"""What turns owe, sealed while it waits in Redis or the database.

Owed items carry what the customer typed and, in a mail or SMS still to be sent, the plain
one-time code. They are stored only until delivered, and only sealed: AES-256-GCM with a key
derived (HKDF-SHA256) from ``SECRET_KEY`` and a random 96-bit nonce per item. A tampered or
foreign item fails its tag and is refused.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from dialogs.owed import JsonCodec, OwedCodec, OwedItem

NONCE = 12
_INFO = b"onboard owed items v1"


def sealing_key(secret: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)


class SealedCodec:
    """:class:`~dialogs.owed.OwedCodec` that encrypts what the inner codec writes."""

    def __init__(self, secret: bytes, inner: OwedCodec | None = None) -> None:
        self._aead = AESGCM(sealing_key(secret))
        self._inner = inner or JsonCodec()

    def encode(self, item: OwedItem) -> bytes:
        nonce = os.urandom(NONCE)
        return nonce + self._aead.encrypt(nonce, self._inner.encode(item), None)

    def decode(self, data: bytes) -> OwedItem:
        try:
            plain = self._aead.decrypt(data[:NONCE], data[NONCE:], None)
        except InvalidTag:
            raise ValueError("an owed item failed its integrity check") from None
        return self._inner.decode(plain)
