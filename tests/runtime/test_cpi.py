"""CPI (`sol_invoke_signed_c` / `sol_invoke_signed_rust`) differentially against LiteSVM.

Two C programs are built at test time: PROXY performs one CPI described by its instruction data
(C or Rust ABI, optional PDA signer seeds, optional changes to its accounts before the call,
optional logging of every account and of the return data after it, and injected faults), and
CALLEE does one thing selected by its first data byte (set return data, fail, write or resize its
account, move lamports, fault, recurse through CPI, assign, burn all compute units).

Each scenario runs as a signed transaction in LiteSVM (solders 0.29 = Agave 4.1.2) and through
`process_instructions` here; logs (line by line), consumed units, the error and every account's
post-state must be identical. The fee payer exists only in LiteSVM and is not compared.

PROXY data: u8 flags (1 log accounts after, 2 read return data after, 4 Rust ABI, 8 program id
inline, 16 unaligned SolInstruction, 32 NULL account infos, 64 seventeen signers, 128 meta flag
byte 2), callee (u8 account index or 32-byte id), u8 n_infos (0xff all), u8 n_metas + 3 bytes
each (u8 account index or 0xff + 32-byte key, u8 signer, u8 writable), u8 n_seeds + (u8 len,
bytes) each (one signer), u8 n_ops + 11 bytes each (u8 kind, u8 a, u8 b, u64 v: 0 move v lamports
a->b, 1 data[a][v&0xffff] = v>>16, 2 info.data_len = v, 3 serialized len = v, 4 owner[a] = key[b],
5 set return data "pre"), u16 data_len (0xfffe/0xffff: 10240/10241 bytes from the heap), data.
"""

from __future__ import annotations

import difflib
import hashlib
import struct
from dataclasses import dataclass, field

import pytest
from solders.account import Account as SoldersAccount
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sbpfunc.runtime.accounts import SYSTEM_PROGRAM_ID, Account
from sbpfunc.runtime.builtins import default_builtins
from sbpfunc.runtime.cpi import CPI_SYSCALLS
from sbpfunc.runtime.message_processor import Ix, process_instructions
from sbpfunc.runtime.programs import ProgramCache, upgradeable_accounts

