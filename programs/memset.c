/* PURPOSE: fill buffers with sol_memset_ (a byte, then zero) and log them. EXPECT: success; logs "Program log: ********" then "Program log: 0x0, 0x2a2a2a2a2a2a2a2a, 0x0, 0x0, 0x0" */
#include <sbpfunc.h>

uint64_t entrypoint(const uint8_t *input) {
  (void)input;
  uint64_t words[3];
  sol_memset_(words, '*', sizeof(words));
  sol_log_((const char *)words, 8);
  sol_memset_(words, 0, 8);
  sol_log_64_(words[0], words[1], 0, 0, 0);
  return SUCCESS;
}
