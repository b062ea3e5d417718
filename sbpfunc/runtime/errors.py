"""Agave's `InstructionError`: the error an instruction ends with, by variant name and text.

`InstructionError("Custom", 1)` prints "custom program error: 0x1" and is named "Custom(1)",
exactly as Agave and LiteSVM name it; every other variant is named by itself.
"""

from __future__ import annotations

from ..vm.errors import SbpfuncError

# Variant -> Display text (solana-instruction's InstructionError, as Agave 4.1 prints it).
MESSAGES: dict[str, str] = {
    "GenericError": "generic instruction error",
    "InvalidArgument": "invalid program argument",
    "InvalidInstructionData": "invalid instruction data",
    "InvalidAccountData": "invalid account data for instruction",
    "AccountDataTooSmall": "account data too small for instruction",
    "InsufficientFunds": "insufficient funds for instruction",
    "IncorrectProgramId": "incorrect program id for instruction",
    "MissingRequiredSignature": "missing required signature for instruction",
    "AccountAlreadyInitialized": "instruction requires an uninitialized account",
    "UninitializedAccount": "instruction requires an initialized account",
    "UnbalancedInstruction": "sum of account balances before and after instruction do not match",
    "ModifiedProgramId": "instruction illegally modified the program id of an account",
    "ExternalAccountLamportSpend": "instruction spent from the balance of an account it does not own",
    "ExternalAccountDataModified": "instruction modified data of an account it does not own",
    "ReadonlyLamportChange": "instruction changed the balance of a read-only account",
    "ReadonlyDataModified": "instruction modified data of a read-only account",
    "DuplicateAccountIndex": "instruction contains duplicate accounts",
    "ExecutableModified": "instruction changed executable bit of an account",
    "RentEpochModified": "instruction modified rent epoch of an account",
    "NotEnoughAccountKeys": "insufficient account keys for instruction",
    "AccountDataSizeChanged": "program other than the account's owner changed the size of the account data",
    "AccountNotExecutable": "instruction expected an executable account",
    "AccountBorrowFailed": "instruction tries to borrow reference for an account which is already borrowed",
    "AccountBorrowOutstanding": "instruction left account with an outstanding borrowed reference",
    "DuplicateAccountOutOfSync": "instruction modifications of multiply-passed account differ",
    "InvalidError": "program returned invalid error code",
    "ExecutableDataModified": "instruction changed executable accounts data",
    "ExecutableLamportChange": "instruction changed the balance of an executable account",
    "ExecutableAccountNotRentExempt": "executable accounts must be rent exempt",
    "UnsupportedProgramId": "Unsupported program id",
    "CallDepth": "Cross-program invocation call depth too deep",
    "MissingAccount": "An account required by the instruction is missing",
    "ReentrancyNotAllowed": "Cross-program invocation reentrancy not allowed for this instruction",
    "MaxSeedLengthExceeded": "Length of the seed is too long for address generation",
    "InvalidSeeds": "Provided seeds do not result in a valid address",
    "InvalidRealloc": "Failed to reallocate account data",
    "ComputationalBudgetExceeded": "Computational budget exceeded",
    "PrivilegeEscalation": "Cross-program invocation with unauthorized signer or writable account",
    "ProgramEnvironmentSetupFailure": "Failed to create program execution environment",
    "ProgramFailedToComplete": "Program failed to complete",
    "ProgramFailedToCompile": "Program failed to compile",
    "Immutable": "Account is immutable",
    "IncorrectAuthority": "Incorrect authority provided",
    "BorshIoError": "Failed to serialize or deserialize account data",
    "AccountNotRentExempt": "An account does not have enough lamports to be rent-exempt",
    "InvalidAccountOwner": "Invalid account owner",
    "ArithmeticOverflow": "Program arithmetic overflowed",
    "UnsupportedSysvar": "Unsupported sysvar",
    "IllegalOwner": "Provided owner is not allowed",
    "MaxAccountsDataAllocationsExceeded": "Accounts data allocations exceeded the maximum allowed per transaction",
    "MaxAccountsExceeded": "Max accounts exceeded",
    "MaxInstructionTraceLengthExceeded": "Max instruction trace length exceeded",
    "BuiltinProgramsMustConsumeComputeUnits": "Builtin programs must consume compute units",
}

# r0 = k << 32 for k = 1..26 maps to these builtin errors (k = 1 is Custom(0)).
BUILTIN_BY_INDEX = [
    None, "Custom0", "InvalidArgument", "InvalidInstructionData", "InvalidAccountData",
    "AccountDataTooSmall", "InsufficientFunds", "IncorrectProgramId", "MissingRequiredSignature",
    "AccountAlreadyInitialized", "UninitializedAccount", "NotEnoughAccountKeys",
    "AccountBorrowFailed", "MaxSeedLengthExceeded", "InvalidSeeds", "BorshIoError",
    "AccountNotRentExempt", "UnsupportedSysvar", "IllegalOwner",
    "MaxAccountsDataAllocationsExceeded", "InvalidRealloc", "MaxInstructionTraceLengthExceeded",
    "BuiltinProgramsMustConsumeComputeUnits", "InvalidAccountOwner", "ArithmeticOverflow",
    "Immutable", "IncorrectAuthority",
]


class InstructionError(SbpfuncError):
    """An instruction failed. `name` is the variant; `code` is set for Custom."""

    def __init__(self, name: str, code: int | None = None, message: str | None = None):
        if name != "Custom" and name not in MESSAGES:
            raise ValueError(f"unknown InstructionError variant {name}")
        self.name, self.code = name, code
        super().__init__(message or self.display())

    def display(self) -> str:
        if self.name == "Custom":
            return f"custom program error: {self.code:#x}"
        return MESSAGES[self.name]

    @property
    def kind(self) -> str:
        """The name Agave's Debug output uses: `Custom(1)`, `InvalidArgument`, ..."""
        return f"Custom({self.code})" if self.name == "Custom" else self.name

    @classmethod
    def custom(cls, code: int) -> "InstructionError":
        return cls("Custom", code)

    def with_message(self, message: str) -> "InstructionError":
        """The same error logged with another text (e.g. a VM fault's message)."""
        self.args = (message,)
        return self

    @classmethod
    def from_kind(cls, kind: str) -> "InstructionError":
        if kind.startswith("Custom(") and kind.endswith(")"):
            return cls.custom(int(kind[7:-1]))
        return cls(kind)

    def __eq__(self, other) -> bool:
        return isinstance(other, InstructionError) and (self.name, self.code) == (other.name, other.code)

    def __hash__(self) -> int:
        return hash((self.name, self.code))


def error_from_return_value(r0: int) -> InstructionError | None:
    """Agave's mapping of a program's nonzero r0 to an InstructionError."""
    if r0 == 0:
        return None
    k = r0 >> 32
    if k == 0:
        return InstructionError.custom(r0)
    # Agave matches the exact values k << 32 only; any other value with upper bits set is invalid.
    if r0 & 0xFFFF_FFFF == 0 and k < len(BUILTIN_BY_INDEX):
        name = BUILTIN_BY_INDEX[k]
        return InstructionError.custom(0) if name == "Custom0" else InstructionError(name)
    return InstructionError("InvalidError")
