/* PURPOSE: return the u64 in the instruction data as the program result (Agave's r0 mapping). EXPECT: 0 succeeds; 42 -> Custom(42) "custom program error: 0x2a"; 1<<32 -> Custom(0); 3<<32 -> InvalidInstructionData; 1000<<32 -> InvalidError "program returned invalid error code" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 8) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t code = 0;
  for (int i = 7; i >= 0; i--) code = (code << 8) | params.data[i];
  sol_log_64_(code, 0, 0, 0, 0);
  return code;
}
