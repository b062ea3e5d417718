/* PURPOSE: report the remaining budget with sol_log_compute_units_ before and after a little work. EXPECT: success; two "Program consumption: N units remaining" lines, the second lower */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  sol_log_compute_units_();
  sol_log("between");
  sol_log_compute_units_();
  return SUCCESS;
}
