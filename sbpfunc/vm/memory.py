"""Agave's virtual memory map: `MemoryRegion`s looked up by `vaddr >> 32` (the "aligned" mapping).

Every access must lie inside one region; a store into a read-only region, an access to unmapped
space, or one that crosses a region end is an access violation, reported exactly as sbpf 0.21
reports it (region named after the address, `StackAccessViolation` near the stack in v0/v3).

The v0 stack is *gapped*: guest frame i lives at `MM_STACK_START + 8192*i`, the 4 KiB above each
frame is unmapped. Only the start address of an access is checked against a gap, so an access that
runs past a frame's end reads the next frame's bytes — the same quirk as Agave.

Several regions may share one 4 GiB slot (the input can be split into sub-regions, as in
Agave's direct-mapping layout and Firedancer's conformance cases); they are then found by bisection.
"""

from __future__ import annotations

import bisect
import struct
from dataclasses import dataclass

from .errors import AccessViolation, StackAccessViolation
from .isa import MAX_CALL_DEPTH, MM_STACK_START, STACK_FRAME_SIZE

_U8 = struct.Struct("<B")
_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")
_U64 = struct.Struct("<Q")
_STRUCTS = {1: _U8, 2: _U16, 4: _U32, 8: _U64}

_REGION_NAMES = {1: "program", 2: "stack", 3: "heap", 4: "input"}
_SLOTS = 8  # index table size; addresses whose slot is >= this are unmapped


class MemoryRegion:
    """A contiguous range of guest memory backed by a host buffer.

    `gap_size` > 0 makes the region gapped: guest bytes [k*2*gap, k*2*gap + gap) map to host
    [k*gap, (k+1)*gap) and the other half of each 2*gap window is unmapped.
    """

    __slots__ = ("vaddr", "data", "writable", "gap_size", "host_len", "vm_len", "end")

    def __init__(self, vaddr: int, data: bytes | bytearray, writable: bool, gap_size: int = 0):
        if writable and not isinstance(data, bytearray):
            data = bytearray(data)
        self.vaddr = vaddr
        self.data = data
        self.writable = writable
        self.gap_size = gap_size
        self.host_len = len(data)
        self.vm_len = len(data) * 2 if gap_size else len(data)
        self.end = vaddr + self.vm_len

    def host_offset(self, vaddr: int, size: int) -> int:
        """Host offset of [vaddr, vaddr+size) or -1 if it is not mapped by this region."""
        off = vaddr - self.vaddr
        if off < 0:
            return -1
        gap = self.gap_size
        if gap:
            if (off // gap) & 1:
                return -1
            off = (off // (2 * gap)) * gap + off % gap
        if off + size <= self.host_len:
            return off
        return -1

    def __repr__(self) -> str:
        kind = "rw" if self.writable else "ro"
        return f"MemoryRegion({self.vaddr:#x}, {self.host_len} bytes, {kind}, gap={self.gap_size})"


@dataclass(frozen=True)
class MemoryConfig:
    """The pieces of sbpf's `Config` the memory map reads."""

    stack_frame_size: int = STACK_FRAME_SIZE
    max_call_depth: int = MAX_CALL_DEPTH
    stack_access_violations: bool = True  # off for versions with dynamic stack frames


class MemoryMapping:
    """Translates guest addresses to host buffers and performs loads and stores."""

    def __init__(self, regions: list[MemoryRegion], config: MemoryConfig | None = None):
        self.config = config or MemoryConfig()
        self.set_regions(regions)

    def set_regions(self, regions: list[MemoryRegion]) -> None:
        """Replace the mapped regions (a machine is reused across runs of one executable)."""
        self.regions = sorted(regions, key=lambda r: r.vaddr)
        slots: list = [None] * _SLOTS
        for r in self.regions:
            i = r.vaddr >> 32
            if i >= _SLOTS:
                raise ValueError(f"region at {r.vaddr:#x} is outside the mapped address space")
            if slots[i] is None:
                slots[i] = r
            else:
                prev = slots[i] if isinstance(slots[i], list) else [slots[i]]
                slots[i] = prev + [r]
        for i, s in enumerate(slots):
            if isinstance(s, list):
                for a, b in zip(s, s[1:]):
                    if a.end > b.vaddr:
                        raise ValueError(f"regions {a} and {b} overlap")
        self._slots = slots
        self._starts = {i: [r.vaddr for r in s] for i, s in enumerate(slots) if isinstance(s, list)}

    # --- lookup -------------------------------------------------------------------------------
    def region_for(self, vaddr: int) -> MemoryRegion | None:
        i = vaddr >> 32
        if i >= _SLOTS:
            return None
        s = self._slots[i]
        if isinstance(s, list):
            k = bisect.bisect_right(self._starts[i], vaddr) - 1
            return s[k] if k >= 0 else None
        return s

    def fault(self, access: str, vaddr: int, size: int) -> Exception:
        """The error sbpf raises for a failed access (built from the address alone)."""
        cfg = self.config
        if cfg.stack_access_violations:
            d = vaddr - MM_STACK_START
            frame = d // cfg.stack_frame_size if d >= 0 else -((-d) // cfg.stack_frame_size)
            if -1 <= frame <= cfg.max_call_depth:
                return StackAccessViolation(access, vaddr, size, frame)
        return AccessViolation(access, vaddr, size, _REGION_NAMES.get(vaddr >> 32, "unknown"))

    def translate(self, vaddr: int, size: int, write: bool) -> tuple[bytearray | bytes, int]:
        """(host buffer, offset) of [vaddr, vaddr+size), or raise the access violation."""
        r = self.region_for(vaddr)
        if r is not None and (r.writable or not write):
            off = r.host_offset(vaddr, size)
            if off >= 0:
                return r.data, off
        raise self.fault("store" if write else "load", vaddr, size)

    # --- typed access (the interpreter's hot path) ----------------------------------------------
    def load(self, vaddr: int, size: int) -> int:
        r = self._slots[vaddr >> 32] if vaddr >> 32 < _SLOTS else None
        if r is not None and r.__class__ is MemoryRegion and not r.gap_size:
            off = vaddr - r.vaddr
            if off >= 0 and off + size <= r.host_len:
                return _STRUCTS[size].unpack_from(r.data, off)[0]
        data, off = self.translate(vaddr, size, False)
        return _STRUCTS[size].unpack_from(data, off)[0]

    def store(self, vaddr: int, size: int, value: int) -> None:
        r = self._slots[vaddr >> 32] if vaddr >> 32 < _SLOTS else None
        if r is not None and r.__class__ is MemoryRegion and not r.gap_size and r.writable:
            off = vaddr - r.vaddr
            if off >= 0 and off + size <= r.host_len:
                _STRUCTS[size].pack_into(r.data, off, value)
                return
        data, off = self.translate(vaddr, size, True)
        _STRUCTS[size].pack_into(data, off, value)

    # --- byte ranges (syscalls) ---------------------------------------------------------------
    def read(self, vaddr: int, size: int) -> bytes:
        if size == 0:
            return b""
        data, off = self.translate(vaddr, size, False)
        return bytes(data[off : off + size])

    def write(self, vaddr: int, payload: bytes) -> None:
        if not payload:
            return
        data, off = self.translate(vaddr, len(payload), True)
        data[off : off + len(payload)] = payload
