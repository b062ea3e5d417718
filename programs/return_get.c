/* PURPOSE: CPI into the program given as account 0 (return_data) with our instruction data, then read its answer with sol_get_return_data and log it and the setter's id. EXPECT: success; logs "Program log: got: ret:<ix data>" and the callee id; Custom(1) if nothing came back */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[1];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 1) || params.ka_num < 1) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  SolInstruction ix = {
      .program_id = ka[0].key,
      .accounts = NULL,
      .account_len = 0,
      .data = (uint8_t *)params.data,
      .data_len = params.data_len,
  };
  uint64_t rc = sol_invoke_signed_c(&ix, ka, 1, NULL, 0);
  if (rc != 0) return rc;

  uint8_t buf[5 + 64];
  SolPubkey setter;
  sol_memcpy_(buf, "got: ", 5);
  uint64_t n = sol_get_return_data(buf + 5, 64, &setter);
  if (n == 0) return 1;
  sol_log_((const char *)buf, 5 + (n < 64 ? n : 64));
  sol_log_pubkey(&setter);
  if (!SolPubkey_same(&setter, ka[0].key)) return 2;
  return SUCCESS;
}
