"""Run a bank behind the JSON-RPC server: slots advance on a timer, a status line shows progress, and
SIGINT/SIGTERM shut down cleanly (the server stops accepting, the ledger is closed)."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from typing import TextIO

from aiohttp import web

from ..bank.bank import Bank
from .server import create_app, slot_ticker


def status_line(bank: Bank) -> str:
    modules = ", ".join(bank.active_modules()) or "none"
    return (f"slot {bank.slot} | epoch {bank.epoch} | block height {bank.block_height} | "
            f"transactions {bank.transaction_count} | active modules: {modules}")


async def serve(bank: Bank, *, host: str = "127.0.0.1", port: int = 8899, slot_ms: int = 400,
                out: TextIO = sys.stdout, status_interval: float = 1.0) -> None:
    app = create_app(bank)
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port, reuse_address=True)
    await site.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tty = out.isatty()
    out.write(f"Identity: {bank.identity.pubkey()}\nGenesis Hash: {bank.genesis_hash}\n"
              f"JSON RPC URL: http://{host}:{port}\n")
    out.flush()
    ticker = asyncio.create_task(slot_ticker(bank, slot_ms, stop))
    last_plain = 0.0
    try:
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), status_interval)
            except asyncio.TimeoutError:
                pass
            line = status_line(bank)
            if tty:
                out.write("\r\x1b[2K" + line)
                out.flush()
            elif time.monotonic() - last_plain >= 10:
                out.write(line + "\n")
                out.flush()
                last_plain = time.monotonic()
    finally:
        stop.set()
        await ticker
        await runner.cleanup()
        with bank.lock:
            final = status_line(bank)
            bank.store.close()
        out.write(("\n" if tty else "") + f"shut down: {final}\n")
        out.flush()
