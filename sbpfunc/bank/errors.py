"""Agave's `TransactionError`, kept as its serde JSON value (what RPC and LiteSVM's `to_json` show).

    "BlockhashNotFound"
    {"InstructionError": [0, {"Custom": 1}]}
    {"InsufficientFundsForRent": {"account_index": 1}}
    {"DuplicateInstruction": 2}
"""

from __future__ import annotations

from typing import Any

from ..runtime.errors import InstructionError

MESSAGES = {
    "AccountInUse": "Account in use",
    "AccountLoadedTwice": "Account loaded twice",
    "AccountNotFound": "Attempt to debit an account but found no record of a prior credit.",
    "ProgramAccountNotFound": "Attempt to load a program that does not exist",
    "InsufficientFundsForFee": "Insufficient funds for fee",
    "InvalidAccountForFee": "This account may not be used to pay transaction fees",
    "AlreadyProcessed": "This transaction has already been processed",
    "BlockhashNotFound": "Blockhash not found",
    "CallChainTooDeep": "Loader call chain is too deep",
    "MissingSignatureForFee": "Transaction requires a fee but has no signature present",
    "InvalidAccountIndex": "Transaction contains an invalid account reference",
    "SignatureFailure": "Transaction did not pass signature verification",
    "InvalidProgramForExecution": "This program may not be used for executing instructions",
    "SanitizeFailure": "Transaction failed to sanitize accounts offsets correctly",
    "ClusterMaintenance": "Transactions are currently disabled due to cluster maintenance",
    "AccountBorrowOutstanding": "Transaction processing left an account with an outstanding borrowed reference",
    "TooManyAccountLocks": "Transaction locked too many accounts",
    "AddressLookupTableNotFound": "Transaction loads an address table account that doesn't exist",
    "UnsupportedVersion": "Transaction version is unsupported",
    "InvalidLoadedAccountsDataSizeLimit": "LoadedAccountsDataSizeLimit set for transaction must be greater than 0.",
}


def instruction_error_json(err: InstructionError) -> Any:
    return {"Custom": err.code} if err.name == "Custom" else err.name


class TxError(Exception):
    """A transaction error; `.value` is the serde JSON value."""

    def __init__(self, value: Any):
        self.value = value
        super().__init__(display(value))

    @classmethod
    def duplicate_instruction(cls, index: int) -> "TxError":
        return cls({"DuplicateInstruction": index})

    @classmethod
    def insufficient_funds_for_rent(cls, index: int) -> "TxError":
        return cls({"InsufficientFundsForRent": {"account_index": index}})


def instruction_error(index: int, err: InstructionError | str) -> TxError:
    if isinstance(err, str):
        err = InstructionError(err)
    return TxError({"InstructionError": [index, instruction_error_json(err)]})


def display(value: Any) -> str:
    """The Display text Agave prints (e.g. after "Transaction simulation failed: ")."""
    if isinstance(value, str):
        return MESSAGES.get(value, value)
    (name, inner), = value.items()
    if name == "InstructionError":
        index, ierr = inner
        ie = InstructionError.custom(ierr["Custom"]) if isinstance(ierr, dict) else InstructionError(ierr)
        return f"Error processing Instruction {index}: {ie.display()}"
    if name == "DuplicateInstruction":
        return f"Transaction contains a duplicate instruction ({inner}) that is not allowed"
    if name == "InsufficientFundsForRent":
        return f"Transaction results in an account ({inner['account_index']}) with insufficient funds for rent"
    return f"{name}: {inner}"
