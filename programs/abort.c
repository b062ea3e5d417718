/* PURPOSE: log a line, then call the abort syscall. EXPECT: failure "SBF program panicked" (ProgramFailedToComplete) after "Program log: aborting"; the budget is not drained */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  sol_log("aborting");
  abort();
}
