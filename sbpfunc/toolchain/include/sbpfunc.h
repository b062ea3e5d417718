/*
 * sbpfunc.h - a small C SDK for SBPF v0 programs built with `sbpfunc build` (stock clang).
 *
 * Written from the runtime's documented ABI (input serialization, syscall signatures, C CPI
 * structs), not from Solana's SDK. Everything is header-only and freestanding.
 *
 * Entry point:   uint64_t entrypoint(const uint8_t *input)   (r1 = input region)
 * Return 0 for success, a custom error code (< 2^32), or one of the ERROR_* builtins below.
 */
#ifndef SBPFUNC_H
#define SBPFUNC_H

typedef unsigned char uint8_t;
typedef signed char int8_t;
typedef unsigned short uint16_t;
typedef signed short int16_t;
typedef unsigned int uint32_t;
typedef signed int int32_t;
typedef unsigned long uint64_t;
typedef signed long int64_t;
typedef uint64_t size_t;
typedef _Bool bool;
#define true 1
#define false 0
#define NULL ((void *)0)

#define SOL_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Builtin program errors: k << 32 (Agave's mapping of r0). */
#define TO_BUILTIN(k) ((uint64_t)(k) << 32)
#define SUCCESS 0
#define ERROR_CUSTOM_ZERO TO_BUILTIN(1)
#define ERROR_INVALID_ARGUMENT TO_BUILTIN(2)
#define ERROR_INVALID_INSTRUCTION_DATA TO_BUILTIN(3)
#define ERROR_INVALID_ACCOUNT_DATA TO_BUILTIN(4)
#define ERROR_ACCOUNT_DATA_TOO_SMALL TO_BUILTIN(5)
#define ERROR_INSUFFICIENT_FUNDS TO_BUILTIN(6)
#define ERROR_INCORRECT_PROGRAM_ID TO_BUILTIN(7)
#define ERROR_MISSING_REQUIRED_SIGNATURES TO_BUILTIN(8)
#define ERROR_ACCOUNT_ALREADY_INITIALIZED TO_BUILTIN(9)
#define ERROR_UNINITIALIZED_ACCOUNT TO_BUILTIN(10)
#define ERROR_NOT_ENOUGH_ACCOUNT_KEYS TO_BUILTIN(11)
#define ERROR_ACCOUNT_BORROW_FAILED TO_BUILTIN(12)
#define ERROR_MAX_SEED_LENGTH_EXCEEDED TO_BUILTIN(13)
#define ERROR_INVALID_SEEDS TO_BUILTIN(14)

/* Memory map */
#define MM_PROGRAM_START 0x100000000UL
#define MM_STACK_START 0x200000000UL
#define MM_HEAP_START 0x300000000UL
#define MM_INPUT_START 0x400000000UL
#define HEAP_LENGTH (32 * 1024)
#define MAX_PERMITTED_DATA_INCREASE (10 * 1024)

typedef struct { uint8_t x[32]; } SolPubkey;

/* Account view into the input region (also the C CPI layout: 56 bytes). */
typedef struct {
  SolPubkey *key;
  uint64_t *lamports;
  uint64_t data_len;
  uint8_t *data;
  SolPubkey *owner;
  uint64_t rent_epoch;
  bool is_signer;
  bool is_writable;
  bool executable;
} SolAccountInfo;

typedef struct {
  SolAccountInfo *ka;        /* filled by sol_deserialize, ka_num entries */
  uint64_t ka_num;           /* accounts in the input */
  const uint8_t *data;       /* instruction data */
  uint64_t data_len;
  const SolPubkey *program_id;
} SolParameters;

typedef struct { const uint8_t *addr; uint64_t len; } SolBytes;
typedef struct { const uint8_t *addr; uint64_t len; } SolSignerSeed;
typedef struct { const SolSignerSeed *addr; uint64_t len; } SolSignerSeeds;

