/* PURPOSE: read the Rent sysvar with sol_get_rent_sysvar, log its fields and the rent-exempt minimum for 100 bytes (integer math; exact when the threshold is 1.0 or 2.0). EXPECT: success; log "Program log: 0x1b30, 0x3ff0000000000000, 0x32, 0x18c580, 0x0" with LiteSVM's default rent (6960 lamports/byte-year, threshold 1.0, burn 50) */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  SolRent rent;
  if (sol_get_rent_sysvar(&rent) != 0) return 1;
  uint64_t threshold = 0;
  for (int i = 7; i >= 0; i--) threshold = (threshold << 8) | rent.exemption_threshold[i];
  uint64_t years = threshold == 0x3ff0000000000000UL ? 1 : threshold == 0x4000000000000000UL ? 2 : 0;
  uint64_t minimum = (128 + 100) * rent.lamports_per_byte_year * years; /* 128 = account overhead */
  sol_log_64_(rent.lamports_per_byte_year, threshold, rent.burn_percent, minimum, 0);
  return SUCCESS;
}
