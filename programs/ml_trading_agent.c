/* PURPOSE: trading agent: runs the MLP stored in account 0 (SBML v1 model, e.g. 12->8 relu->3 softmax) on the i32 Q-format features in the instruction data through the ML module's SBPFuncs (model_info, dequantize_int8, matmul_bias, argmax). EXPECT: logs "AI prediction: action=<a>, confidence=<c>" (c = the winning output in basis points of the output scale); fails to load where the ml module is not active; InvalidAccountData for a bad model, InvalidInstructionData for a wrong feature count. */
#include <sbpfunc.h>

#define MAX_WIDTH 256
#define X_BUF ((int32_t *)(MM_HEAP_START))
#define Y_BUF ((int32_t *)(MM_HEAP_START + 4 * MAX_WIDTH))
#define W_BUF ((int32_t *)(MM_HEAP_START + 8 * MAX_WIDTH))
#define W_CAP ((HEAP_LENGTH - 8 * MAX_WIDTH) / 4)

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

  struct ml_model_info info;
  if (sol_ml_model_info(model, model_len, &info) != 0) return ERROR_INVALID_ACCOUNT_DATA;
  if (info.max_width > MAX_WIDTH) return ERROR_INVALID_ACCOUNT_DATA;
  if (params.data_len != 4 * (uint64_t)info.in_len) return ERROR_INVALID_INSTRUCTION_DATA;

  int32_t *x = X_BUF, *y = Y_BUF;
  for (uint32_t i = 0; i < info.in_len; i++) x[i] = (int32_t)sol_read_u32(params.data + 4 * i);

  uint64_t off = sizeof(struct ml_model_header);
  for (uint32_t l = 0; l < info.layers; l++) {
    const struct ml_layer_header *h = (const struct ml_layer_header *)(model + off);
    uint64_t count = (uint64_t)h->in_len * h->out_len;
    const int32_t *w;
    off += sizeof(struct ml_layer_header);
    if (h->wtype == ML_WTYPE_I8) {
      if (count > W_CAP) return ERROR_INVALID_ACCOUNT_DATA;
      if (sol_ml_dequantize_int8(W_BUF, (const int8_t *)(model + off), count, h->wstep, 0) != 0)
        return ERROR_INVALID_ACCOUNT_DATA;
      w = W_BUF;
      off += (count + 3) & ~3UL;
    } else {
      w = (const int32_t *)(model + off);
      off += 4 * count;
    }
    const int32_t *bias = (const int32_t *)(model + off);
    off += 4 * (uint64_t)h->out_len;
    struct ml_dense d = {.m = 1, .k = h->in_len, .n = h->out_len, .scale = h->scale, .act = h->act};
    if (sol_ml_matmul_bias(y, x, w, bias, &d) != 0) return ERROR_INVALID_ACCOUNT_DATA;
    int32_t *t = x;
    x = y;
    y = t;
  }

  int64_t best[2];
  if (sol_ml_argmax(x, info.out_len, best) != 0) return ERROR_INVALID_ACCOUNT_DATA;
  uint64_t confidence = best[1] > 0 ? (uint64_t)best[1] * 10000 / info.out_scale : 0;

  char line[64];
  uint64_t n = put_str(line, "AI prediction: action=");
  n += put_u64(line + n, (uint64_t)best[0]);
  n += put_str(line + n, ", confidence=");
  n += put_u64(line + n, confidence);
  sol_log_(line, n);
  return SUCCESS;
}
