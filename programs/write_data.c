/* PURPOSE: write account data: account 0 (owned by this program, writable, >= 8 bytes) holds a u64 counter at offset 0; increment it and copy the instruction data after it. EXPECT: success; log "Program log: counter, <new value>, ..."; the account's data becomes counter+1 || ix data; IncorrectProgramId if not owned, AccountDataTooSmall if too short */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[1];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 1) || params.ka_num < 1) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  SolAccountInfo *acc = &ka[0];
  if (!SolPubkey_same(acc->owner, params.program_id)) return ERROR_INCORRECT_PROGRAM_ID;
  if (acc->data_len < 8 + params.data_len) return ERROR_ACCOUNT_DATA_TOO_SMALL;
  uint64_t *counter = (uint64_t *)acc->data; /* account data is 8-aligned in the input */
  *counter += 1;
  sol_memcpy_(acc->data + 8, params.data, params.data_len);
  sol_log_64_(0x636f756e746572 /* "counter" */, *counter, params.data_len, 0, 0);
  return SUCCESS;
}
