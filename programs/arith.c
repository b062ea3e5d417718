/* PURPOSE: integer arithmetic on two i64 from instruction data: unsigned and signed div/mod (signed written with unsigned ops), shifts, and SBPF 32-bit ops via sbpf_*32. EXPECT: success; four sol_log_64_ lines; for a=-1000003, b=97 the first ends "0xffffffffffffd7bb, 0xffffffffffffffe2, 0x0" (-10309, -30) and the last starts "0xffffffff80000000, 0xffffffffffffffff" (add32/sub32 sign-extend); every value is recomputed in the test */
#include <sbpfunc.h>

static uint64_t load_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/* clang's BPF backend has no signed division: divide magnitudes, then fix the signs.
 * Like C (and Rust's wrapping ops): the quotient truncates toward zero, the remainder takes the
 * dividend's sign. */
static uint64_t abs_u64(int64_t x) { return x < 0 ? -(uint64_t)x : (uint64_t)x; }
static int64_t sdiv64(int64_t a, int64_t b) {
  uint64_t q = abs_u64(a) / abs_u64(b);
  return (a < 0) != (b < 0) ? -(int64_t)q : (int64_t)q;
}
static int64_t srem64(int64_t a, int64_t b) {
  uint64_t r = abs_u64(a) % abs_u64(b);
  return a < 0 ? -(int64_t)r : (int64_t)r;
}

uint64_t entrypoint(const uint8_t *input) {
  SolParameters params = {0};
  if (!sol_deserialize(input, &params, 0) || params.data_len < 16) return ERROR_INVALID_INSTRUCTION_DATA;
  uint64_t ua = load_u64(params.data), ub = load_u64(params.data + 8);
  int64_t a = (int64_t)ua, b = (int64_t)ub;
  if (ub == 0) return ERROR_INVALID_ARGUMENT;

  /* 64-bit unsigned and signed division */
  sol_log_64_(ua / ub, ua % ub, (uint64_t)sdiv64(a, b), (uint64_t)srem64(a, b), 0);
  /* shifts: logical right, arithmetic right, left, rotate-by-variable */
  uint64_t s = ub & 63;
  sol_log_64_(ua >> 3, (uint64_t)(a >> 3), ua << 5, ua >> s, (ua << s) | (ua >> ((64 - s) & 63)));
  /* 64-bit wrapping multiply, bit ops, negation */
  sol_log_64_(ua * ub, ua & ub, ua | ub, ua ^ ub, -ua);
  /* SBPF v0 32-bit ALU: add32/sub32/mul32 sign-extend their result, div32/mod32 zero-extend */
  sol_log_64_(sbpf_add32(0x7fffffff, ub - 96), sbpf_sub32(0, ub - 96), sbpf_mul32(ua, ub),
              sbpf_div32(ua, ub), sbpf_mod32(ua, ub));
  return SUCCESS;
}
