"""The bank of the local validator: accounts, slots, blockhashes and signed transactions."""

from .bank import Bank, TxResult
from .store import MemoryStore, SqliteStore

__all__ = ["Bank", "TxResult", "MemoryStore", "SqliteStore"]
