import pytest

from ._diff import Diff


@pytest.fixture(scope="module")
def diff() -> Diff:
    """One LiteSVM and one sbpfunc program cache per test module."""
    return Diff()
