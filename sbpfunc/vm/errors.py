"""The VM's error hierarchy, named after Agave's (sbpf 0.21) `EbpfError` variants.

Every error a program can cause at run time is an `EbpfError`; its `kind` is the Agave variant
name and `str()` is Agave's Display text, so logs built from it match Agave's byte for byte.
The pc of the faulting instruction is kept on the error (Agave's text no longer includes it).
"""

from __future__ import annotations


class SbpfuncError(Exception):
    """Root of every error sbpfunc raises on purpose."""


class EbpfError(SbpfuncError):
    """A fault raised while executing sBPF code. `kind` is Agave's `EbpfError` variant name."""

    kind = "EbpfError"
    message = "eBPF error"

    def __init__(self, message: str | None = None, pc: int | None = None):
        self.pc = pc
        super().__init__(message if message is not None else self.message)

    @property
    def text(self) -> str:
        return str(self)


class DivideByZero(EbpfError):
    kind = "DivideByZero"
    message = "divide by zero at BPF instruction"


class DivideOverflow(EbpfError):
    kind = "DivideOverflow"
    message = "division overflow at BPF instruction"


class ExecutionOverrun(EbpfError):
    kind = "ExecutionOverrun"
    message = "attempted to execute past the end of the text segment at BPF instruction"


class CallOutsideTextSegment(EbpfError):
    kind = "CallOutsideTextSegment"
    message = "callx attempted to call outside of the text segment"


class ExceededMaxInstructions(EbpfError):
    kind = "ExceededMaxInstructions"
    message = "exceeded CUs meter at BPF instruction"


class CallDepthExceeded(EbpfError):
    kind = "CallDepthExceeded"
    message = "exceeded max BPF to BPF call depth"


class InvalidInstruction(EbpfError):
    kind = "InvalidInstruction"
    message = "invalid BPF instruction"


class UnsupportedInstruction(EbpfError):
    """Also what an unknown syscall or unregistered internal call becomes, as in Agave."""

    kind = "UnsupportedInstruction"
    message = "unsupported BPF instruction"


class AccessViolation(EbpfError):
    """A load or store outside any mapped region, across regions, or a store to read-only memory."""

    kind = "AccessViolation"

    def __init__(self, access: str, vaddr: int, size: int, region: str, pc: int | None = None):
        self.access, self.vaddr, self.size, self.region = access, vaddr, size, region
        super().__init__(
            f"Access violation in {region} section at address {vaddr:#x} of size {size}", pc
        )


class StackAccessViolation(EbpfError):
    """An access that faults near the stack: reported with the 4 KiB 'frame' it falls in."""

    kind = "StackAccessViolation"

    def __init__(self, access: str, vaddr: int, size: int, frame: int, pc: int | None = None):
        self.access, self.vaddr, self.size, self.frame = access, vaddr, size, frame
        super().__init__(
            f"Access violation in stack frame {frame} at address {vaddr:#x} of size {size}", pc
        )


class SyscallError(EbpfError):
    """A syscall failed. The message is the syscall's own error text (Agave logs it verbatim).

    `instruction_error` names an Agave `InstructionError` when the failure is one (e.g.
    "ComputationalBudgetExceeded"); otherwise the runtime reports ProgramFailedToComplete.
    """

    kind = "SyscallError"

    def __init__(self, message: str, instruction_error: str | None = None, pc: int | None = None):
        self.instruction_error = instruction_error
        super().__init__(message, pc)


class VerifierError(SbpfuncError):
    """The verifier rejected the bytecode at load time. `kind` is Agave's `VerifierError` variant."""

    def __init__(self, kind: str, message: str, pc: int | None = None):
        self.kind, self.pc = kind, pc
        super().__init__(message)


class AsmError(SbpfuncError):
    """Assembly text that cannot be assembled; the message names the line."""


class ElfError(SbpfuncError):
    """A malformed or unsupported ELF file. `kind` is Agave's `ElfError` variant name."""

    kind = "ElfError"

    def __init__(self, message: str, kind: str | None = None):
        if kind is not None:
            self.kind = kind
        super().__init__(message)
