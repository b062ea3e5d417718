"""Testing helpers: a Mollusk/LiteSVM-style harness, golden cases, and a pytest plugin."""

from .harness import Harness, InstructionResult

__all__ = ["Harness", "InstructionResult"]