PROXY_SRC = r"""
#include <sbpfunc.h>

uint64_t sol_invoke_signed_rust(const void *instruction, const void *account_infos, uint64_t n_infos,
                                const SolSignerSeeds *signers, uint64_t n_signers);

#define MAX_ACCTS 16
#define HEAP ((uint8_t *)MM_HEAP_START)

typedef struct { uint64_t ptr, cap, len; } StableVec;
typedef struct { StableVec accounts; StableVec data; SolPubkey program_id; } StableInstruction;
typedef struct { SolPubkey pubkey; uint8_t is_signer; uint8_t is_writable; } RustAccountMeta;
typedef struct { uint64_t strong, weak, borrow; uint64_t *value; } RcLamports;
typedef struct { uint64_t strong, weak, borrow; uint8_t *ptr; uint64_t len; } RcData;
typedef struct {
  SolPubkey *key; RcLamports *lamports; RcData *data; SolPubkey *owner;
  uint64_t rent_epoch; uint8_t is_signer, is_writable, executable;
} RustAccountInfo;

static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo *ka = (SolAccountInfo *)HEAP;
  SolAccountMeta *metas = (SolAccountMeta *)(HEAP + 1024);
  SolSignerSeed *seeds = (SolSignerSeed *)(HEAP + 2048);
  SolSignerSeeds *signers = (SolSignerSeeds *)(HEAP + 2560);
  RustAccountMeta *rmetas = (RustAccountMeta *)(HEAP + 3072);
  RustAccountInfo *rinfos = (RustAccountInfo *)(HEAP + 4096);
  RcLamports *rlam = (RcLamports *)(HEAP + 5120);
  RcData *rdat = (RcData *)(HEAP + 6144);
  StableInstruction *rix = (StableInstruction *)(HEAP + 7168);
  SolInstruction *cix = (SolInstruction *)(HEAP + 7424);
  uint8_t *retbuf = HEAP + 8192;

  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, MAX_ACCTS)) return ERROR_INVALID_ARGUMENT;
  uint64_t nka = params.ka_num < MAX_ACCTS ? params.ka_num : MAX_ACCTS;
  const uint8_t *d = params.data;

  uint8_t flags = *d++;
  const SolPubkey *program_id;
  if (flags & 8) { program_id = (const SolPubkey *)d; d += 32; }
  else { program_id = ka[*d++].key; }
  uint64_t n_infos = *d++;
  if (n_infos == 0xff) n_infos = nka;
  uint64_t n_metas = *d++;
  for (uint64_t i = 0; i < n_metas; i++) {
    uint8_t idx = *d++;
    if (idx == 0xff) { metas[i].pubkey = (SolPubkey *)d; d += 32; }
    else metas[i].pubkey = ka[idx].key;
    metas[i].is_signer = *d++;
    metas[i].is_writable = *d++;
  }
  uint64_t n_seeds = *d++;
  for (uint64_t i = 0; i < n_seeds; i++) {
    seeds[i].len = *d++;
    seeds[i].addr = d;
    d += seeds[i].len;
  }
  signers[0].addr = seeds;
  signers[0].len = n_seeds;
  uint64_t n_ops = *d++;
  for (uint64_t i = 0; i < n_ops; i++) {
    uint8_t kind = d[0], a = d[1], b = d[2];
    uint64_t v = rd64(d + 3);
    d += 11;
    if (kind == 0) { *ka[a].lamports -= v; *ka[b].lamports += v; }
    else if (kind == 1) { ka[a].data[v & 0xffff] = (uint8_t)(v >> 16); }
    else if (kind == 2) { ka[a].data_len = v; }
    else if (kind == 3) { *(uint64_t *)(ka[a].data - 8) = v; }
    else if (kind == 4) { for (int j = 0; j < 32; j++) ka[a].owner->x[j] = ka[b].key->x[j]; }
    else if (kind == 5) { sol_set_return_data((const uint8_t *)"pre", 3); }
  }
  uint64_t data_len = d[0] | ((uint64_t)d[1] << 8);
  d += 2;
  if (data_len >= 0xfffe) { /* a large instruction: 10240 (0xfffe) or 10241 (0xffff) bytes */
    uint8_t *big = HEAP + 16384;
    big[0] = 2;
    d = big;
    data_len = data_len == 0xfffe ? 10240 : 10241;
  }
  if (flags & 128) *(uint8_t *)&metas[0].is_signer = 2; /* not through _Bool, which would store 1 */
  uint64_t n_signers = n_seeds ? 1 : 0;
  if (flags & 64) n_signers = 17;

  uint64_t rc;
  if (flags & 4) {
    for (uint64_t i = 0; i < n_metas; i++) {
      for (int j = 0; j < 32; j++) rmetas[i].pubkey.x[j] = metas[i].pubkey->x[j];
      rmetas[i].is_signer = *(uint8_t *)&metas[i].is_signer;
      rmetas[i].is_writable = metas[i].is_writable;
    }
    for (uint64_t i = 0; i < n_infos; i++) {
      rlam[i].strong = 1; rlam[i].weak = 1; rlam[i].borrow = 0; rlam[i].value = ka[i].lamports;
      rdat[i].strong = 1; rdat[i].weak = 1; rdat[i].borrow = 0;
      rdat[i].ptr = ka[i].data; rdat[i].len = ka[i].data_len;
      rinfos[i].key = ka[i].key; rinfos[i].lamports = &rlam[i]; rinfos[i].data = &rdat[i];
      rinfos[i].owner = ka[i].owner; rinfos[i].rent_epoch = ka[i].rent_epoch;
      rinfos[i].is_signer = ka[i].is_signer; rinfos[i].is_writable = ka[i].is_writable;
      rinfos[i].executable = ka[i].executable;
    }
    rix->accounts.ptr = (uint64_t)rmetas; rix->accounts.cap = n_metas; rix->accounts.len = n_metas;
    rix->data.ptr = (uint64_t)d; rix->data.cap = data_len; rix->data.len = data_len;
    for (int j = 0; j < 32; j++) rix->program_id.x[j] = program_id->x[j];
    rc = sol_invoke_signed_rust(rix, (flags & 32) ? NULL : (void *)rinfos, n_infos, n_signers ? signers : NULL,
                                n_signers);
    for (uint64_t i = 0; i < n_infos; i++) ka[i].data_len = rdat[i].len;
  } else {
    if (flags & 16) cix = (SolInstruction *)(HEAP + 7425);
    cix->program_id = (SolPubkey *)program_id;
    cix->accounts = metas;
    cix->account_len = n_metas;
    cix->data = (uint8_t *)d;
    cix->data_len = data_len;
    rc = sol_invoke_signed_c(cix, (flags & 32) ? NULL : ka, (int)n_infos, n_signers ? signers : NULL,
                             (int)n_signers);
  }
  if (flags & 1) {
    for (uint64_t i = 0; i < nka; i++) {
      uint64_t first = ka[i].data_len >= 8 ? rd64(ka[i].data) : 0;
      sol_log_64_(i, *ka[i].lamports, ka[i].data_len, *(uint64_t *)(ka[i].data - 8), first);
      sol_log_pubkey(ka[i].owner);
    }
  }
  if (flags & 2) {
    SolPubkey setter;
    uint64_t n = sol_get_return_data(retbuf, 64, &setter);
    sol_log_64_(0x7265, n, 0, 0, 0);
    if (n) sol_log_(retbuf, n < 64 ? n : 64);
    sol_log_pubkey(&setter);
  }
  return rc;
}
"""

