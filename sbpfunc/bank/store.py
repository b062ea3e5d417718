"""Where a bank keeps its state: accounts, transaction statuses and a few metadata values.

`MemoryStore` and `SqliteStore` have one interface. Every change a bank makes goes through
`commit(accounts, statuses, meta)`, which the SQLite store applies in one SQL transaction (WAL,
`synchronous=FULL`): when `commit` returns, the transaction's accounts, its status and the slot are
on disk together, so a transaction reported as confirmed survives `kill -9`.

Accounts are stored as (lamports, data, owner, executable, rent_epoch); an account whose lamports
drop to zero is deleted, as Agave purges zero-lamport accounts. Status records are JSON objects
(the bank defines their fields).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Iterator, Protocol

from solders.pubkey import Pubkey

from ..runtime.accounts import Account


class Store(Protocol):
    def get(self, key: Pubkey) -> Account | None: ...

    def accounts_by_owner(self, owner: Pubkey) -> Iterator[tuple[Pubkey, Account]]: ...

    def get_status(self, signature: str) -> dict | None: ...

    def get_meta(self, name: str) -> str | None: ...

    def statuses_in_slot(self, slot: int) -> list[tuple[str, dict]]: ...

    def commit(self, accounts: dict[Pubkey, Account | None], statuses: dict[str, dict] | None = None,
               meta: dict[str, str] | None = None) -> None: ...

    def account_count(self) -> int: ...

    def close(self) -> None: ...


class MemoryStore:
    """Everything in dicts; `commit` swaps the changes in (atomic because nothing else runs)."""

    def __init__(self):
        self.accounts: dict[Pubkey, Account] = {}
        self.statuses: dict[str, dict] = {}
        self.meta: dict[str, str] = {}

    def get(self, key: Pubkey) -> Account | None:
        a = self.accounts.get(key)
        return a.copy() if a is not None else None

    def accounts_by_owner(self, owner: Pubkey) -> Iterator[tuple[Pubkey, Account]]:
        for k, a in list(self.accounts.items()):
            if a.owner == owner:
                yield k, a.copy()

    def get_status(self, signature: str) -> dict | None:
        return self.statuses.get(signature)

    def get_meta(self, name: str) -> str | None:
        return self.meta.get(name)

    def statuses_in_slot(self, slot: int) -> list[tuple[str, dict]]:
        """(signature, record) of the slot's transactions, in commit order."""
        return [(s, r) for s, r in self.statuses.items() if r.get("slot") == slot]

    def commit(self, accounts, statuses=None, meta=None) -> None:
        for k, a in accounts.items():
            if a is None or a.lamports == 0:
                self.accounts.pop(k, None)
            else:
                self.accounts[k] = a.copy()
        self.statuses.update(statuses or {})
        self.meta.update(meta or {})

    def account_count(self) -> int:
        return len(self.accounts)

    def close(self) -> None:
        pass


SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    pubkey BLOB PRIMARY KEY, lamports INTEGER NOT NULL, data BLOB NOT NULL, owner BLOB NOT NULL,
    executable INTEGER NOT NULL, rent_epoch INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS accounts_owner ON accounts(owner);
CREATE TABLE IF NOT EXISTS statuses (signature TEXT PRIMARY KEY, slot INTEGER NOT NULL, record TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS statuses_slot ON statuses(slot);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

LEDGER_FILE = "ledger.sqlite3"


class SqliteStore:
    """The same store in one SQLite file (`DIR/ledger.sqlite3`)."""

    def __init__(self, path: str | Path, *, reset: bool = False, synchronous: str = "FULL"):
        path = Path(path)
        if path.suffix != ".sqlite3":
            path.mkdir(parents=True, exist_ok=True)
            path = path / LEDGER_FILE
        if reset:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.executescript(SCHEMA)

    @staticmethod
    def _account(row) -> Account:
        lamports, data, owner, executable, rent_epoch = row
        return Account(lamports, bytearray(data), Pubkey.from_bytes(owner), bool(executable), rent_epoch)

    def get(self, key: Pubkey) -> Account | None:
        row = self.db.execute("SELECT lamports, data, owner, executable, rent_epoch FROM accounts WHERE pubkey=?",
                              (bytes(key),)).fetchone()
        return None if row is None else self._account(row)

    def accounts_by_owner(self, owner: Pubkey) -> Iterator[tuple[Pubkey, Account]]:
        rows = self.db.execute("SELECT pubkey, lamports, data, owner, executable, rent_epoch FROM accounts "
                               "WHERE owner=? ORDER BY pubkey", (bytes(owner),)).fetchall()
        for row in rows:
            yield Pubkey.from_bytes(row[0]), self._account(row[1:])

    def get_status(self, signature: str) -> dict | None:
        row = self.db.execute("SELECT record FROM statuses WHERE signature=?", (signature,)).fetchone()
        return None if row is None else json.loads(row[0])

    def statuses_in_slot(self, slot: int) -> list[tuple[str, dict]]:
        """(signature, record) of the slot's transactions, in commit order (rowid)."""
        rows = self.db.execute("SELECT signature, record FROM statuses WHERE slot=? ORDER BY rowid", (slot,))
        return [(s, json.loads(r)) for s, r in rows.fetchall()]

    def get_meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name=?", (name,)).fetchone()
        return None if row is None else row[0]

    def commit(self, accounts, statuses=None, meta=None) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            for k, a in accounts.items():
                if a is None or a.lamports == 0:
                    db.execute("DELETE FROM accounts WHERE pubkey=?", (bytes(k),))
                else:
                    db.execute("INSERT OR REPLACE INTO accounts VALUES (?,?,?,?,?,?)",
                               (bytes(k), a.lamports, bytes(a.data), bytes(a.owner), int(a.executable),
                                a.rent_epoch))
            for sig, rec in (statuses or {}).items():
                db.execute("INSERT OR REPLACE INTO statuses VALUES (?,?,?)",
                           (sig, int(rec.get("slot", 0)), json.dumps(rec, separators=(",", ":"))))
            for name, value in (meta or {}).items():
                db.execute("INSERT OR REPLACE INTO meta VALUES (?,?)", (name, value))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def account_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM accounts").fetchone()[0]

    def close(self) -> None:
        self.db.close()
