/* PURPOSE: emit binary fields with sol_log_data (a constant, the instruction data, an empty field). EXPECT: success; log "Program data: c2JwZnVuYw== <base64 of ix data> " */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  const char tag[] = "sbpfunc";
  SolBytes fields[3] = {
      {(const uint8_t *)tag, sizeof(tag) - 1},
      {params.data, params.data_len},
      {NULL, 0},
  };
  sol_log_data(fields, 3);
  return SUCCESS;
}