CALLEE_SRC = r"""
#include <sbpfunc.h>

#define MAX_ACCTS 16
#define HEAP ((uint8_t *)MM_HEAP_START)

static uint64_t rd64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo *ka = (SolAccountInfo *)HEAP;
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, MAX_ACCTS)) return ERROR_INVALID_ARGUMENT;
  uint64_t nka = params.ka_num < MAX_ACCTS ? params.ka_num : MAX_ACCTS;
  const uint8_t *d = params.data;
  uint64_t n = params.data_len;
  if (n == 0) { sol_log("callee: no data"); return SUCCESS; }
  sol_log_64_(0xca11ee, d[0], n, nka, sol_get_stack_height());
  switch (d[0]) {
  case 0: /* set return data */
    sol_set_return_data(d + 1, n - 1);
    return SUCCESS;
  case 1: /* fail */
    sol_log("callee: failing");
    return 42;
  case 2: /* increment the u64 at the start of account 0 */
    if (ka[0].data_len < 8) return ERROR_ACCOUNT_DATA_TOO_SMALL;
    *(uint64_t *)ka[0].data += 1;
    return SUCCESS;
  case 3: { /* resize account 0 to u64 d[1..9], filling new bytes with 0xab */
    uint64_t len = rd64(d + 1);
    for (uint64_t i = ka[0].data_len; i < len; i++) ka[0].data[i] = 0xab;
    *(uint64_t *)(ka[0].data - 8) = len;
    return SUCCESS;
  }
  case 4: { /* move u64 d[1..9] lamports from account 0 to account 1 */
    uint64_t v = rd64(d + 1);
    *ka[0].lamports -= v;
    *ka[1].lamports += v;
    return SUCCESS;
  }
  case 5: /* VM fault */
    return *(volatile uint64_t *)8;
  case 6: { /* invoke account d[1] with data d[2..], passing on all accounts with their privileges */
    SolAccountMeta *metas = (SolAccountMeta *)(HEAP + 2048);
    for (uint64_t i = 0; i < nka; i++) {
      metas[i].pubkey = ka[i].key;
      metas[i].is_writable = ka[i].is_writable;
      metas[i].is_signer = ka[i].is_signer;
    }
    SolInstruction ix = {ka[d[1]].key, metas, nka, (uint8_t *)d + 2, n - 2};
    return sol_invoke_signed_c(&ix, ka, (int)nka, NULL, 0);
  }
  case 7: /* assign account 0 to account 1's key */
    for (int j = 0; j < 32; j++) ka[0].owner->x[j] = ka[1].key->x[j];
    return SUCCESS;
  case 8: /* write d[1..] at offset 0 of account 0 */
    for (uint64_t i = 1; i < n && i - 1 < ka[0].data_len; i++) ka[0].data[i - 1] = d[i];
    return SUCCESS;
  case 10: { /* run out of compute units */
    volatile uint64_t x = 0;
    for (;;) x++;
  }
  }
  return ERROR_INVALID_INSTRUCTION_DATA;
}
"""

PROXY_ID = Pubkey.from_string("Proxy11111111111111111111111111111111111111")
CALLEE_ID = Pubkey.from_string("Ca11ee1111111111111111111111111111111111111")
BPF_LOADER_2 = Pubkey.from_string("BPFLoader2111111111111111111111111111111111")
PROGRAM_LAMPORTS = 1_141_440  # rent-exempt minimum of a 36-byte program account (as add_program sets)
RENT = 10**9
SYS = SYSTEM_PROGRAM_ID


def _kp(i: int) -> Keypair:
    return Keypair.from_seed(bytes([i]) * 32)


def _key(name: str) -> Pubkey:
    return Pubkey.from_bytes(hashlib.sha256(name.encode()).digest())


