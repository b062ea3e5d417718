/* PURPOSE: CPI to the system program with a PDA signer (sol_invoke_signed_c): transfer u64 lamports from account 0, the PDA of ["vault", bump] (bump = instruction data byte 8), to account 1; account 2 is the system program. EXPECT: success with the right bump (balances move); a wrong bump fails with PrivilegeEscalation ("signer privilege escalated") */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[3];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 3) || params.ka_num < 3) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  if (params.data_len < 9) return ERROR_INVALID_INSTRUCTION_DATA;

  uint8_t data[12] = {2, 0, 0, 0}; /* SystemInstruction::Transfer { lamports } (bincode) */
  sol_memcpy_(data + 4, params.data, 8);
  SolAccountMeta metas[2] = {{ka[0].key, true, true}, {ka[1].key, true, false}};
  SolInstruction ix = {ka[2].key, metas, 2, data, sizeof(data)};

  uint8_t bump = params.data[8];
  SolSignerSeed seeds[2] = {{(const uint8_t *)"vault", 5}, {&bump, 1}};
  SolSignerSeeds signers[1] = {{seeds, 2}};
  return sol_invoke_signed_c(&ix, ka, 2, signers, 1);
}
