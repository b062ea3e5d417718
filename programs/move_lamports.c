/* PURPOSE: move lamports (u64 amount from instruction data) from account 0 to account 1, both owned by this program and writable, by editing the balances directly. EXPECT: success; balances change by the amount; log "Program log: <from after>, <to after>, ..."; InsufficientFunds if account 0 has too little */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[2];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 2) || params.ka_num < 2) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  if (params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t amount = 0;
  for (int i = 7; i >= 0; i--) amount = (amount << 8) | params.data[i];
  if (*ka[0].lamports < amount) return ERROR_INSUFFICIENT_FUNDS;
  *ka[0].lamports -= amount;
  *ka[1].lamports += amount;
  sol_log_64_(*ka[0].lamports, *ka[1].lamports, amount, 0, 0);
  return SUCCESS;
}
