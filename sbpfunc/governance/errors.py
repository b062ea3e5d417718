"""Governance errors. Every refusal carries a one-line reason meant for the user."""

from __future__ import annotations


class GovernanceError(Exception):
    """Any governance input or action that is refused (bad file, rule violated)."""

    kind = "GovernanceError"


class ProposalRejected(GovernanceError):
    """A proposal cannot be created, opened, cancelled or scheduled."""

    kind = "ProposalRejected"


class SyscallCollision(ProposalRejected):
    """A proposed function name (or its murmur3-32 id) is already taken."""

    kind = "SyscallCollision"


class AuditRequired(ProposalRejected):
    """Voting cannot open without a passing audit report for the proposal's exact module hash."""

    kind = "AuditRequired"


class BallotRejected(GovernanceError):
    """A ballot that does not count. `code` is a stable machine-readable reason."""

    kind = "BallotRejected"

    def __init__(self, code: str, reason: str):
        self.code, self.reason = code, reason
        super().__init__(reason)


class SnapshotError(GovernanceError):
    """A stake snapshot that cannot be recorded (twice for an epoch, retroactive, malformed)."""

    kind = "SnapshotError"
