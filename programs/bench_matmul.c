/* PURPOSE: benchmark: 32x32 u64 matrix product C = A*B on the heap, repeated r times (u64 from instruction data) with A = C mod 1009 between rounds; log a weighted checksum of C. EXPECT: success; log "Program log: <r>, <checksum>, <C[0][0]>, <C[31][31]>, 0x0" (recomputed in the test); about 0.4M CU per round */
#include <sbpfunc.h>

#define N 32

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t rounds = 0;
  for (int i = 7; i >= 0; i--) rounds = (rounds << 8) | params.data[i];

  uint64_t *a = (uint64_t *)MM_HEAP_START; /* three 8 KiB matrices, row-major */
  uint64_t *b = a + N * N;
  uint64_t *c = b + N * N;
  for (uint64_t i = 0; i < N; i++)
    for (uint64_t j = 0; j < N; j++) {
      a[i * N + j] = (i * 31 + j * 17) % 101;
      b[i * N + j] = (i * 7 + j * 13 + 5) % 97;
    }
  for (uint64_t r = 0; r < rounds; r++) {
    if (r > 0)
      for (uint64_t i = 0; i < N * N; i++) a[i] = c[i] % 1009;
    for (uint64_t i = 0; i < N; i++)
      for (uint64_t j = 0; j < N; j++) {
        uint64_t s = 0;
        for (uint64_t k = 0; k < N; k++) s += a[i * N + k] * b[k * N + j];
        c[i * N + j] = s;
      }
  }
  uint64_t checksum = 0;
  for (uint64_t i = 0; i < N * N; i++) checksum += (i + 1) * c[i];
  sol_log_64_(rounds, checksum, c[0], c[N * N - 1], 0);
  return SUCCESS;
}
