"""The compute budget a transaction asks for, parsed from its ComputeBudget instructions as Agave does.

Instructions (borsh, u8 tag): 1 RequestHeapFrame(u32), 2 SetComputeUnitLimit(u32),
3 SetComputeUnitPrice(u64), 4 SetLoadedAccountsDataSizeLimit(u32). A repeated kind fails with
DuplicateInstruction(index); bad data or a heap size that is not a multiple of 1 KiB in
[32 KiB, 256 KiB] fails with InstructionError(index, InvalidInstructionData). Without a limit the
transaction gets 200 000 units per non-builtin instruction and 3 000 per builtin one, capped at
1 400 000. The priority fee is ceil(price * limit / 1 000 000) lamports.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from solders.pubkey import Pubkey

from ..runtime.accounts import (
    BPF_LOADER_DEPRECATED_ID,
    BPF_LOADER_ID,
    BPF_LOADER_UPGRADEABLE_ID,
    COMPUTE_BUDGET_ID,
    LOADER_V4_ID,
    SYSTEM_PROGRAM_ID,
)
from .errors import TxError, instruction_error

DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT = 200_000
MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT = 3_000
MAX_COMPUTE_UNIT_LIMIT = 1_400_000
MIN_HEAP_FRAME_BYTES = 32 * 1024
MAX_HEAP_FRAME_BYTES = 256 * 1024
MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES = 64 * 1024 * 1024
MICRO_LAMPORTS_PER_LAMPORT = 1_000_000

VOTE_PROGRAM_ID = Pubkey.from_string("Vote111111111111111111111111111111111111111")
ED25519_PROGRAM_ID = Pubkey.from_string("Ed25519SigVerify111111111111111111111111111")
SECP256K1_PROGRAM_ID = Pubkey.from_string("KeccakSecp256k11111111111111111111111111111")

#: Programs whose instructions count as builtin for the default limit.
BUILTIN_PROGRAM_IDS = frozenset({SYSTEM_PROGRAM_ID, COMPUTE_BUDGET_ID, BPF_LOADER_ID, BPF_LOADER_DEPRECATED_ID,
                                 BPF_LOADER_UPGRADEABLE_ID, LOADER_V4_ID, VOTE_PROGRAM_ID,
                                 ED25519_PROGRAM_ID, SECP256K1_PROGRAM_ID})


@dataclass(frozen=True)
class ComputeBudgetLimits:
    compute_unit_limit: int
    compute_unit_price: int  # micro-lamports per unit
    heap_size: int
    loaded_accounts_data_size_limit: int

    @property
    def prioritization_fee(self) -> int:
        micro = self.compute_unit_price * self.compute_unit_limit
        return -(-micro // MICRO_LAMPORTS_PER_LAMPORT)


def parse_compute_budget(instructions: list[tuple[Pubkey, bytes]]) -> ComputeBudgetLimits:
    """`instructions` = (program id, data) per top-level instruction. Raises TxError."""
    limit = price = heap = data_limit = None
    builtin = non_builtin = 0
    for i, (pid, data) in enumerate(instructions):
        if pid in BUILTIN_PROGRAM_IDS:
            builtin += 1
        else:
            non_builtin += 1
        if pid != COMPUTE_BUDGET_ID:
            continue
        tag = data[0] if data else None
        try:
            if tag == 1:
                if heap is not None:
                    raise TxError.duplicate_instruction(i)
                heap = (struct.unpack_from("<I", data, 1)[0], i)
            elif tag == 2:
                if limit is not None:
                    raise TxError.duplicate_instruction(i)
                limit = struct.unpack_from("<I", data, 1)[0]
            elif tag == 3:
                if price is not None:
                    raise TxError.duplicate_instruction(i)
                price = struct.unpack_from("<Q", data, 1)[0]
            elif tag == 4:
                if data_limit is not None:
                    raise TxError.duplicate_instruction(i)
                data_limit = struct.unpack_from("<I", data, 1)[0]
            else:
                raise instruction_error(i, "InvalidInstructionData")
        except struct.error:
            raise instruction_error(i, "InvalidInstructionData") from None
    heap_size = MIN_HEAP_FRAME_BYTES
    if heap is not None:
        size, i = heap
        if size % 1024 or not MIN_HEAP_FRAME_BYTES <= size <= MAX_HEAP_FRAME_BYTES:
            raise instruction_error(i, "InvalidInstructionData")
        heap_size = size
    if data_limit == 0:
        raise TxError("InvalidLoadedAccountsDataSizeLimit")
    if limit is None:
        limit = non_builtin * DEFAULT_INSTRUCTION_COMPUTE_UNIT_LIMIT + builtin * MAX_BUILTIN_ALLOCATION_COMPUTE_UNIT_LIMIT
    return ComputeBudgetLimits(min(limit, MAX_COMPUTE_UNIT_LIMIT), price or 0, heap_size,
                               min(data_limit or MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES,
                                   MAX_LOADED_ACCOUNTS_DATA_SIZE_BYTES))
