/* PURPOSE: divide two u64 from instruction data with a div64 by register (the divisor stays opaque to clang). EXPECT: 100/7 succeeds logging "Program log: 0x64, 0x7, 0xe, 0x2, 0x0"; a zero divisor fails "divide by zero at BPF instruction" (ProgramFailedToComplete, whole budget consumed) */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 16) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t a = 0, b = 0;
  for (int i = 7; i >= 0; i--) a = (a << 8) | params.data[i];
  for (int i = 15; i >= 8; i--) b = (b << 8) | params.data[i];
  sol_log_64_(a, b, a / b, a % b, 0);
  return SUCCESS;
}
