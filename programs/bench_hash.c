/* PURPOSE: benchmark: a register-only mixing loop (xor, multiply, shift, mod by a constant) for n iterations (u64 from instruction data). EXPECT: success; log "Program log: <n>, <hash>, 0x0, 0x0, 0x0" (recomputed in the test); about 14 CU per iteration (n=10000: 0.14M CU) */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | params.data[i];

  uint64_t h = 0xcbf29ce484222325UL;
  for (uint64_t i = 0; i < n; i++) {
    h ^= i;
    h *= 0x100000001b3UL;
    h ^= h >> 29;
    h += h % 1000003;
  }
  sol_log_64_(n, h, 0, 0, 0);
  return SUCCESS;
}