KA, KB, KC = _kp(1), _kp(2), _kp(3)
A, B, C = KA.pubkey(), KB.pubkey(), KC.pubkey()
VAULT, VAULT_BUMP = Pubkey.find_program_address([b"vault"], PROXY_ID)
NEW_PDA, NEW_BUMP = Pubkey.find_program_address([b"new", bytes(A)], PROXY_ID)
P = _key("proxy-owned")  # 16 bytes 0..15, owned by PROXY
Q = _key("callee-owned")  # 24 zero bytes, owned by CALLEE
Z = _key("callee-owned-8")  # 8 zero bytes, owned by CALLEE
Z2 = _key("proxy-owned-zeroed")  # 8 zero bytes, owned by PROXY
BIG = _key("callee-big")  # 5000 zero bytes, owned by CALLEE
W = _key("callee-owned-nonzero")  # 8 bytes of 1s, owned by CALLEE


def _wrong_bump() -> int:
    for bump in range(255, -1, -1):
        digest = hashlib.sha256(b"vault" + bytes([bump]) + bytes(PROXY_ID) + b"ProgramDerivedAddress").digest()
        if bump != VAULT_BUMP and not Pubkey.from_bytes(digest).is_on_curve():
            return bump
    raise AssertionError("no off-curve bump")


def _sys(lamports: int = RENT) -> SoldersAccount:
    return SoldersAccount(lamports, b"", SYS, False, 0)


ACCOUNTS: dict[Pubkey, SoldersAccount] = {
    A: _sys(), B: _sys(), C: _sys(), VAULT: _sys(),
    P: SoldersAccount(RENT, bytes(range(16)), PROXY_ID, False, 0),
    Q: SoldersAccount(RENT, bytes(24), CALLEE_ID, False, 0),
    Z: SoldersAccount(RENT, bytes(8), CALLEE_ID, False, 0),
    Z2: SoldersAccount(RENT, bytes(8), PROXY_ID, False, 0),
    BIG: SoldersAccount(RENT, bytes(5000), CALLEE_ID, False, 0),
    W: SoldersAccount(RENT, b"\x01" * 8, CALLEE_ID, False, 0),
}
COMPARED = [*ACCOUNTS, NEW_PDA]


# --- building -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def elfs(tmp_path_factory) -> dict[Pubkey, bytes]:
    from sbpfunc.toolchain.compiler import build
    from sbpfunc.toolchain.errors import ToolchainError

    out = tmp_path_factory.mktemp("cpi")
    result = {}
    for pid, name, src in ((PROXY_ID, "proxy", PROXY_SRC), (CALLEE_ID, "callee", CALLEE_SRC)):
        (out / f"{name}.c").write_text(src)
        try:
            result[pid] = build([out / f"{name}.c"], out / f"{name}.so")
        except ToolchainError as e:  # pragma: no cover - no clang on this machine
            pytest.skip(f"cannot build test programs: {e}")
    return result


def _registry():
    from sbpfunc.syscalls.core import runtime_registry

    registry = runtime_registry()
    if "sol_invoke_signed_c" not in registry:
        registry = runtime_registry(extra=CPI_SYSCALLS)
    return registry


@pytest.fixture(scope="module")
def programs() -> ProgramCache:
    return ProgramCache(_registry())


# --- proxy instruction data -----------------------------------------------------------------------
LOG, RETDATA, RUST, INLINE_ID, UNALIGNED_IX, NULL_INFOS, SEVENTEEN_SIGNERS, BAD_FLAG = (1 << i for i in range(8))


def proxy_data(callee, metas, *, flags=0, n_infos=0xFF, seeds=(), ops=(), data=b"", data_len=None) -> bytes:
    out = bytearray([flags])
    if isinstance(callee, Pubkey):
        out[0] |= INLINE_ID
        out += bytes(callee)
    else:
        out.append(callee)
    out += bytes([n_infos, len(metas)])
    for idx, signer, writable in metas:
        out += (b"\xff" + bytes(idx)) if isinstance(idx, Pubkey) else bytes([idx])
        out += bytes([signer, writable])
    out.append(len(seeds))
    for seed in seeds:
        out += bytes([len(seed)]) + seed
    out.append(len(ops))
    for kind, a, b, v in ops:
        out += bytes([kind, a, b]) + struct.pack("<Q", v)
    out += struct.pack("<H", len(data) if data_len is None else data_len) + data
    return bytes(out)


def M(key: Pubkey, signer: bool = False, writable: bool = False) -> AccountMeta:
    return AccountMeta(key, signer, writable)


def transfer_data(lamports: int) -> bytes:
    return struct.pack("<IQ", 2, lamports)


@dataclass
class Scenario:
    name: str
    instructions: list[Instruction]
    signers: list[Keypair] = field(default_factory=list)
    error: str | None = None  # expected error kind (checked against both runtimes)


def proxy_ix(metas: list[AccountMeta], *args, **kw) -> Instruction:
    return Instruction(PROXY_ID, proxy_data(*args, **kw), metas)


