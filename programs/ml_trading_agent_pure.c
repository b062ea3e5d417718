/* PURPOSE: the trading agent in plain C with no SBPFuncs: parses the SBML v1 model in account 0 and computes every layer with the ML module's exact arithmetic (128-bit accumulation, division truncating toward zero, i32 saturation, the module's integer exp() for sigmoid/tanh/softmax with precision up to 31 bits), then argmax. EXPECT: the same "AI prediction: action=<a>, confidence=<c>" line as ml_trading_agent for every input; runs anywhere (LiteSVM too); InvalidAccountData for a bad model or one needing more than 31 bits of activation precision, InvalidInstructionData for a wrong feature count. */
#include <sbpfunc.h>

#define MAX_WIDTH 256
#define X_BUF ((int32_t *)(MM_HEAP_START))
#define Y_BUF ((int32_t *)(MM_HEAP_START + 4 * MAX_WIDTH))
#define E_BUF ((uint64_t *)(MM_HEAP_START + 8 * MAX_WIDTH))
#define I32_MIN (-2147483647L - 1)
#define I32_MAX 2147483647L
#define LN2_64 0xB17217F7D1CF79ABUL /* floor(ln 2 * 2^64) */
#define MAX_P 31

/* ---- exact arithmetic ------------------------------------------------------------------------ */
typedef struct {
  uint64_t lo;
  int64_t hi;
} acc128;

static inline void acc_add(acc128 *a, int64_t v) {
  uint64_t lo = a->lo + (uint64_t)v;
  a->hi += (v < 0 ? -1 : 0) + (lo < a->lo ? 1 : 0);
  a->lo = lo;
}

static inline int64_t sat32(int64_t v) { return v < I32_MIN ? I32_MIN : v > I32_MAX ? I32_MAX : v; }

/* sat(tdiv(a, scale) + bias): the 128-bit magnitude is divided in 32-bit limbs. */
static int32_t div_bias_sat(const acc128 *a, uint32_t scale, int64_t bias) {
  bool neg = a->hi < 0;
  uint64_t lo = a->lo, hi = (uint64_t)a->hi;
  if (neg) {
    lo = ~lo + 1;
    hi = ~hi + (lo == 0 ? 1 : 0);
  }
  uint32_t limbs[4] = {(uint32_t)(hi >> 32), (uint32_t)hi, (uint32_t)(lo >> 32), (uint32_t)lo};
  uint64_t rem = 0, qhi = 0, qlo = 0;
  for (int i = 0; i < 4; i++) {
    uint64_t cur = (rem << 32) | limbs[i];
    uint64_t q = cur / scale;
    rem = cur % scale;
    qhi = (qhi << 32) | (qlo >> 32);
    qlo = (qlo << 32) | q;
  }
  if (qhi != 0 || qlo >= (1UL << 33)) return neg ? (int32_t)I32_MIN : (int32_t)I32_MAX;
  int64_t v = neg ? -(int64_t)qlo : (int64_t)qlo;
  return (int32_t)sat32(v + bias);
}

static uint32_t bit_length(uint64_t v) {
  uint32_t n = 0;
  while (v) {
    n++;
    v >>= 1;
  }
  return n;
}

/* e^(-num/den) * 2^p, exactly as the module's _exp_neg (p <= 31). */
static uint64_t exp_neg(uint64_t num, uint64_t den, uint32_t p) {
  if (num / den > p) return 0;
  uint64_t u = (num << p) / den;
  uint64_t ln2 = LN2_64 >> (64 - p);
  uint64_t k = u / ln2;
  if (k > p) return 0;
  uint64_t r = u - k * ln2;
  uint64_t term = 1UL << p, acc = term;
  for (uint64_t i = 1; term; i++) {
    term = ((term * r) >> p) / i;
    if (i & 1)
      acc -= term;
    else
      acc += term;
  }
  return acc >> k;
}

/* round(a / b), a >= 0, b > 0 */
static inline uint64_t rdiv(uint64_t a, uint64_t b) { return (2 * a + b) / (2 * b); }

static inline uint64_t mag(int32_t x) { return x < 0 ? (uint64_t)(-(int64_t)x) : (uint64_t)x; }

/* act: 1 relu, 2 sigmoid, 3 tanh, 4 softmax. Returns false when p would exceed MAX_P. */
static bool activate(int32_t *v, uint32_t n, uint32_t act, uint64_t scale) {
  if (act == 1) {
    for (uint32_t i = 0; i < n; i++)
      if (v[i] < 0) v[i] = 0;
    return true;
  }
  uint32_t p = bit_length(scale) + 16 + (act == 4 ? bit_length(n) : 0);
  if (p > MAX_P) return false;
  uint64_t one = 1UL << p;
  if (act == 2 || act == 3) {
    for (uint32_t i = 0; i < n; i++) {
      uint64_t u = mag(v[i]);
      if (act == 2) {
        uint64_t e = exp_neg(u, scale, p);
        v[i] = (int32_t)sat32((int64_t)rdiv(scale * (v[i] >= 0 ? one : e), one + e));
      } else {
        uint64_t e2 = exp_neg(2 * u, scale, p);
        int64_t t = (int64_t)rdiv(scale * (one - e2), one + e2);
        v[i] = (int32_t)sat32(v[i] < 0 ? -t : t);
      }
    }
    return true;
  }
  if (act == 4) {
    int64_t top = v[0];
    for (uint32_t i = 1; i < n; i++)
      if (v[i] > top) top = v[i];
    uint64_t *e = E_BUF, total = 0;
    for (uint32_t i = 0; i < n; i++) {
      e[i] = exp_neg((uint64_t)(top - v[i]), scale, p);
      total += e[i];
    }
    for (uint32_t i = 0; i < n; i++) v[i] = (int32_t)sat32((int64_t)rdiv(scale * e[i], total));
  }
  return true;
}

