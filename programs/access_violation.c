/* PURPOSE: load (op 0) or store (op 1) 8 bytes at an address from instruction data (u64 address, u8 op). EXPECT: address 0 load fails "Access violation in unknown section at address 0x0 of size 8"; a store to 0x100000000 fails in the program section (read-only); a load at 0x300008000 fails in the heap section; all ProgramFailedToComplete with the whole budget consumed */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 9) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t addr = 0;
  for (int i = 7; i >= 0; i--) addr = (addr << 8) | params.data[i];
  volatile uint64_t *p = (volatile uint64_t *)addr;
  if (params.data[8] == 1) {
    *p = 0x5a5a5a5a5a5a5a5aUL;
    sol_log("stored");
  } else {
    sol_log_64_(addr, *p, 0, 0, 0);
  }
  return SUCCESS;
}