# Accounts of the callee scenarios: [Q w, B w, CALLEE, ...]
def callee_metas(*extra: AccountMeta) -> list[AccountMeta]:
    return [M(Q, writable=True), M(B, writable=True), M(CALLEE_ID), *extra]


SYSTEM_METAS = [M(A, True, True), M(B, writable=True), M(SYS)]
VAULT_METAS = [M(VAULT, writable=True), M(B, writable=True), M(C), M(SYS)]


def _scenarios() -> list[Scenario]:
    s = [
        # --- into the system program ---
        Scenario("system transfer", [proxy_ix(SYSTEM_METAS, 2, [(0, 1, 1), (1, 0, 1)], flags=LOG,
                                              data=transfer_data(12345))], [KA]),
        Scenario("system transfer, insufficient funds", [proxy_ix(SYSTEM_METAS, 2, [(0, 1, 1), (1, 0, 1)],
                                                                  data=transfer_data(10**12))], [KA], "Custom(1)"),
        Scenario("system transfer with PDA signer", [proxy_ix(VAULT_METAS, 3, [(0, 1, 1), (1, 0, 1)], flags=LOG,
                                                              seeds=[b"vault", bytes([VAULT_BUMP])],
                                                              data=transfer_data(777))]),
        Scenario("PDA signer with a wrong bump", [proxy_ix(VAULT_METAS, 3, [(0, 1, 1), (1, 0, 1)],
                                                           seeds=[b"vault", bytes([_wrong_bump()])],
                                                           data=transfer_data(777))], [], "PrivilegeEscalation"),
        Scenario("create_account for a PDA", [proxy_ix(
            [M(A, True, True), M(NEW_PDA, writable=True), M(SYS)], 2, [(0, 1, 1), (1, 1, 1)], flags=LOG,
            seeds=[b"new", bytes(A), bytes([NEW_BUMP])],
            data=struct.pack("<IQQ", 0, 5_000_000, 16) + bytes(PROXY_ID))], [KA]),
        Scenario("create_account for a PDA without its seeds", [proxy_ix(
            [M(A, True, True), M(NEW_PDA, writable=True), M(SYS)], 2, [(0, 1, 1), (1, 1, 1)],
            data=struct.pack("<IQQ", 0, 5_000_000, 16) + bytes(PROXY_ID))], [KA], "PrivilegeEscalation"),
        Scenario("allocate + assign a PDA", [proxy_ix(VAULT_METAS, 3, [(0, 1, 1)], flags=LOG,
                                                      seeds=[b"vault", bytes([VAULT_BUMP])],
                                                      data=struct.pack("<IQ", 8, 100)),
                                             proxy_ix(VAULT_METAS, 3, [(0, 1, 1)], flags=LOG,
                                                      seeds=[b"vault", bytes([VAULT_BUMP])],
                                                      data=struct.pack("<I", 1) + bytes(PROXY_ID))]),
        Scenario("allocate beyond the caller's realloc room", [proxy_ix(
            VAULT_METAS, 3, [(0, 1, 1)], seeds=[b"vault", bytes([VAULT_BUMP])],
            data=struct.pack("<IQ", 8, 20000))], [], "InvalidRealloc"),
        Scenario("unauthorized signer", [proxy_ix(SYSTEM_METAS, 2, [(0, 1, 1), (1, 1, 1)],
                                                  data=transfer_data(5))], [KA], "PrivilegeEscalation"),
        Scenario("writable escalation", [proxy_ix([M(A, True, True), M(B), M(SYS)], 2, [(0, 1, 1), (1, 0, 1)],
                                                  data=transfer_data(5))], [KA], "PrivilegeEscalation"),
        # --- into CALLEE ---
        Scenario("callee fails", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], data=b"\x01")], [], "Custom(42)"),
        Scenario("callee faults", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], data=b"\x05")], [],
                 "ProgramFailedToComplete"),
        Scenario("callee runs out of units", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], data=b"\x0a")], [],
                 "ProgramFailedToComplete"),
        Scenario("return data from the callee", [proxy_ix(callee_metas(), 2, [], flags=RETDATA,
                                                          data=b"\x00hello")]),
        Scenario("return data cleared when the callee starts", [proxy_ix(
            callee_metas(), 2, [(0, 0, 1)], flags=RETDATA, ops=[(5, 0, 0, 0)], data=b"\x02")]),
        Scenario("callee writes its account", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=LOG, data=b"\x02")]),
        Scenario("callee grows its account", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=LOG,
                                                       data=b"\x03" + struct.pack("<Q", 100))]),
        Scenario("callee grows its account by 10 KiB", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=LOG,
                                                                 data=b"\x03" + struct.pack("<Q", 24 + 10240))]),
        Scenario("callee shrinks its account", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=LOG,
                                                         data=b"\x03" + struct.pack("<Q", 3))]),
        Scenario("callee moves lamports", [proxy_ix(callee_metas(), 2, [(0, 0, 1), (1, 0, 1)], flags=LOG,
                                                    data=b"\x04" + struct.pack("<Q", 1000))]),
        Scenario("callee assigns an account with data", [proxy_ix(
            [M(W, writable=True), M(PROXY_ID), M(CALLEE_ID)], 2, [(0, 0, 1), (1, 0, 0)], flags=LOG, data=b"\x07")],
            [], "ModifiedProgramId"),
        Scenario("callee assigns a zeroed account", [proxy_ix(
            [M(Z, writable=True), M(PROXY_ID), M(CALLEE_ID)], 2, [(0, 0, 1), (1, 0, 0)], flags=LOG, data=b"\x07")]),
        Scenario("callee writes 1 KiB into a 5000-byte account", [proxy_ix(
            [M(BIG, writable=True), M(B), M(C), M(CALLEE_ID)], 3, [(0, 0, 1), (1, 0, 0)], flags=LOG,
            data=b"\x08" + bytes(range(256)) * 4)]),
        Scenario("10240 bytes of instruction data", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=LOG,
                                                              data_len=0xFFFE)]),
        Scenario("duplicate metas merge privileges", [proxy_ix(
            callee_metas(), 2, [(0, 0, 1), (0, 0, 0), (1, 0, 1), (0, 0, 1)], flags=LOG, data=b"\x02")]),
        Scenario("escalation through a duplicate meta", [proxy_ix(
            [M(Q, writable=True), M(B), M(CALLEE_ID)], 2, [(0, 0, 0), (1, 0, 0), (1, 0, 1)], data=b"\x02")],
            [], "PrivilegeEscalation"),
        # --- reentrancy and depth ---
        Scenario("reentrancy into the caller", [proxy_ix(
            [M(PROXY_ID), M(B, writable=True), M(CALLEE_ID)], 2, [(0, 0, 0)], data=b"\x06\x00x")],
            [], "ReentrancyNotAllowed"),
        Scenario("self recursion to depth 4", [proxy_ix(
            [M(CALLEE_ID), M(Q, writable=True)], 0, [(0, 0, 0), (1, 0, 1)], data=b"\x06\x00" * 2 + b"\x00ok")]),
        Scenario("self recursion past depth 5", [proxy_ix(
            [M(CALLEE_ID), M(Q, writable=True)], 0, [(0, 0, 0), (1, 0, 1)], data=b"\x06\x00" * 6 + b"\x02")],
            [], "CallDepth"),
        # --- translation and lookup failures ---
        Scenario("unknown account", [proxy_ix(callee_metas(), 2, [(_key("nowhere"), 0, 0)], data=b"\x02")],
                 [], "MissingAccount"),
        Scenario("account without an AccountInfo", [proxy_ix(callee_metas(), 2, [(1, 0, 1)], n_infos=1,
                                                             data=b"\x02")], [], "MissingAccount"),
        Scenario("program not in the transaction", [proxy_ix(callee_metas(), _key("nowhere"), [], data=b"\x02")],
                 [], "MissingAccount"),
        Scenario("program not among the caller's accounts", [
            proxy_ix([M(Q, writable=True), M(B, writable=True)], CALLEE_ID, [], data=b"\x02"),
            Instruction(CALLEE_ID, b"", [])], [], "MissingAccount"),
        Scenario("CPI into an account that is no program", [proxy_ix(
            [M(CALLEE_ID), M(Q, writable=True)], 1, [], data=b"\x02")], [], "UnsupportedProgramId"),
        Scenario("CPI into a loader", [proxy_ix(callee_metas(), BPF_LOADER_2, [], data=b"\x02")], [],
                 "ProgramFailedToComplete"),
        Scenario("unaligned SolInstruction", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=UNALIGNED_IX,
                                                       data=b"\x02")], [], "ProgramFailedToComplete"),
        Scenario("NULL account infos", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=NULL_INFOS, data=b"\x02")],
                 [], "ProgramFailedToComplete"),
        Scenario("17 signers", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=SEVENTEEN_SIGNERS, data=b"\x02")],
                 [], "ProgramFailedToComplete"),
        Scenario("17 seeds", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], seeds=[b"s"] * 17, data=b"\x02")], [],
                 "MaxSeedLengthExceeded"),
        Scenario("33-byte seed", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], seeds=[b"s" * 33], data=b"\x02")], [],
                 "ProgramFailedToComplete"),
        Scenario("meta flag byte 2", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], flags=BAD_FLAG, data=b"\x02")], [],
                 "InvalidArgument"),
        Scenario("10241 bytes of instruction data", [proxy_ix(callee_metas(), 2, [(0, 0, 1)], data_len=0xFFFF)],
                 [], "ProgramFailedToComplete"),
        # --- the caller's changes are synced into the callee's view ---
        Scenario("caller moves lamports between two passed accounts", [proxy_ix(
            callee_metas(M(P, writable=True)), 2, [(1, 0, 1), (3, 0, 1)], flags=LOG, ops=[(0, 3, 1, 100)],
            data=b"\x00x")]),
        Scenario("caller moves lamports to an account not passed", [proxy_ix(
            callee_metas(M(P, writable=True)), 2, [(0, 0, 1), (3, 0, 1)], ops=[(0, 3, 1, 100)], data=b"\x02")],
            [], "UnbalancedInstruction"),
        Scenario("caller writes data it owns, passed read-only", [proxy_ix(
            callee_metas(M(P, writable=True)), 2, [(0, 0, 1), (3, 0, 0)], flags=LOG, ops=[(1, 3, 0, 0x550003)],
            data=b"\x02")]),
        Scenario("caller writes data it does not own", [proxy_ix(
            callee_metas(), 2, [(0, 0, 1)], ops=[(1, 0, 0, 0x550003)], data=b"\x02")], [],
            "ExternalAccountDataModified"),
        Scenario("caller shrinks its AccountInfo data_len", [proxy_ix(
            callee_metas(M(P, writable=True)), 2, [(0, 0, 1), (3, 0, 0)], flags=LOG, ops=[(2, 3, 0, 4)],
            data=b"\x02")]),
        Scenario("caller assigns its zeroed account to the callee", [proxy_ix(
            [M(Z2, writable=True), M(B, writable=True), M(CALLEE_ID)], 2, [(0, 0, 1)], flags=LOG,
            ops=[(4, 0, 2, 0)], data=b"\x02")]),
        Scenario("caller assigns an account it does not own", [proxy_ix(
            [M(Q, writable=True), M(B, writable=True), M(CALLEE_ID), M(VAULT, writable=True)], 2, [(3, 0, 1)],
            ops=[(4, 3, 2, 0)], data=b"\x02")], [], "ModifiedProgramId"),
    ]
    return s