/* ---- output ---------------------------------------------------------------------------------- */
static uint64_t put_u64(char *dst, uint64_t v) {
  char tmp[20];
  uint64_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  for (uint64_t i = 0; i < n; i++) dst[i] = tmp[n - 1 - i];
  return n;
}

static uint64_t put_str(char *dst, const char *s) {
  uint64_t n = 0;
  while (s[n]) {
    dst[n] = s[n];
    n++;
  }
  return n;
}

uint64_t entrypoint(const uint8_t *input) {
  SolAccountInfo accounts[1];
  SolParameters params = {.ka = accounts};
  if (!sol_deserialize(input, &params, 1)) return ERROR_INVALID_ARGUMENT;
  if (params.ka_num < 1) return ERROR_NOT_ENOUGH_ACCOUNT_KEYS;
  const uint8_t *model = accounts[0].data;
  uint64_t model_len = accounts[0].data_len;

  if (model_len < sizeof(struct ml_model_header)) return ERROR_INVALID_ACCOUNT_DATA;
  const struct ml_model_header *mh = (const struct ml_model_header *)model;
  if (mh->magic != ML_MODEL_MAGIC || mh->version != 1 || mh->layers < 1 || mh->layers > 64)
    return ERROR_INVALID_ACCOUNT_DATA;
  if (mh->in_len == 0 || mh->in_len > MAX_WIDTH) return ERROR_INVALID_ACCOUNT_DATA;
  if (params.data_len != 4 * (uint64_t)mh->in_len) return ERROR_INVALID_INSTRUCTION_DATA;

  int32_t *x = X_BUF, *y = Y_BUF;
  for (uint32_t i = 0; i < mh->in_len; i++) x[i] = (int32_t)sol_read_u32(params.data + 4 * i);

  uint64_t off = sizeof(struct ml_model_header);
  uint32_t width = mh->in_len, scale = 1;
  for (uint32_t l = 0; l < mh->layers; l++) {
    if (off + sizeof(struct ml_layer_header) > model_len) return ERROR_INVALID_ACCOUNT_DATA;
    const struct ml_layer_header *h = (const struct ml_layer_header *)(model + off);
    off += sizeof(struct ml_layer_header);
    uint32_t k = h->in_len, n = h->out_len;
    if (k != width || n == 0 || n > MAX_WIDTH || h->scale == 0 || h->act > 4 || h->reserved != 0)
      return ERROR_INVALID_ACCOUNT_DATA;
    uint64_t count = (uint64_t)k * n, wbytes;
    bool i8 = h->wtype == ML_WTYPE_I8;
    if (i8) {
      if (h->wstep == 0 || h->wstep > (1u << 24)) return ERROR_INVALID_ACCOUNT_DATA;
      wbytes = (count + 3) & ~3UL;
    } else {
      if (h->wtype != ML_WTYPE_I32 || h->wstep != 0) return ERROR_INVALID_ACCOUNT_DATA;
      wbytes = 4 * count;
    }
    if (off + wbytes + 4 * (uint64_t)n > model_len) return ERROR_INVALID_ACCOUNT_DATA;
    const uint8_t *w = model + off;
    const int32_t *bias = (const int32_t *)(model + off + wbytes);
    off += wbytes + 4 * (uint64_t)n;

    for (uint32_t j = 0; j < n; j++) {
      acc128 a = {0, 0};
      for (uint32_t i = 0; i < k; i++) {
        int64_t wij = i8 ? (int64_t)((const int8_t *)w)[(uint64_t)i * n + j] * (int64_t)h->wstep
                         : (int64_t)((const int32_t *)w)[(uint64_t)i * n + j];
        acc_add(&a, (int64_t)x[i] * wij);
      }
      y[j] = div_bias_sat(&a, h->scale, bias[j]);
    }
    if (h->act != 0 && !activate(y, n, h->act, h->scale)) return ERROR_INVALID_ACCOUNT_DATA;
    int32_t *t = x;
    x = y;
    y = t;
    width = n;
    scale = h->scale;
  }
  if (width != mh->out_len) return ERROR_INVALID_ACCOUNT_DATA;

  uint32_t best = 0;
  for (uint32_t i = 1; i < width; i++)
    if (x[i] > x[best]) best = i;
  uint64_t confidence = x[best] > 0 ? (uint64_t)x[best] * 10000 / scale : 0;

  char line[64];
  uint64_t len = put_str(line, "AI prediction: action=");
  len += put_u64(line + len, best);
  len += put_str(line + len, ", confidence=");
  len += put_u64(line + len, confidence);
  sol_log_(line, len);
  return SUCCESS;
}