typedef struct { SolPubkey *pubkey; bool is_writable; bool is_signer; } SolAccountMeta;
typedef struct {
  SolPubkey *program_id;
  SolAccountMeta *accounts;
  uint64_t account_len;
  uint8_t *data;
  uint64_t data_len;
} SolInstruction;

/* Sysvars as the runtime copies them out. */
typedef struct {
  uint64_t slot;
  int64_t epoch_start_timestamp;
  uint64_t epoch;
  uint64_t leader_schedule_epoch;
  int64_t unix_timestamp;
} SolClock;

typedef struct {
  uint64_t lamports_per_byte_year;
  uint8_t exemption_threshold[8]; /* f64 bit pattern */
  uint8_t burn_percent;
} SolRent;

typedef struct {
  uint64_t slots_per_epoch;
  uint64_t leader_schedule_slot_offset;
  bool warmup;
  uint64_t first_normal_epoch;
  uint64_t first_normal_slot;
} SolEpochSchedule;

/* ---- syscalls ------------------------------------------------------------------------------- */
void sol_log_(const char *message, uint64_t len);
void sol_log_64_(uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e);
void sol_log_pubkey(const SolPubkey *key);
void sol_log_compute_units_(void);
void sol_log_data(const SolBytes *fields, uint64_t n);
void abort(void) __attribute__((noreturn));
void sol_panic_(const char *file, uint64_t len, uint64_t line, uint64_t column) __attribute__((noreturn));

void *sol_memcpy_(void *dst, const void *src, uint64_t n);
void *sol_memmove_(void *dst, const void *src, uint64_t n);
void *sol_memset_(void *dst, uint64_t c, uint64_t n);
void sol_memcmp_(const void *a, const void *b, uint64_t n, int32_t *result);

uint64_t sol_sha256(const SolBytes *slices, uint64_t n, uint8_t *out32);
uint64_t sol_keccak256(const SolBytes *slices, uint64_t n, uint8_t *out32);
uint64_t sol_blake3(const SolBytes *slices, uint64_t n, uint8_t *out32);

uint64_t sol_create_program_address(const SolSignerSeed *seeds, uint64_t n, const SolPubkey *program_id,
                                    SolPubkey *out);
uint64_t sol_try_find_program_address(const SolSignerSeed *seeds, uint64_t n, const SolPubkey *program_id,
                                      SolPubkey *out, uint8_t *bump);

uint64_t sol_get_clock_sysvar(SolClock *out);
uint64_t sol_get_rent_sysvar(SolRent *out);
uint64_t sol_get_epoch_schedule_sysvar(SolEpochSchedule *out);

void sol_set_return_data(const uint8_t *data, uint64_t len);
uint64_t sol_get_return_data(uint8_t *data, uint64_t len, SolPubkey *program_id);
uint64_t sol_get_stack_height(void);
uint64_t sol_remaining_compute_units(void);
void *sol_alloc_free_(uint64_t size, void *free_ptr);

uint64_t sol_invoke_signed_c(const SolInstruction *instruction, const SolAccountInfo *account_infos,
                             int account_infos_len, const SolSignerSeeds *signers_seeds,
                             int signers_seeds_len);

/* ---- SBPFuncs: the ML module (active only when governance enabled it) ------------------------ */
struct ml_dims { uint32_t m; uint32_t k; uint32_t n; uint32_t scale; };
uint64_t sol_ml_matmul(int32_t *out, const int32_t *a, const int32_t *b, const struct ml_dims *d);
uint64_t sol_ml_activation(int32_t *data, uint64_t len, uint64_t kind, uint64_t scale);
#define ML_RELU 0
#define ML_SIGMOID 1
#define ML_TANH 2
#define ML_SOFTMAX 3
#define ML_EINVAL ((uint64_t)-22)
/* Further ML functions (sbpfunc/modules/ml.py). Fused activation codes: 0 none, 1 + ML_* kind. */
#define ML_FUSE_NONE 0
#define ML_FUSE(kind) ((kind) + 1)
struct ml_dense { uint32_t m; uint32_t k; uint32_t n; uint32_t scale; uint32_t act; };
uint64_t sol_ml_matmul_bias(int32_t *out, const int32_t *a, const int32_t *b, const int32_t *bias,
                            const struct ml_dense *d); /* bias may be NULL */
