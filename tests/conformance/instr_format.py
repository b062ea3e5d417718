"""Parser for Firedancer's text-format sBPF instruction tests (`*.instr`).

A port of the parser in Firedancer's `src/flamenco/vm/test_vm_instr.c` (`parse_token` /
`parse_next`), see `firedancer/README.md`. It works on tokens, not lines, and reproduces the C
parser's semantics, in particular:

* **Sticky state.** `$` resets nothing: `op`, `dst`, `src`, `off`, `imm`, the input registers,
  `input` and `region_boundary`, the status word and `force_exec` all keep their values from
  earlier cases of the same file until they are set again. A file starts with everything zero,
  an empty input, no boundaries and status `ok` (the C struct is zero-initialised and
  `STATUS_OK == 0`).
* `:` switches to the expected side and copies the input registers into the expected registers;
  `rN=` after it sets an expected register. `op=`/`imm=`/`input=`/`region_boundary=`/... after
  `:` still change the input of the pending case, because a case is emitted only at the next `$`
  (or at end of file). E.g. the `region_boundary=` lines in `load.instr` also apply to the lddw
  case just before them (a `vfy` case, so it makes no difference there).
* A case is emitted when the next `$` (or end of file) is reached while in the assert state; its
  line is the line of its own `$`.
* `input=` also clears the region boundaries. `dst`/`src` are masked to 4 bits. Numbers are bare
  hex of any length, truncated to 64 bits as the C `ulong` accumulator does; `rN` is decimal.
* `vfy` and `vfyub` both expect a verifier failure; `vfy` sets `force_exec`, `vfyub` clears it.
  If several status words appear, the last one wins.

Deliberate strictness (no effect on the shipped files, which only use complete keywords): the C
parser compares keywords with `strncmp(word, kw, strlen(word))`, so any prefix of a keyword
(even the empty word) matches the first keyword it is a prefix of. This port accepts exactly the
keywords listed below and raises `InstrParseError` on anything else, as well as where the C code
would abort (`FD_LOG_ERR` / `assert`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REG_CNT = 12  # the C runner's register array: r0..r11 (r11 is never set by any file)
M64 = (1 << 64) - 1

STATUS_OK = "ok"
STATUS_FAULT = "err"
STATUS_VERIFY_FAIL = "vfy"

_SPACE = frozenset(b" \t\n\v\f\r")  # C isspace() in the "C" locale
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")
_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


class InstrParseError(ValueError):
    """Malformed `.instr` text (where Firedancer's parser would abort, or a non-exact keyword)."""


@dataclass(frozen=True)
class InstrCase:
    """One test case, as the C runner's `test_fixture_t` sees it.

    `status` is the expected outcome: "ok", "err" or "vfy" (both `vfy` and `vfyub` map to "vfy";
    `status_word` keeps the last status word actually written, and `force_exec` mirrors the C
    flag). `regs`/`expected_regs` have the runner's 12 slots (r0..r11). `off` is the raw 16-bit
    value, `imm` the full 64-bit value (only lddw uses its high half).
    """

    file: str  # e.g. "v0/load.instr"
    line: int
    op: int
    dst: int
    src: int
    off: int
    imm: int
    regs: tuple[int, ...]
    input: bytes
    region_boundaries: tuple[int, ...]
    status: str
    status_word: str
    force_exec: bool
    expected_regs: tuple[int, ...]

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def off_signed(self) -> int:
        return self.off - 0x10000 if self.off & 0x8000 else self.off

    def describe(self) -> str:
        """A compact one-line rendering of the case (for failure messages)."""
        regs = " ".join(f"r{i}={v:x}" for i, v in enumerate(self.regs) if v)
        exp = " ".join(f"r{i}={v:x}" for i, v in enumerate(self.expected_regs)
                       if v != self.regs[i])
        mem = ""
        if self.input:
            mem = f" input={self.input.hex()}"
            if self.region_boundaries:
                mem += " region_boundary=" + ",".join(f"{b:x}" for b in self.region_boundaries)
        return (f"op={self.op:02x} dst={self.dst:x} src={self.src:x} off={self.off:04x} "
                f"imm={self.imm:x} {regs}{mem} : {self.status_word} {exp}").rstrip()


class _Parser:
    """Token-level state machine mirroring `test_parser_t`."""

    def __init__(self, data: bytes, name: str):
        self.buf = data
        self.name = name
        self.cur = 0
        self.end = len(data)
        self.line = 1
        self.test_line = 1
        self.asserting = False  # PARSE_STATE_ASSERT
        # test_input_t
        self.op = 0
        self.dst = 0
        self.src = 0
        self.off = 0
        self.imm = 0
        self.reg = [0] * REG_CNT
        self.input = b""
        self.bounds: list[int] = []
        # test_effects_t
        self.status = STATUS_OK
        self.status_word = "ok"
        self.force_exec = False
        self.exp_reg = [0] * REG_CNT

    # --- tape -------------------------------------------------------------------------------
    def _error(self, msg: str) -> InstrParseError:
        return InstrParseError(f"{msg} at {self.name}({self.line})")

    def _advance(self, n: int) -> None:
        self.line += self.buf.count(b"\n", self.cur, self.cur + n)
        self.cur += n

    def _skip_space(self) -> None:
        while self.cur != self.end and self.buf[self.cur] in _SPACE:
            self._advance(1)

    def _assign_sep(self) -> None:
        self._skip_space()
        if self.cur == self.end or self.buf[self.cur] != ord("="):
            raise self._error("Expected '='")
        self._advance(1)
        self._skip_space()

    def _hex_int(self) -> int:
        start = self.cur
        while self.cur != self.end and self.buf[self.cur] in _HEX:
            self._advance(1)
        if self.cur == start:
            raise self._error("Expected hex integer")
        return int(self.buf[start:self.cur], 16) & M64

    def _hex_buf(self) -> bytes:
        start = self.cur
        while self.cur + 1 < self.end and self.buf[self.cur] in _HEX and self.buf[self.cur + 1] in _HEX:
            self._advance(2)
        return bytes.fromhex(self.buf[start:self.cur].decode("ascii"))

    # --- emission -----------------------------------------------------------------------------
    def _fixture(self, line: int) -> InstrCase:
        return InstrCase(
            file=self.name, line=line, op=self.op, dst=self.dst, src=self.src, off=self.off,
            imm=self.imm, regs=tuple(self.reg), input=self.input,
            region_boundaries=tuple(self.bounds), status=self.status,
            status_word=self.status_word, force_exec=self.force_exec,
            expected_regs=tuple(self.exp_reg),
        )

    def _token(self) -> InstrCase | None:
        """`parse_token`: consume one token; return a case when one is complete."""
        self._skip_space()
        if self.cur == self.end:
            if self.asserting:
                self.asserting = False
                return self._fixture(self.test_line)
            return None

        c = self.buf[self.cur]
        if c == ord("$"):
            prev_asserting, prev_line = self.asserting, self.test_line
            self.asserting = False
            self.test_line = self.line
            self._advance(1)
            return self._fixture(prev_line) if prev_asserting else None
        if c == ord("#"):
            while self.cur != self.end:
                ch = self.buf[self.cur]
                self._advance(1)
                if ch == ord("\n"):
                    break
            return None
        if c == ord(":"):
            self.asserting = True
            self._advance(1)
            self.exp_reg = list(self.reg)
            return None

        start = self.cur
        while self.cur != self.end and self.buf[self.cur] in _WORD:
            self._advance(1)
        word = self.buf[start:self.cur].decode("ascii")

        if word == "input":
            self._assign_sep()
            self.input = self._hex_buf()
            self.bounds = []
        elif word == "region_boundary":
            self._assign_sep()
            if len(self.bounds) >= 16:  # uint region_boundary[16]
                raise self._error("Too many region boundaries")
            self.bounds.append(self._hex_int() & 0xFFFF_FFFF)
        elif word == "op":
            self._assign_sep()
            op = self._hex_int()
            if op > 0xFF:
                raise self._error(f"op {op:#x} > 0xff")
            self.op = op
        elif word == "dst":
            self._assign_sep()
            self.dst = self._hex_int() & 0xF
        elif word == "src":
            self._assign_sep()
            self.src = self._hex_int() & 0xF
        elif word == "off":
            self._assign_sep()
            off = self._hex_int()
            if off > 0xFFFF:
                raise self._error(f"off {off:#x} > 0xffff")
            self.off = off
        elif word == "imm":
            self._assign_sep()
            self.imm = self._hex_int()
        elif word == "ok":
            self.status, self.status_word = STATUS_OK, word
        elif word == "err":
            self.status, self.status_word = STATUS_FAULT, word
        elif word == "vfy":
            self.status, self.status_word, self.force_exec = STATUS_VERIFY_FAIL, word, True
        elif word == "vfyub":
            self.status, self.status_word, self.force_exec = STATUS_VERIFY_FAIL, word, False
        elif len(word) >= 2 and word[0] == "r" and word[1].isdigit():
            digits = word[1:]
            # C: fd_cstr_to_uchar(word+1) = strtoul(.., 0). Accept only plain decimal numbers
            # on which base 0 and base 10 agree (no octal "r010", no "r0x1").
            if not all(ch in "0123456789" for ch in digits) or (len(digits) > 1 and digits[0] == "0"):
                raise self._error(f"Unexpected register token '{word}'")
            reg = int(digits)
            if reg >= REG_CNT:
                raise self._error(f"register r{reg} out of range")
            self._assign_sep()
            (self.exp_reg if self.asserting else self.reg)[reg] = self._hex_int()
        else:
            raise self._error(f"Unexpected token '{word}'")
        return None

    def cases(self) -> list[InstrCase]:
        out = []
        while True:  # parse_next until EOF, then one last token call (emits a pending case)
            case = self._token()
            if case is not None:
                out.append(case)
            elif self.cur == self.end and not self.asserting:
                return out


def parse_instr(data: bytes | str, name: str = "<string>") -> list[InstrCase]:
    """All cases of one `.instr` file, replayed from the top with the sticky state."""
    if isinstance(data, str):
        data = data.encode()
    return _Parser(bytes(data), name).cases()


def parse_instr_file(path: str | Path, name: str | None = None) -> list[InstrCase]:
    path = Path(path)
    return parse_instr(path.read_bytes(), name or path.name)
