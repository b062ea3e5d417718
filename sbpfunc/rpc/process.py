"""`sbpfunc validator` as a subprocess on loopback (tests and benchmarks drive it over RPC/PubSub)."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port_pair() -> int:
    """A port p with p and p + 1 free on 127.0.0.1 (RPC and PubSub, as Agave pairs them)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port >= 65535:
            continue
        try:
            with socket.socket() as s2:
                s2.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError("no free port pair")


class ValidatorProcess:
    def __init__(self, ledger: Path | None, *extra: str, reset: bool = False, slot_ms: int = 50,
                 port: int | None = None, timeout: float = 30):
        self.port = port or free_port_pair()
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port + 1}"
        args = [sys.executable, "-m", "sbpfunc.cli", "validator", "--rpc-port", str(self.port),
                "--slot-ms", str(slot_ms), *extra]
        if ledger is not None:
            args += ["--ledger", str(ledger)]
        if reset:
            args.append("--reset")
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO)
        self.banner: list[str] = []
        deadline = time.time() + timeout
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"validator exited ({self.proc.wait()}): {''.join(self.banner)}")
            self.banner.append(line)
            if line.startswith("JSON RPC URL"):
                return
        self.kill()
        raise RuntimeError("validator did not start")

    def stop(self, sig=signal.SIGTERM, timeout: float = 20) -> str:
        self.proc.send_signal(sig)
        out, _ = self.proc.communicate(timeout=timeout)
        return out

    def kill(self) -> None:
        """`kill -9`: no shutdown of any kind."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=20)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()
