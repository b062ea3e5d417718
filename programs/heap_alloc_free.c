/* PURPOSE: allocate with the sol_alloc_free_ syscall (two 100-byte blocks, a no-op free, an allocation too large), write through the pointers. Runs under add_program; real deployment rejects sol_alloc_free_ (agave-facts #14). EXPECT: success; log "Program log: 0x300000000, 0x300000068, 0x0, 0x7, 0x0" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  uint8_t *a = sol_alloc_free_(100, NULL);
  uint8_t *b = sol_alloc_free_(100, NULL);
  if (a == NULL || b == NULL) return 1;
  a[99] = 3;
  b[0] = 4;
  sol_alloc_free_(0, a); /* free: a no-op for the bump allocator */
  uint8_t *huge = sol_alloc_free_(64 * 1024, NULL);
  sol_log_64_((uint64_t)a, (uint64_t)b, (uint64_t)huge, a[99] + b[0], 0);
  return SUCCESS;
}
