/* PURPOSE: copy with sol_memcpy_ (rodata -> stack, then the instruction data); instruction data byte 0 == 1 asks for an overlapping copy. EXPECT: success logging "Program log: memcpy: copied" and the copied ix data; with data [1] fails with "Overlapping copy" (ProgramFailedToComplete) */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  char buf[64];
  const char msg[] = "memcpy: copied";
  sol_memcpy_(buf, msg, sizeof(msg) - 1);
  sol_log_(buf, sizeof(msg) - 1);
  if (params.data_len >= 1 && params.data[0] == 1) {
    sol_memcpy_(buf + 1, buf, 8); /* overlapping: the runtime refuses */
    return SUCCESS;
  }
  uint64_t n = params.data_len < sizeof(buf) ? params.data_len : sizeof(buf);
  sol_memcpy_(buf, params.data, n);
  sol_log_(buf, n);
  return SUCCESS;
}
