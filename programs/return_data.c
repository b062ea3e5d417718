/* PURPOSE: set return data "ret:" + instruction data with sol_set_return_data. EXPECT: success; log "Program return: <program id> <base64>", transaction return data = b"ret:" + ix data */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0)) return ERROR_INVALID_ARGUMENT;
  uint8_t buf[64];
  if (params.data_len > sizeof(buf) - 4) return ERROR_INVALID_INSTRUCTION_DATA;
  sol_memcpy_(buf, "ret:", 4);
  sol_memcpy_(buf + 4, params.data, params.data_len);
  sol_set_return_data(buf, 4 + params.data_len);
  return SUCCESS;
}