SCENARIOS = _scenarios()
# Scenarios also run with the Rust ABI (StableInstruction / AccountInfo with Rc boxes).
RUST_TOO = {"system transfer", "system transfer with PDA signer", "create_account for a PDA", "unauthorized signer",
            "callee writes its account", "callee grows its account", "callee shrinks its account",
            "return data from the callee", "reentrancy into the caller", "meta flag byte 2", "NULL account infos",
            "caller shrinks its AccountInfo data_len", "caller moves lamports between two passed accounts",
            "duplicate metas merge privileges", "self recursion past depth 5"}


def _rust(sc: Scenario) -> Scenario:
    ixs = [Instruction(ix.program_id, bytes([ix.data[0] | RUST]) + bytes(ix.data[1:]), ix.accounts)
           if ix.program_id == PROXY_ID else ix for ix in sc.instructions]
    return Scenario(sc.name + " (rust)", ixs, sc.signers, sc.error)


ALL = SCENARIOS + [_rust(sc) for sc in SCENARIOS if sc.name in RUST_TOO]


# --- running ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    logs: list[str]
    units: int
    error: str | None
    accounts: dict[Pubkey, SoldersAccount | None]
    return_data: tuple[Pubkey, bytes] | None


def _normal(acct: SoldersAccount | None) -> SoldersAccount | None:
    """A zero-lamport account does not exist."""
    return None if acct is None or acct.lamports == 0 else acct


