/* PURPOSE: flip the first data byte of account 0 whatever its privileges; the runtime must reject the change after the program returns. EXPECT: a read-only account owned by this program fails with ReadonlyDataModified ("instruction modified data of a read-only account"); a writable account owned by the system program fails with ExternalAccountDataModified */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[1];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 1) || params.ka_num < 1) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  if (ka[0].data_len < 1) return ERROR_ACCOUNT_DATA_TOO_SMALL;
  ka[0].data[0] ^= 0xff;
  sol_log("wrote account 0");
  return SUCCESS;
}
