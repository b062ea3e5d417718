/* PURPOSE: benchmark: heapsort 1024 pseudo-random u64 (LCG seeded from instruction data) on the heap, check the order and log a position-weighted checksum. EXPECT: success; log "Program log: 0x400, <checksum>, <min>, <max>, 0x0" (recomputed in the test); about 0.3M CU, so it needs a raised compute unit limit */
#include <sbpfunc.h>

#define N 1024

static void sift_down(uint64_t *a, uint64_t root, uint64_t end) {
  for (;;) {
    uint64_t child = 2 * root + 1;
    if (child >= end) return;
    if (child + 1 < end && a[child] < a[child + 1]) child++;
    if (a[root] >= a[child]) return;
    uint64_t t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t x = 0;
  for (int i = 7; i >= 0; i--) x = (x << 8) | params.data[i];

  uint64_t *a = (uint64_t *)MM_HEAP_START; /* 8 KiB: far too big for a 512-byte stack frame */
  for (uint64_t i = 0; i < N; i++) {
    x = x * 6364136223846793005UL + 1442695040888963407UL;
    a[i] = x;
  }
  for (uint64_t start = N / 2; start-- > 0;) sift_down(a, start, N);
  for (uint64_t end = N - 1; end > 0; end--) {
    uint64_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }

  uint64_t checksum = 0;
  for (uint64_t i = 0; i < N; i++) {
    if (i > 0 && a[i - 1] > a[i]) return 1;
    checksum += (i + 1) * a[i];
  }
  sol_log_64_(N, checksum, a[0], a[N - 1], 0);
  return SUCCESS;
}
