/* PURPOSE: CPI to the system program: transfer u64 lamports (instruction data) from account 0 (a signer) to account 1; account 2 is the system program. EXPECT: success; logs "Program 11111111111111111111111111111111 invoke [2]" and "... success"; balances move by the amount */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[3];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 3) || params.ka_num < 3) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  if (params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;

  uint8_t data[12] = {2, 0, 0, 0}; /* SystemInstruction::Transfer { lamports } (bincode) */
  sol_memcpy_(data + 4, params.data, 8);
  SolAccountMeta metas[2] = {{ka[0].key, true, true}, {ka[1].key, true, false}};
  SolInstruction ix = {ka[2].key, metas, 2, data, sizeof(data)};
  return sol_invoke_signed_c(&ix, ka, 2, NULL, 0);
}
