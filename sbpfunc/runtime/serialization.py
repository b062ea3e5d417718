"""Agave's input serialization for BPF programs, and deserialization with its checks.

Aligned layout (BPFLoader2 and the upgradeable loader), one record per instruction account:

    u64 n_accounts
    dup:  u8 index_of_first, 7 zero bytes
    else: u8 0xff, u8 is_signer, u8 is_writable, u8 executable, 4 zero bytes,
          key[32], owner[32], u64 lamports, u64 data_len, data, 10 KiB zeros (realloc room),
          zero pad to 8, u64 rent_epoch (always u64::MAX, SIMD-0267)
    u64 ix_len, ix_data, program_id[32]

The deprecated loader (BPFLoader1) uses the unaligned layout: 1-byte dup markers, no padding or
realloc room, owner/executable/rent_epoch after the data. The layouts are construct schemas.

After a successful run the buffer is read back account by account through `BorrowedAccount`
setters, so an illegal change fails with Agave's error (ReadonlyDataModified, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

import construct as c
from solders.pubkey import Pubkey

from ..vm.isa import MM_INPUT_START
from .accounts import MAX_PERMITTED_DATA_INCREASE, MAX_PERMITTED_DATA_LENGTH
from .errors import InstructionError
from .transaction_context import InstructionContext, TransactionContext

U64_MAX = (1 << 64) - 1

AlignedAccountHeader = c.Struct(
    "dup_info" / c.Const(0xFF, c.Int8ul),
    "is_signer" / c.Int8ul,
    "is_writable" / c.Int8ul,
    "executable" / c.Int8ul,
    "padding" / c.Const(b"\0\0\0\0"),
    "key" / c.Bytes(32),
    "owner" / c.Bytes(32),
    "lamports" / c.Int64ul,
    "data_len" / c.Int64ul,
)
ALIGNED_HEADER_SIZE = AlignedAccountHeader.sizeof()  # 88
AlignedDuplicate = c.Struct("index" / c.Int8ul, "padding" / c.Const(bytes(7)))
UnalignedAccountHeader = c.Struct(
    "dup_info" / c.Const(0xFF, c.Int8ul),
    "is_signer" / c.Int8ul,
    "is_writable" / c.Int8ul,
    "key" / c.Bytes(32),
    "lamports" / c.Int64ul,
    "data_len" / c.Int64ul,
)
UnalignedAccountTrailer = c.Struct("owner" / c.Bytes(32), "executable" / c.Int8ul, "rent_epoch" / c.Int64ul)
U64 = c.Int64ul
# What deserialization reads back: the header without the constant checks (a program may have
# scribbled over the marker and padding bytes; Agave ignores them).
AlignedAccountView = c.Struct(
    "head" / c.Bytes(8), "key" / c.Bytes(32), "owner" / c.Bytes(32), "lamports" / c.Int64ul,
    "data_len" / c.Int64ul)
UnalignedAccountView = c.Struct("head" / c.Bytes(3), "key" / c.Bytes(32), "lamports" / c.Int64ul,
                                "data_len" / c.Int64ul)

# Compiled twins: the same layouts, several times faster to build and parse (every instruction
# serializes and deserializes its accounts).
_ALIGNED_HEADER = AlignedAccountHeader.compile()
_ALIGNED_VIEW = AlignedAccountView.compile()
_UNALIGNED_HEADER = UnalignedAccountHeader.compile()
_UNALIGNED_TRAILER = UnalignedAccountTrailer.compile()
_UNALIGNED_VIEW = UnalignedAccountView.compile()
_U64 = U64.compile()


@dataclass
class Serialized:
    """The input buffer plus what deserialization needs: original lengths, data offsets."""

    buffer: bytearray
    pre_lens: list[int | None]  # per instruction account; None for duplicates
    instruction_data_offset: int
    aligned: bool

    @property
    def instruction_data_vaddr(self) -> int:
        return MM_INPUT_START + self.instruction_data_offset


def serialize_parameters(tx: TransactionContext, ctx: InstructionContext, aligned: bool = True) -> Serialized:
    accounts = ctx.instruction_accounts
    out = bytearray(U64.build(len(accounts)))
    pre_lens: list[int | None] = []
    for i, ia in enumerate(accounts):
        first = ctx.is_duplicate(i)
        if first is not None:
            out += AlignedDuplicate.build({"index": first}) if aligned else bytes([first])
            pre_lens.append(None)
            continue
        acct = tx.accounts[ia.index_in_transaction]
        key = bytes(tx.keys[ia.index_in_transaction])
        data = bytes(acct.data)
        pre_lens.append(len(data))
        if aligned:
            out += _ALIGNED_HEADER.build(dict(is_signer=int(ia.is_signer), is_writable=int(ia.is_writable),
                                                   executable=int(acct.executable), key=key,
                                                   owner=bytes(acct.owner), lamports=acct.lamports,
                                                   data_len=len(data)))
            out += data
            out += bytes(MAX_PERMITTED_DATA_INCREASE + (-len(data) % 8))
            out += _U64.build(U64_MAX)
        else:
            out += _UNALIGNED_HEADER.build(dict(is_signer=int(ia.is_signer), is_writable=int(ia.is_writable),
                                                     key=key, lamports=acct.lamports, data_len=len(data)))
            out += data
            out += _UNALIGNED_TRAILER.build(dict(owner=bytes(acct.owner), executable=int(acct.executable),
                                                      rent_epoch=U64_MAX))
    out += U64.build(len(ctx.data))
    offset = len(out)
    out += ctx.data
    out += bytes(tx.program_id(ctx))
    return Serialized(out, pre_lens, offset, aligned)


def deserialize_parameters(tx: TransactionContext, ctx: InstructionContext, s: Serialized) -> None:
    """Apply the program's changes in the buffer to the accounts, with Agave's checks."""
    buf = s.buffer
    start = 8
    for i, pre_len in enumerate(s.pre_lens):
        if pre_len is None:
            start += 8 if s.aligned else 1
            continue
        acct = tx.borrow(ctx, i)
        if s.aligned:
            view = _ALIGNED_VIEW.parse(bytes(buf[start:start + ALIGNED_HEADER_SIZE]))
            if view.lamports != acct.lamports:
                acct.set_lamports(view.lamports)
            post_len = view.data_len
            start += ALIGNED_HEADER_SIZE
            if post_len > pre_len + MAX_PERMITTED_DATA_INCREASE or post_len > MAX_PERMITTED_DATA_LENGTH:
                raise InstructionError("InvalidRealloc")
            _apply_data(acct, bytes(buf[start:start + post_len]))
            start += pre_len + MAX_PERMITTED_DATA_INCREASE + (-pre_len % 8) + 8
            if view.owner != bytes(acct.owner):
                acct.set_owner(Pubkey.from_bytes(view.owner))
        else:
            view = _UNALIGNED_VIEW.parse(bytes(buf[start:start + 51]))
            if view.lamports != acct.lamports:
                acct.set_lamports(view.lamports)
            start += 51
            _apply_data(acct, bytes(buf[start:start + pre_len]))
            start += pre_len + 32 + 1 + 8


def _apply_data(acct, data: bytes) -> None:
    """Copy data back if the program may change it; otherwise it must be unchanged."""
    try:
        acct.can_data_be_resized(len(data))
    except InstructionError:
        if bytes(acct.data) != data:
            raise
        return
    if bytes(acct.data) != data:
        acct.set_data_from_slice(data)
