"""sbpfunc: a Solana-style runtime simulator with governance-activated syscall modules."""

__version__ = "0.1.0"
