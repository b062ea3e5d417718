/* PURPOSE: log five u64 values with sol_log_64_. EXPECT: success; log "Program log: 0x1, 0x2, 0x2a, 0xffffffffffffffff, 0x0" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  sol_log_64_(1, 2, 42, (uint64_t)-1, 0);
  return SUCCESS;
}
