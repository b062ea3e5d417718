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
from .pubsub import create_pubsub_app
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
    # PubSub on the RPC port + 1 (Agave's convention; also on the RPC port as a websocket upgrade)
    if port == 0:
        port = runner.addresses[0][1]
    ws_runner = web.AppRunner(create_pubsub_app(app["pubsub"]), handle_signals=False, access_log=None)
    await ws_runner.setup()
    ws_site = web.TCPSite(ws_runner, host, port + 1, reuse_address=True)
    try:
        await ws_site.start()
    except OSError:
        await runner.cleanup()
        await ws_runner.cleanup()
        raise
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tty = out.isatty()
    out.write(f"Identity: {bank.identity.pubkey()}\nGenesis Hash: {bank.genesis_hash}\n"
              f"WebSocket PubSub URL: ws://{host}:{port + 1}\n"
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
        await app["pubsub"].close_all()
        await ws_runner.cleanup()
        await runner.cleanup()
        with bank.lock:
            final = status_line(bank)
            bank.store.close()
        out.write(("\n" if tty else "") + f"shut down: {final}\n")
        out.flush()
