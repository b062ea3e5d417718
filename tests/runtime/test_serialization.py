"""Input (de)serialization details that the golden cases do not pin down."""

from __future__ import annotations

from solders.pubkey import Pubkey

from sbpfunc.runtime.accounts import Account
from sbpfunc.runtime.errors import InstructionError
from sbpfunc.runtime.serialization import ALIGNED_HEADER_SIZE, deserialize_parameters, serialize_parameters
from sbpfunc.runtime.transaction_context import InstructionAccount, InstructionContext, TransactionContext

PROGRAM = Pubkey.new_unique()


def _setup(writable=True, owner=PROGRAM):
    key = Pubkey.new_unique()
    tx = TransactionContext([key, PROGRAM], [Account(1000, bytearray(b"abc"), owner), Account(1, b"", owner)])
    ias = [InstructionAccount(0, 0, 0, False, writable), InstructionAccount(0, 0, 0, False, writable)]
    ctx = InstructionContext(1, ias, b"\x01\x02", 1)
    tx.push(ctx)
    return tx, ctx


def test_layout_duplicate_marker_and_instruction_data_pointer():
    tx, ctx = _setup()
    s = serialize_parameters(tx, ctx)
    buf = s.buffer
    assert int.from_bytes(buf[:8], "little") == 2
    assert buf[8] == 0xFF and buf[9:12] == bytes([0, 1, 0])
    rec = 8 + ALIGNED_HEADER_SIZE + 3 + 10240 + 5 + 8  # data, realloc room, pad to 8, rent_epoch
    assert buf[rec - 8:rec] == b"\xff" * 8  # rent_epoch = u64::MAX
    assert buf[rec:rec + 8] == bytes(8)  # duplicate of account 0
    assert buf[s.instruction_data_offset - 8:s.instruction_data_offset] == (2).to_bytes(8, "little")
    assert buf[s.instruction_data_offset:s.instruction_data_offset + 2] == b"\x01\x02"


def test_marker_and_padding_bytes_written_by_the_program_are_ignored():
    tx, ctx = _setup()
    s = serialize_parameters(tx, ctx)
    s.buffer[8:16] = b"\x00\x07\x07\x07\x09\x09\x09\x09"  # dup marker, flags, padding
    s.buffer[8 + ALIGNED_HEADER_SIZE] = ord("z")  # a real data change (owned, writable)
    deserialize_parameters(tx, ctx, s)
    assert bytes(tx.accounts[0].data) == b"zbc"


def test_readonly_data_change_is_rejected():
    tx, ctx = _setup(writable=False)
    s = serialize_parameters(tx, ctx)
    s.buffer[8 + ALIGNED_HEADER_SIZE] = ord("z")
    try:
        deserialize_parameters(tx, ctx, s)
    except InstructionError as e:
        assert e.kind == "ReadonlyDataModified"
    else:  # pragma: no cover
        raise AssertionError("expected ReadonlyDataModified")
    assert bytes(tx.accounts[0].data) == b"abc"
