"""SPL instructions built by hand from the published layouts, plus the programs taken from LiteSVM.

Instruction data is a tag byte followed by little-endian fields (spl-token / Token-2022 share
these tags and layouts for every instruction used here):

    tag  instruction          data after the tag                          accounts
     3   Transfer             u64 amount                                  [source w, dest w, owner s]
     4   Approve              u64 amount                                  [source w, delegate, owner s]
     7   MintTo               u64 amount                                  [mint w, account w, authority s]
     8   Burn                 u64 amount                                  [account w, mint w, owner s]
     9   CloseAccount         -                                           [account w, dest w, owner s]
    12   TransferChecked      u64 amount, u8 decimals                     [source w, mint, dest w, owner s]
    18   InitializeAccount3   Pubkey owner                                [account w, mint]
    20   InitializeMint2      u8 decimals, Pubkey authority, COption<Pubkey> freeze   [mint w]

COption<Pubkey> is one tag byte (0 = None, 1 = Some) then the 32-byte key when Some. A Mint is 82
bytes and a token Account 165 bytes (also in Token-2022 when no extension is used).

Associated Token Account: Create is empty data (or [0]); CreateIdempotent is [1]; accounts
[funder s w, associated account w, wallet, mint, system program, token program].

Memo: the data is the UTF-8 memo; every account passed must be a signer.
"""

from __future__ import annotations

import hashlib
import struct

from solders.account import Account
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from sbpfunc.runtime.accounts import BPF_LOADER_DEPRECATED_ID, BPF_LOADER_ID, BPF_LOADER_UPGRADEABLE_ID

