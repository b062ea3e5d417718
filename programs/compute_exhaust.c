/* PURPOSE: spin a mixing loop for n iterations (u64 from instruction data) and log the result. EXPECT: n=1000 succeeds; n=2^64-1 runs out of compute units: "exceeded CUs meter at BPF instruction" and the whole budget is consumed */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | params.data[i];
  uint64_t x = 0x9e3779b97f4a7c15UL;
  for (uint64_t i = 0; i < n; i++) x = (x ^ (x >> 29)) * 0xbf58476d1ce4e5b9UL + i;
  sol_log_64_(n, x, 0, 0, 0);
  return SUCCESS;
}