uint64_t sol_ml_sigmoid_lut(int32_t *out, const int32_t *in, uint64_t len, uint64_t scale);
uint64_t sol_ml_quantize_int8(int8_t *out, const int32_t *in, uint64_t len, uint64_t step, int64_t zero_point);
uint64_t sol_ml_dequantize_int8(int32_t *out, const int8_t *in, uint64_t len, uint64_t step, int64_t zero_point);
uint64_t sol_ml_argmax(const int32_t *data, uint64_t len, int64_t out[2]); /* out: index, value */
struct ml_forward { uint64_t model_len; uint32_t in_len; uint32_t out_len; };
uint64_t sol_ml_forward(int32_t *out, const int32_t *in, const uint8_t *model, const struct ml_forward *p);
struct ml_model_info {
  uint32_t version; uint32_t layers; uint32_t in_len; uint32_t out_len;
  uint32_t size; uint32_t macs; uint32_t max_width; uint32_t out_scale;
};
uint64_t sol_ml_model_info(const uint8_t *model, uint64_t model_len, struct ml_model_info *info);
/* Model format v1 (little-endian): header, then per layer a header, in*out weights ([in][out],
 * i32 or i8 meaning q * wstep), zero padding to 4 bytes, out i32 biases. */
#define ML_MODEL_MAGIC 0x4c4d4253u /* "SBML" */
#define ML_WTYPE_I32 0
#define ML_WTYPE_I8 1
struct ml_model_header { uint32_t magic; uint16_t version; uint16_t layers; uint32_t in_len; uint32_t out_len; };
struct ml_layer_header {
  uint32_t in_len; uint32_t out_len; uint32_t scale; uint8_t act; uint8_t wtype; uint16_t reserved; uint32_t wstep;
};

/* ---- SBPFuncs: the ml_advanced module (sbpfunc/modules/ml_advanced.py) ------------------------- */
/* LSTM cell, gates i, f, g, o: w = [(x_len + h_len) rows][4 * h_len] then 4 * h_len biases;
 * h and c are updated in place. */
struct ml_lstm { uint32_t x_len; uint32_t h_len; uint32_t scale; uint32_t reserved; };
uint64_t sol_ml_lstm_cell(int32_t *h, int32_t *c, const int32_t *x, const int32_t *w, const struct ml_lstm *p);
/* Q-learning: *q_sa += alpha * (reward + gamma * max(q_next[0..n_actions]) - *q_sa) in fixed point
 * (alpha, gamma with the same scale); terminal = 1 drops the max term. q_sa = &Q[s][a],
 * q_next = Q[s'] (any table layout; the row may contain q_sa). */
struct ml_q_update { uint32_t n_actions; int32_t reward; uint32_t alpha; uint32_t gamma; uint32_t scale; uint32_t terminal; };
uint64_t sol_ml_q_update(int32_t *q_sa, const int32_t *q_next, const struct ml_q_update *p);

/* ---- helpers -------------------------------------------------------------------------------- */
static inline uint64_t sol_strlen(const char *s) {
  uint64_t n = 0;
  while (s[n]) n++;
  return n;
}
#define sol_log(s) sol_log_((s), sol_strlen(s))
/* __FILE_NAME__ (not __FILE__) keeps the build path out of the binary: builds are reproducible. */
#define sol_panic() sol_panic_(__FILE_NAME__, sizeof(__FILE_NAME__) - 1, __LINE__, 0)
#define sol_assert(expr) do { if (!(expr)) sol_panic(); } while (0)