TOKEN_PROGRAM_ID = Pubkey.from_string("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
TOKEN_2022_PROGRAM_ID = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
ATA_PROGRAM_ID = Pubkey.from_string("ATokenGPvbdGVxr1b2hvZbsiqW5xWH25efTNsLJA8knL")
MEMO_V3_PROGRAM_ID = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
MEMO_V1_PROGRAM_ID = Pubkey.from_string("Memo1UhkJRfHyvLMcVucJwxXeuD728EqVDDwQDxFMNo")
SYSTEM_PROGRAM_ID = Pubkey.from_string("11111111111111111111111111111111")

SPL_PROGRAMS = [TOKEN_PROGRAM_ID, TOKEN_2022_PROGRAM_ID, ATA_PROGRAM_ID, MEMO_V3_PROGRAM_ID, MEMO_V1_PROGRAM_ID]

MINT_LEN = 82
ACCOUNT_LEN = 165
PROGRAMDATA_METADATA_SIZE = 45  # u32 tag 3, u64 slot, Option<Pubkey> authority


def keypair(name: str) -> Keypair:
    """A deterministic keypair: Keypair.from_seed(sha256(name))."""
    return Keypair.from_seed(hashlib.sha256(name.encode()).digest())


# --- programs from LiteSVM ------------------------------------------------------------------------
def extract_program(svm, program_id: Pubkey) -> tuple[bytes, Pubkey]:
    """(ELF, loader) of a program installed in `svm`, read from its accounts.

    Upgradeable: the program account holds `u32 2, programdata address`; the ELF follows the
    45-byte header of the programdata account. BPFLoader2 and the deprecated loader: the program
    account's data is the ELF.
    """
    acct = svm.get_account(program_id)
    if acct is None:
        raise LookupError(f"{program_id} is not installed in LiteSVM")
    data = bytes(acct.data)
    if acct.owner == BPF_LOADER_UPGRADEABLE_ID:
        assert data[:4] == (2).to_bytes(4, "little"), data[:4]
        programdata = svm.get_account(Pubkey.from_bytes(data[4:36]))
        pd = bytes(programdata.data)
        assert pd[:4] == (3).to_bytes(4, "little"), pd[:4]
        return pd[PROGRAMDATA_METADATA_SIZE:], acct.owner
    if acct.owner in (BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID):
        return data, acct.owner
    raise ValueError(f"{program_id}: unexpected loader {acct.owner}")


# --- account templates ------------------------------------------------------------------------------
def system_account(lamports: int) -> Account:
    return Account(lamports, b"", SYSTEM_PROGRAM_ID, False, 0)


def blank_owned(lamports: int, size: int, owner: Pubkey) -> Account:
    """A zeroed account of `size` bytes owned by `owner` (what InitializeMint2/Account3 expect)."""
    return Account(lamports, bytes(size), owner, False, 0)


# --- token instructions (Token and Token-2022) --------------------------------------------------------
def _coption_pubkey(key: Pubkey | None) -> bytes:
    return b"\x00" if key is None else b"\x01" + bytes(key)


def initialize_mint2(program_id: Pubkey, mint: Pubkey, decimals: int, authority: Pubkey,
                     freeze_authority: Pubkey | None = None) -> Instruction:
    data = bytes([20, decimals]) + bytes(authority) + _coption_pubkey(freeze_authority)
    return Instruction(program_id, data, [AccountMeta(mint, False, True)])


def initialize_account3(program_id: Pubkey, account: Pubkey, mint: Pubkey, owner: Pubkey) -> Instruction:
    return Instruction(program_id, bytes([18]) + bytes(owner),
                       [AccountMeta(account, False, True), AccountMeta(mint, False, False)])


def _amount(tag: int, amount: int) -> bytes:
    return bytes([tag]) + struct.pack("<Q", amount)


def mint_to(program_id: Pubkey, mint: Pubkey, account: Pubkey, authority: Pubkey, amount: int) -> Instruction:
    return Instruction(program_id, _amount(7, amount), [
        AccountMeta(mint, False, True), AccountMeta(account, False, True), AccountMeta(authority, True, False)])


def transfer(program_id: Pubkey, source: Pubkey, dest: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    return Instruction(program_id, _amount(3, amount), [
        AccountMeta(source, False, True), AccountMeta(dest, False, True), AccountMeta(owner, True, False)])


def transfer_checked(program_id: Pubkey, source: Pubkey, mint: Pubkey, dest: Pubkey, owner: Pubkey,
                     amount: int, decimals: int) -> Instruction:
    return Instruction(program_id, _amount(12, amount) + bytes([decimals]), [
        AccountMeta(source, False, True), AccountMeta(mint, False, False),
        AccountMeta(dest, False, True), AccountMeta(owner, True, False)])


def approve(program_id: Pubkey, source: Pubkey, delegate: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    return Instruction(program_id, _amount(4, amount), [
        AccountMeta(source, False, True), AccountMeta(delegate, False, False), AccountMeta(owner, True, False)])


def burn(program_id: Pubkey, account: Pubkey, mint: Pubkey, owner: Pubkey, amount: int) -> Instruction:
    return Instruction(program_id, _amount(8, amount), [
        AccountMeta(account, False, True), AccountMeta(mint, False, True), AccountMeta(owner, True, False)])


def close_account(program_id: Pubkey, account: Pubkey, dest: Pubkey, owner: Pubkey) -> Instruction:
    return Instruction(program_id, bytes([9]), [
        AccountMeta(account, False, True), AccountMeta(dest, False, True), AccountMeta(owner, True, False)])


# --- associated token account --------------------------------------------------------------------------
def associated_token_address(wallet: Pubkey, mint: Pubkey, token_program: Pubkey) -> Pubkey:
    """find_program_address([wallet, token program, mint], ATA program)."""
    return Pubkey.find_program_address([bytes(wallet), bytes(token_program), bytes(mint)], ATA_PROGRAM_ID)[0]


def create_associated_token_account(funder: Pubkey, wallet: Pubkey, mint: Pubkey, token_program: Pubkey,
                                    idempotent: bool = False) -> Instruction:
    ata = associated_token_address(wallet, mint, token_program)
    return Instruction(ATA_PROGRAM_ID, bytes([1]) if idempotent else b"", [
        AccountMeta(funder, True, True), AccountMeta(ata, False, True), AccountMeta(wallet, False, False),
        AccountMeta(mint, False, False), AccountMeta(SYSTEM_PROGRAM_ID, False, False),
        AccountMeta(token_program, False, False)])


# --- memo ------------------------------------------------------------------------------------------------
def memo(program_id: Pubkey, text: bytes, signers: list[Pubkey] = ()) -> Instruction:
    return Instruction(program_id, bytes(text), [AccountMeta(s, True, False) for s in signers])
