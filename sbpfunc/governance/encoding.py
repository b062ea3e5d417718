"""Small, dependency-free encodings shared by the governance files.

* base58 (Bitcoin alphabet, as Solana prints public keys and signatures);
* Solana CLI keypair files: a JSON array of 64 integers, the 32-byte ed25519 seed followed by the
  32-byte public key (what `solana-keygen new -o KEY.json` writes);
* a tiny TOML writer for the fixed governance formats (tables, arrays of tables, strings,
  integers, booleans and arrays of those) — reading uses the standard library's `tomllib`;
* canonical JSON (sorted keys, no spaces) for digests.

Nothing here imports the VM.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import base58

from .errors import GovernanceError

_B58_ALPHABET = set(base58.BITCOIN_ALPHABET.decode())


def b58encode(data: bytes) -> str:
    return base58.b58encode(bytes(data)).decode()


def b58decode(text: str, length: int | None = None) -> bytes:
    if not isinstance(text, str):
        raise GovernanceError(f"not a base58 string: {text!r}")
    bad = next((ch for ch in text if ch not in _B58_ALPHABET), None)
    if bad is not None:
        raise GovernanceError(f"not a base58 string: {text!r} (bad character {bad!r})")
    data = base58.b58decode(text)
    if length is not None and len(data) != length:
        raise GovernanceError(f"base58 value {text!r} is {len(data)} bytes, expected {length}")
    return data


def pubkey_bytes(identity: str) -> bytes:
    """A base58 public key (32 bytes)."""
    return b58decode(identity, 32)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def check_sha256(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value.lower()):
        raise GovernanceError(f"{what} must be a SHA-256 in hex (64 digits), got {value!r}")
    return value.lower()


def canonical_json(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# --- keypairs --------------------------------------------------------------------------------------
class Keypair:
    """An ed25519 keypair (pynacl) read from or written to the Solana CLI JSON format."""

    def __init__(self, seed: bytes):
        from nacl.signing import SigningKey

        if len(seed) != 32:
            raise GovernanceError("an ed25519 seed is 32 bytes")
        self._sk = SigningKey(seed)
        self.seed = bytes(seed)
        self.public = bytes(self._sk.verify_key)

    @property
    def pubkey(self) -> str:
        return b58encode(self.public)

    def sign(self, message: bytes) -> bytes:
        return self._sk.sign(message).signature

    def to_json(self) -> str:
        return json.dumps(list(self.seed + self.public))

    @classmethod
    def from_json_bytes(cls, raw: list, source: str = "keypair") -> "Keypair":
        if (not isinstance(raw, list) or len(raw) != 64
                or not all(isinstance(b, int) and not isinstance(b, bool) and 0 <= b <= 255 for b in raw)):
            raise GovernanceError(f"{source}: a Solana keypair file is a JSON array of 64 bytes")
        kp = cls(bytes(raw[:32]))
        if kp.public != bytes(raw[32:]):
            raise GovernanceError(f"{source}: the public key (bytes 32..63) does not match the secret seed")
        return kp

    @classmethod
    def load(cls, path: str | Path) -> "Keypair":
        path = Path(path)
        try:
            raw = json.loads(path.read_text())
        except OSError as e:
            raise GovernanceError(f"cannot read keypair {path}: {e.strerror or e}") from None
        except ValueError as e:
            raise GovernanceError(f"keypair {path} is not JSON: {e}") from None
        return cls.from_json_bytes(raw, str(path))


def verify_signature(public: bytes, message: bytes, signature: bytes) -> bool:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    if len(public) != 32 or len(signature) != 64:
        return False
    try:
        VerifyKey(public).verify(message, signature)
        return True
    except (BadSignatureError, ValueError, TypeError):
        return False
    except Exception:  # noqa: BLE001 - libsodium rejects some encodings (small-order points) this way
        return False


# --- TOML ------------------------------------------------------------------------------------------
def read_toml(path: str | Path) -> dict:
    path = Path(path)
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except OSError as e:
        raise GovernanceError(f"cannot read {path}: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise GovernanceError(f"{path}: not valid TOML: {e}") from None


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_str(k)


def _toml_str(s: str) -> str:
    out = ['"']
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise GovernanceError(f"cannot write {type(v).__name__} to TOML")


def dump_toml(doc: dict, header: str = "") -> str:
    """Write a dict as TOML: scalars first, then sub-tables, then arrays of tables (one level)."""
    lines = [f"# {h}" if h else "#" for h in header.splitlines()] if header else []
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict)
               and not (isinstance(v, list) and v and all(isinstance(x, dict) for x in v))}
    tables = {k: v for k, v in doc.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in doc.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)}
    for k, v in scalars.items():
        if v is not None:
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
    for k, t in tables.items():
        lines.append("")
        lines.append(f"[{_toml_key(k)}]")
        for kk, vv in t.items():
            if isinstance(vv, dict):
                raise GovernanceError("nested tables are not used by the governance formats")
            if vv is not None:
                lines.append(f"{_toml_key(kk)} = {_toml_value(vv)}")
    for k, items in arrays.items():
        for t in items:
            lines.append("")
            lines.append(f"[[{_toml_key(k)}]]")
            for kk, vv in t.items():
                if vv is not None:
                    lines.append(f"{_toml_key(kk)} = {_toml_value(vv)}")
    return "\n".join(lines).lstrip("\n") + "\n"
