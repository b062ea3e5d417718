/* PURPOSE: log the program id and every account key with sol_log_pubkey. EXPECT: success; one "Program log: <base58>" line per key, program id first */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[4];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(ka))) return ERROR_INVALID_ARGUMENT;
  sol_log_pubkey(params.program_id);
  for (uint64_t i = 0; i < params.ka_num && i < SOL_ARRAY_SIZE(ka); i++) sol_log_pubkey(ka[i].key);
  return SUCCESS;
}
