"""Agave's `LogCollector` and the stable log line formats."""

from __future__ import annotations

DEFAULT_LOG_BYTES_LIMIT = 10_000


class LogCollector:
    """Collects log lines until `bytes_limit` bytes, then records "Log truncated" once."""

    def __init__(self, bytes_limit: int | None = DEFAULT_LOG_BYTES_LIMIT):
        self.bytes_limit = bytes_limit
        self.bytes_written = 0
        self.limit_warning = False
        self.messages: list[str] = []

    def log(self, message: str) -> None:
        if self.bytes_limit is None:
            self.messages.append(message)
            return
        written = self.bytes_written + len(message.encode())
        if written >= self.bytes_limit:
            if not self.limit_warning:
                self.limit_warning = True
                self.messages.append("Log truncated")
        else:
            self.bytes_written = written
            self.messages.append(message)


def program_invoke(program_id: str, height: int) -> str:
    return f"Program {program_id} invoke [{height}]"


def program_log(message: str) -> str:
    return f"Program log: {message}"


def program_data(fields_b64: list[str]) -> str:
    return "Program data: " + " ".join(fields_b64)


def program_consumed(program_id: str, consumed: int, budget: int) -> str:
    return f"Program {program_id} consumed {consumed} of {budget} compute units"


def program_return(program_id: str, data_b64: str) -> str:
    return f"Program return: {program_id} {data_b64}"


def program_success(program_id: str) -> str:
    return f"Program {program_id} success"


def program_failure(program_id: str, error: str) -> str:
    return f"Program {program_id} failed: {error}"