def _budget(instructions: list[Instruction]) -> int:
    bpf = sum(1 for ix in instructions if ix.program_id != SYS)
    return min(1_400_000, 200_000 * bpf + 3_000 * (len(instructions) - bpf))


def _get(attr):
    """solders exposes some metadata fields as methods and others as properties."""
    return attr() if callable(attr) else attr


def run_litesvm(elfs, sc: Scenario) -> Outcome:
    from solders.litesvm import LiteSVM
    from solders.message import Message
    from solders.transaction import Transaction
    from solders.transaction_metadata import FailedTransactionMetadata

    svm = LiteSVM()
    payer = Keypair()
    svm.airdrop(payer.pubkey(), 10**12)
    for pid, elf in elfs.items():
        svm.add_program(pid, elf)
    for key, acct in ACCOUNTS.items():
        svm.set_account(key, acct)
    blockhash = svm.latest_blockhash()
    msg = Message.new_with_blockhash(sc.instructions, payer.pubkey(), blockhash)
    res = svm.send_transaction(Transaction([payer, *sc.signers], msg, blockhash))
    error = None
    if isinstance(res, FailedTransactionMetadata):
        meta, err = _get(res.meta), _get(res.err)
        inner = getattr(err, "err", None)
        assert inner is not None, f"not an instruction error: {err}"
        error = f"Custom({inner.code})" if hasattr(inner, "code") else str(inner).rsplit(".", 1)[-1]
    else:
        meta = res
    ret = _get(meta.return_data)
    return_data = (ret.program_id, bytes(ret.data)) if ret is not None and bytes(ret.data) else None
    return Outcome(list(_get(meta.logs)), _get(meta.compute_units_consumed), error,
                   {k: _normal(svm.get_account(k)) for k in COMPARED}, return_data)