/* Little-endian reads from unaligned bytes (instruction data has no alignment guarantee). */
static inline uint64_t sol_read_u64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}
static inline uint32_t sol_read_u32(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static inline void sol_memcpy(void *dst, const void *src, uint64_t n) { sol_memcpy_(dst, src, n); }
static inline void sol_memset(void *dst, uint8_t c, uint64_t n) { sol_memset_(dst, c, n); }
static inline int32_t sol_memcmp(const void *a, const void *b, uint64_t n) {
  int32_t r = 0;
  sol_memcmp_(a, b, n, &r);
  return r;
}
static inline bool SolPubkey_same(const SolPubkey *a, const SolPubkey *b) {
  for (int i = 0; i < 32; i++)
    if (a->x[i] != b->x[i]) return false;
  return true;
}

/*
 * Parse the runtime's aligned input layout:
 *   u64 n; per account: u8 dup (0xff = new) | 7 pad, or u8 signer, writable, executable, 4 pad,
 *   key[32], owner[32], u64 lamports, u64 len, data[len], 10 KiB realloc room, pad to 8,
 *   u64 rent_epoch; then u64 ix_len, ix data, program id.
 * Fills at most `ka_num` entries of params->ka; params->ka_num gets the real count.
 */
static inline bool sol_deserialize(const uint8_t *input, SolParameters *params, uint64_t ka_num) {
  if (input == NULL) return false;
  params->ka_num = *(const uint64_t *)input;
  input += sizeof(uint64_t);
  for (uint64_t i = 0; i < params->ka_num; i++) {
    uint8_t dup = input[0];
    input += 1;
    if (dup == 0xff) {
      SolAccountInfo tmp;
      SolAccountInfo *a = i < ka_num ? &params->ka[i] : &tmp;
      a->is_signer = input[0] != 0;
      a->is_writable = input[1] != 0;
      a->executable = input[2] != 0;
      input += 3 + 4;
      a->key = (SolPubkey *)input;
      input += 32;
      a->owner = (SolPubkey *)input;
      input += 32;
      a->lamports = (uint64_t *)input;
      input += 8;
      a->data_len = *(const uint64_t *)input;
      input += 8;
      a->data = (uint8_t *)input;
      input += a->data_len + MAX_PERMITTED_DATA_INCREASE;
      input = (const uint8_t *)(((uint64_t)input + 7) & ~7UL);
      a->rent_epoch = *(const uint64_t *)input;
      input += 8;
    } else {
      if (i < ka_num) params->ka[i] = params->ka[dup];
      input += 7;
    }
  }
  params->data_len = *(const uint64_t *)input;
  input += sizeof(uint64_t);
  params->data = input;
  input += params->data_len;
  params->program_id = (const SolPubkey *)input;
  return true;
}

/* 32-bit ALU with SBPF v0 semantics (add32/sub32/mul32 sign-extend), through inline asm because
 * clang's alu32 code generation assumes zero-extension. */
#define SBPF_ALU32(name, insn)                                              \
  static inline uint64_t name(uint64_t a, uint64_t b) {                      \
    register uint64_t r1 __asm__("r1") = a;                                  \
    register uint64_t r2 __asm__("r2") = b;                                  \
    __asm__ volatile(insn : "+r"(r1) : "r"(r2));                             \
    return r1;                                                               \
  }
SBPF_ALU32(sbpf_add32, "w1 += w2")
SBPF_ALU32(sbpf_sub32, "w1 -= w2")
SBPF_ALU32(sbpf_mul32, "w1 *= w2")
SBPF_ALU32(sbpf_div32, "w1 /= w2")
/* `w1 %= w2` is not accepted by clang 14's BPF asm parser: mod32 r1, r2 = 0x9c | dst 1 | src 2 */
SBPF_ALU32(sbpf_mod32, ".quad 0x219c")

#endif /* SBPFUNC_H */
