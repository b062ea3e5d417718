"""Firedancer conformance cases whose expectation we believe is wrong for Agave.

Maps a case id (`"v0/int_math.instr:123"`) to the reason, with a source. Firedancer is not the
reference implementation (Agave/sbpf is), so a case may be listed here only when there is solid,
sourced evidence that Agave behaves differently from what the case expects. A bug in sbpfunc is
never a reason to list a case: such cases stay failing (see `VM_BUGS_PENDING` in
`test_firedancer.py`). Listed cases are skipped with their reason.
"""

KNOWN_DIVERGENCES: dict[str, str] = {}
