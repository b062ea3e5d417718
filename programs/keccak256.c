/* PURPOSE: hash two slices ("sbpfunc:" and the instruction data) with sol_keccak256 and log the digest with sol_log_data. EXPECT: success; log "Program data: <base64 of keccak256(b"sbpfunc:" + ix data)>" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  uint8_t digest[32];
  SolBytes parts[2] = {{(const uint8_t *)"sbpfunc:", 8}, {params.data, params.data_len}};
  if (sol_keccak256(parts, 2, digest) != 0) return 1;
  SolBytes out = {digest, 32};
  sol_log_data(&out, 1);
  return SUCCESS;
}
