"""Toolchain errors: each is reported by the CLI as one line."""

from __future__ import annotations

from ..vm.errors import SbpfuncError


class ToolchainError(SbpfuncError):
    """Building a program failed (compiler missing, compile error, link error)."""

    kind = "ToolchainError"


class CompileError(ToolchainError):
    kind = "CompileError"


class LinkError(ToolchainError):
    kind = "LinkError"