def run_sbpfunc(elfs, programs: ProgramCache, sc: Scenario) -> Outcome:
    state = {k: Account.from_solders(a) for k, a in ACCOUNTS.items()}
    extra = {}
    for pid, elf in elfs.items():
        program, pda, programdata = upgradeable_accounts(pid, elf, lamports=PROGRAM_LAMPORTS)
        state[pid] = program
        extra[pda] = programdata
    res = process_instructions([Ix.from_solders(ix) for ix in sc.instructions], state, programs=programs,
                               builtins=default_builtins(), compute_unit_limit=_budget(sc.instructions),
                               extra_accounts=extra)
    post = {}
    for k in COMPARED:
        a = res.accounts.get(k)
        post[k] = _normal(a.to_solders() if a is not None else ACCOUNTS.get(k))
    return Outcome(res.logs, res.compute_units_consumed, res.error[1].kind if res.error else None, post,
                   res.return_data)


def assert_same(lite: Outcome, ours: Outcome) -> None:
    if lite.logs != ours.logs:
        diff = "\n".join(difflib.unified_diff(lite.logs, ours.logs, "litesvm", "sbpfunc", lineterm=""))
        pytest.fail(f"logs differ:\n{diff}")
    assert ours.units == lite.units
    assert ours.error == lite.error
    for k in COMPARED:
        assert ours.accounts[k] == lite.accounts[k], f"account {k}"
    assert ours.return_data == lite.return_data


@pytest.mark.parametrize("sc", ALL, ids=[sc.name for sc in ALL])
def test_cpi_matches_litesvm(elfs, programs, sc):
    lite = run_litesvm(elfs, sc)
    ours = run_sbpfunc(elfs, programs, sc)
    assert lite.error == sc.error, f"scenario drifted: LiteSVM says {lite.error}"
    assert_same(lite, ours)


# --- a few properties spelled out -------------------------------------------------------------------
def _by_name(name: str) -> Scenario:
    return next(sc for sc in ALL if sc.name == name)


def test_privilege_escalation_logs(elfs, programs):
    ours = run_sbpfunc(elfs, programs, _by_name("unauthorized signer"))
    assert f"{B}'s signer privilege escalated" in ours.logs
    assert ours.logs[-1] == (f"Program {PROXY_ID} failed: Cross-program invocation with unauthorized signer "
                             "or writable account")
    assert ours.accounts[A] == ACCOUNTS[A] and ours.accounts[B] == ACCOUNTS[B]
    ours = run_sbpfunc(elfs, programs, _by_name("writable escalation"))
    assert f"{B}'s writable privilege escalated" in ours.logs


def test_return_data_visibility(elfs, programs):
    ours = run_sbpfunc(elfs, programs, _by_name("return data from the callee"))
    assert f"Program return: {CALLEE_ID} aGVsbG8=" in ours.logs  # the callee's own line
    assert f"Program return: {PROXY_ID} aGVsbG8=" in ours.logs  # the caller's line names the caller
    assert "Program log: hello" in ours.logs and f"Program log: {CALLEE_ID}" in ours.logs
    assert ours.return_data == (CALLEE_ID, b"hello")
    cleared = run_sbpfunc(elfs, programs, _by_name("return data cleared when the callee starts"))
    assert "Program log: 0x7265, 0x0, 0x0, 0x0, 0x0" in cleared.logs
    assert cleared.return_data is None


def test_callee_resize_written_back(elfs, programs):
    ours = run_sbpfunc(elfs, programs, _by_name("callee grows its account"))
    acct = ours.accounts[Q]
    assert len(acct.data) == 100 and acct.data[24:] == b"\xab" * 76
    # the proxy saw the new length in its AccountInfo and in the serialized length field
    assert "Program log: 0x0, 0x3b9aca00, 0x64, 0x64, 0x0" in ours.logs
