/* PURPOSE: read the Clock sysvar with sol_get_clock_sysvar and log its five fields. EXPECT: success; log "Program log: <slot>, <epoch_start_timestamp>, <epoch>, <leader_schedule_epoch>, <unix_timestamp>" (hex) */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  SolClock clock;
  if (sol_get_clock_sysvar(&clock) != 0) return 1;
  sol_log_64_(clock.slot, (uint64_t)clock.epoch_start_timestamp, clock.epoch, clock.leader_schedule_epoch,
              (uint64_t)clock.unix_timestamp);
  return SUCCESS;
}
