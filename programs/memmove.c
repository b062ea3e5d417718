/* PURPOSE: overlapping moves with sol_memmove_ (to the left and to the right) inside a stack buffer. EXPECT: success; logs "Program log: 0123456789", "Program log: 2345678989", "Program log: 2323456789" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  char buf[16];
  sol_memcpy_(buf, "0123456789", 10);
  sol_log_(buf, 10);
  sol_memmove_(buf, buf + 2, 8); /* left over itself */
  sol_log_(buf, 10);
  sol_memmove_(buf + 2, buf, 8); /* right over itself */
  sol_log_(buf, 10);
  return SUCCESS;
}
