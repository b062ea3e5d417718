/* PURPOSE: CPI to another program of ours: call write_data (account 1 is its program id) on the counter account 0 with our instruction data, and log the counter before and after. EXPECT: success; logs "invoke [2]" for write_data and "Program log: 0x0, <before>, <after>, 0x0, 0x0" with after = before + 1 */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo ka[2];
  SolParameters params = {.ka = ka};
  if (!sol_deserialize(input, &params, 2) || params.ka_num < 2) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  if (ka[0].data_len < 8) return ERROR_ACCOUNT_DATA_TOO_SMALL;
  uint64_t before = *(uint64_t *)ka[0].data;

  SolAccountMeta metas[1] = {{ka[0].key, true, false}};
  SolInstruction ix = {ka[1].key, metas, 1, (uint8_t *)params.data, params.data_len};
  uint64_t rc = sol_invoke_signed_c(&ix, ka, 2, NULL, 0);
  if (rc != 0) return rc;

  uint64_t after = *(uint64_t *)ka[0].data; /* the runtime copied the callee's write back */
  sol_log_64_(0, before, after, 0, 0);
  return after == before + 1 ? SUCCESS : 1;
}
