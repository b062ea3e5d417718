"""Agave's `InvokeContext`: runs instructions (top-level and CPI) against a transaction context.

It is also the VM's context object: the compute meter (`consume`, `get_remaining`,
`consume_checked`), the log collector (`log`), sysvars, return data and the program cache that
syscalls reach through `vm.context`.

One instruction, as Agave logs it:

    Program <id> invoke [<height>]
    ... program output ...
    Program <id> consumed <X> of <Y> compute units     (BPF programs only)
    Program return: <id> <base64>                      (BPF, when return data is set)
    Program <id> success | Program <id> failed: <error text>
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Callable

from solders.pubkey import Pubkey

from ..vm.errors import SyscallError
from ..vm.interpreter import EbpfVm, VmConfig, standard_regions
from ..vm.isa import M64
from .accounts import BPF_LOADERS, Account
from .compute import ComputeMeter
from .errors import InstructionError, error_from_return_value
from .logs import LogCollector, program_consumed, program_failure, program_invoke, program_return, program_success
from .programs import ProgramCache, ProgramLoadError
from .serialization import deserialize_parameters, serialize_parameters
from .sysvars import SysvarCache
from .transaction_context import InstructionAccount, InstructionContext, TransactionContext

HEAP_COST_PER_32K = 8
DEFAULT_HEAP_SIZE = 32 * 1024

Builtin = Callable[["InvokeContext"], None]


@dataclass
class BuiltinProgram:
    """A native program: `process(invoke_context)` plus the units it consumes up front."""

    name: str
    process: Builtin
    compute_units: int


@dataclass
class ExecutionConfig:
    heap_size: int = DEFAULT_HEAP_SIZE
    vm_config: VmConfig = field(default_factory=VmConfig)
    deplete_cu_meter_on_vm_failure: bool = True

    @classmethod
    def with_engine(cls, engine: str) -> "ExecutionConfig":
        return cls(vm_config=VmConfig(engine=engine))


class InvokeContext:
    def __init__(self, tx: TransactionContext, meter: ComputeMeter, *, programs: ProgramCache,
                 builtins: dict[Pubkey, BuiltinProgram], sysvars: SysvarCache | None = None,
                 logs: LogCollector | None = None, config: ExecutionConfig | None = None):
        self.tx = tx
        self.meter = meter
        self.programs = programs
        self.builtins = builtins
        self.sysvars = sysvars or SysvarCache()
        self.logs = logs or LogCollector()
        self.config = config or ExecutionConfig()
        self.syscalls = programs.syscalls
        self.heap_allocators: list = []  # per-VM bump allocator state for sol_alloc_free_
        self.serialized_inputs: list = []  # per-VM `Serialized` input (CPI reads original data lengths)
        self.account_source: Callable[[Pubkey], Account | None] | None = None

    # --- VM context object ------------------------------------------------------------------------
    def consume(self, amount: int) -> None:
        self.meter.consume(amount)

    def consume_checked(self, amount: int) -> None:
        self.meter.consume_checked(amount)

    def get_remaining(self) -> int:
        return self.meter.get_remaining()

    def log(self, message: str) -> None:
        self.logs.log(message)

    # --- instruction processing -----------------------------------------------------------------
    def lookup_account(self, key: Pubkey) -> Account | None:
        i = self.tx.index_of(key)
        return None if i is None else self.tx.accounts[i]

    def process_instruction(self, program_index: int, accounts: list[InstructionAccount], data: bytes) -> None:
        """Push, run and pop one instruction. Raises InstructionError (logged) on failure."""
        tx = self.tx
        ctx = InstructionContext(program_index, accounts, bytes(data), tx.stack_height + 1)
        tx.push(ctx)
        program_id = tx.keys[program_index]
        builtin = self.builtins.get(program_id)
        if builtin is None and tx.accounts[program_index].owner not in BPF_LOADERS:
            # Agave resolves the program's loader before logging anything.
            tx.stack.pop()
            raise InstructionError("UnsupportedProgramId")
        tx.return_data = (program_id, b"")  # Agave clears return data when any instruction starts
        self.log(program_invoke(str(program_id), ctx.stack_height))
        try:
            if builtin is not None:
                self._consume_builtin(builtin.compute_units)
                builtin.process(self)
            else:
                self._execute(ctx, program_id)
        except InstructionError as err:
            self.log(program_failure(str(program_id), str(err)))
            tx.stack.pop()
            raise
        self.log(program_success(str(program_id)))
        tx.pop()  # an unbalanced instruction fails after its success line, as in Agave

    def _execute(self, ctx: InstructionContext, program_id: Pubkey) -> None:
        program = self.tx.accounts[ctx.program_id_index]
        try:
            loaded = self.programs.load(program_id, program, self._lookup_anywhere)
        except ProgramLoadError as e:
            self.log("Program is not deployed")
            raise InstructionError("UnsupportedProgramId") from e
        self._execute_bpf(ctx, program_id, loaded)

    def _consume_builtin(self, units: int) -> None:
        try:
            self.meter.consume_checked(units)
        except SyscallError:
            raise InstructionError("ComputationalBudgetExceeded") from None

    def _lookup_anywhere(self, key: Pubkey) -> Account | None:
        """Program loading may read accounts outside the transaction (e.g. programdata)."""
        acct = self.lookup_account(key)
        if acct is None and self.account_source is not None:
            acct = self.account_source(key)
        return acct

    def _execute_bpf(self, ctx: InstructionContext, program_id: Pubkey, loaded) -> None:
        tx = self.tx
        serialized = serialize_parameters(tx, ctx, loaded.aligned)
        exe = loaded.executable
        prev = self.meter.get_remaining()  # "of B": taken before the heap charge
        heap_size = self.config.heap_size
        heap_cost = ((heap_size + DEFAULT_HEAP_SIZE - 1) // DEFAULT_HEAP_SIZE - 1) * HEAP_COST_PER_32K
        try:
            self.meter.consume_checked(heap_cost)
        except SyscallError:
            self.log("Failed to create SBF VM: Computational budget exceeded")
            raise InstructionError("ProgramEnvironmentSetupFailure") from None
        initial = self.meter.get_remaining()  # "consumed A": excludes the heap charge
        regions = standard_regions(exe, input_data=serialized.buffer, heap_size=heap_size,
                                   config=self.config.vm_config)
        vm = EbpfVm(exe, regions, self, self.config.vm_config)
        input_region = regions[-1]
        regs = vm.initial_registers(serialized.instruction_data_vaddr)
        self.heap_allocators.append(None)
        self.serialized_inputs.append(serialized)
        try:
            result = vm.execute(regs)
        finally:
            self.heap_allocators.pop()
            self.serialized_inputs.pop()
        serialized.buffer = input_region.data
        remaining = self.meter.get_remaining()
        self.log(program_consumed(str(program_id), initial - remaining, prev))
        _, ret_data = tx.return_data
        if ret_data:  # Agave names the running program here, whoever set the data
            self.log(program_return(str(program_id), base64.b64encode(ret_data).decode()))
        err = result.error
        if err is not None:
            if isinstance(err, SyscallError):
                # Syscall errors do not drain the meter; an InstructionError inside (e.g. from a
                # failed CPI or the meter) becomes the instruction's error, others fail it.
                kind = err.instruction_error or "ProgramFailedToComplete"
                raise InstructionError.from_kind(kind).with_message(str(err))
            if self.config.deplete_cu_meter_on_vm_failure:
                self.meter.deplete()
            raise InstructionError("ProgramFailedToComplete", message=str(err))
        r0 = result.r0 & M64
        if r0 != 0:
            raise error_from_return_value(r0)
        deserialize_parameters(tx, ctx, serialized)
