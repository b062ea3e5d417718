/* PURPOSE: read every account (key, flags, lamports, data length, first data byte, duplicate markers) and the instruction data and log them. EXPECT: success; per account "Program log: <base58 key>" then "Program log: <index>, <signer|writable<<1|executable<<2>, <lamports>, <data_len>, <data[0]>"; then "Program data: <base64 ix data>" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[6];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, SOL_ARRAY_SIZE(ka))) return ERROR_INVALID_ARGUMENT;
  if (params.ka_num > SOL_ARRAY_SIZE(ka)) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  sol_log_64_(params.ka_num, params.data_len, 0, 0, 0);
  for (uint64_t i = 0; i < params.ka_num; i++) {
    SolAccountInfo *a = &ka[i];
    sol_log_pubkey(a->key);
    uint64_t flags = a->is_signer | a->is_writable << 1 | a->executable << 2;
    sol_log_64_(i, flags, *a->lamports, a->data_len, a->data_len ? a->data[0] : 0);
  }
  SolBytes data = {params.data, params.data_len};
  sol_log_data(&data, 1);
  return SUCCESS;
}
