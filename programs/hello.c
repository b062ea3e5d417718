/* PURPOSE: log a greeting with sol_log_. EXPECT: success; log "Program log: Hello, sbpfunc!" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  sol_log("Hello, sbpfunc!");
  return SUCCESS;
}
