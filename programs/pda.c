/* PURPOSE: derive the PDA of seeds ["vault"] with sol_try_find_program_address, re-derive it with sol_create_program_address and the bump, and log both; instruction data [1] passes a 33-byte seed instead. EXPECT: success; logs the PDA twice and "Program log: <bump>, 0x0, ..."; with data [1] fails with "Could not create program address with signer seeds: Length of the seed is too long for address generation" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  const uint8_t too_long[33] = {0};
  bool bad = params.data_len >= 1 && params.data[0] == 1;
  SolSignerSeed seeds[2] = {{(const uint8_t *)"vault", 5}, {NULL, 0}};
  if (bad) seeds[0] = (SolSignerSeed){too_long, sizeof(too_long)};

  SolPubkey found, made;
  uint8_t bump = 0;
  if (sol_try_find_program_address(seeds, 1, params.program_id, &found, &bump) != 0) return 1;
  sol_log_pubkey(&found);

  seeds[1] = (SolSignerSeed){&bump, 1};
  uint64_t rc = sol_create_program_address(seeds, 2, params.program_id, &made);
  sol_log_pubkey(&made);
  sol_log_64_(bump, rc, SolPubkey_same(&found, &made), 0, 0);
  return rc == 0 && SolPubkey_same(&found, &made) ? SUCCESS : 2;
}
