/* PURPOSE: recurse n levels (u64 from instruction data) through a noinline function whose result depends on every frame. EXPECT: n=62 succeeds logging "Program log: 0x3e, 0x7a2, 0x0, 0x0, 0x0" (1 + 62*63/2 = 1954); n=63 exceeds the 64-frame limit: "exceeded max BPF to BPF call depth" (ProgramFailedToComplete) */
#include <sbpfunc.h>

static __attribute__((noinline)) uint64_t depth(uint64_t n) {
  volatile uint64_t frame = n; /* lives in this call's stack frame: no loop conversion */
  if (n == 0) return 1;
  return depth(n - 1) + frame;
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | params.data[i];
  sol_log_64_(n, depth(n), 0, 0, 0);
  return SUCCESS;
}
