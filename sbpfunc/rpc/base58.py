"""Bitcoin-alphabet base58 (what Solana uses for keys, signatures and `base58` data), via the
`base58` package."""

from __future__ import annotations

import base58 as _b58

ALPHABET = _b58.BITCOIN_ALPHABET.decode()
_CHARS = set(ALPHABET)


def encode(data: bytes) -> str:
    return _b58.b58encode(bytes(data)).decode()


def decode(text: str) -> bytes:
    bad = next((c for c in text if c not in _CHARS), None)
    if bad is not None:
        raise ValueError(f"invalid base58 character {bad!r}")
    return _b58.b58decode(text)
