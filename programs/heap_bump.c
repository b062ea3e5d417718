/* PURPOSE: a bump allocator over the heap region (MM_HEAP_START, 32 KiB) written in C: allocate n u64 (n from instruction data), fill with i*i, log the address and sum. EXPECT: success for n=1000 with log "Program log: 0x300000000, 0x3e8, 0x13d6a2dc, 0x0, 0x0" (sum of i*i for i < 1000 = 332833500); n=5000 does not fit: "Program log: out of heap" and Custom(1) */
#include <sbpfunc.h>

typedef struct { uint64_t next; } Bump;

static void *bump_alloc(Bump *heap, uint64_t size) {
  uint64_t start = (heap->next + 7) & ~7UL;
  if (size > MM_HEAP_START + HEAP_LENGTH - start) return NULL;
  heap->next = start + size;
  return (void *)start;
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t n = 0;
  for (int i = 7; i >= 0; i--) n = (n << 8) | params.data[i];

  Bump heap = {MM_HEAP_START};
  uint64_t *xs = bump_alloc(&heap, n * sizeof(uint64_t));
  if (xs == NULL) {
    sol_log("out of heap");
    return 1;
  }
  for (uint64_t i = 0; i < n; i++) xs[i] = i * i;
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; i++) sum += xs[i];
  sol_log_64_((uint64_t)xs, n, sum, 0, 0);
  return SUCCESS;
}
