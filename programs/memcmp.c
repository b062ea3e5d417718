/* PURPOSE: compare byte strings with sol_memcmp_ (equal, less, greater, only the first n bytes). EXPECT: success; log "Program log: 0x0, 0xfffffffffffffffe, 0x1, 0x0, 0x0" (first differing byte a - b, as i32) */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  const char a[] = "sbpfunc-a";
  const char b[] = "sbpfunc-c";
  const char c[] = "sbpfunc-b";
  int32_t r1 = sol_memcmp(a, a, 9);
  int32_t r2 = sol_memcmp(a, b, 9);
  int32_t r3 = sol_memcmp(c, a, 9);
  int32_t r4 = sol_memcmp(a, b, 8);
  sol_log_64_((uint64_t)(int64_t)r1, (uint64_t)(int64_t)r2, (uint64_t)(int64_t)r3, (uint64_t)(int64_t)r4, 0);
  return SUCCESS;
}
