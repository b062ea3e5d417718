/* PURPOSE: call sol_panic_ with a file name, line and column. EXPECT: failure "SBF program Panicked in programs/panic.c at 42:7" (ProgramFailedToComplete); the budget is not drained */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  const char file[] = "programs/panic.c"; /* not __FILE__: the bytes must not depend on the build path */
  sol_panic_(file, sizeof(file) - 1, 42, 7);
}
