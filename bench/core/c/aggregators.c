// The measuring stick of `npm run bench:core`: the algorithms of assembly/ written again in
// plain C — same coordinate blocks, same eight float32 lanes per 256-coordinate chunk, same
// merge-exchange sorting network, same float64 accumulation and summation order — so that it
// computes the same bits as the WASM build (the benchmark checks that it does before timing,
// and test/core/bench-c.test.ts checks it against the plain reference). Compiled by the
// benchmark with gcc -O3 -march=native -ffp-contract=off: no FMA contraction and no
// reassociation, but free to use the widest vectors of the machine. Not shipped.
//
// usage: bench-core-c <input.bin>, then commands on stdin, one per line, each answered by one
// JSON line on stdout (so that the benchmark can interleave C runs with its WASM and JS runs):
//   check <output.bin> <spec>   one run; writes its d float32 result to output.bin and answers
//                               {"iterations":N,"selected":K} (-1 where the rule has none)
//   time <reps> <spec>          reps runs; answers {"ms":[t1,...]}
//   input.bin: int32 n, int32 d, int32 flags, then n·d float32 (row-major updates), then
//              n float64 weights if flags & 1, then d float32 centre (v₀ of centered clipping)
//              if flags & 2.
//   spec: [@][pre/]rule — '@': use the weights; pre: bucketing:s:seed | nnm:f;
//         rule: mean | median | trimmed-mean:b | krum:f | multi-krum:f:m | bulyan:f |
//               geometric-median:nu:maxIter:tol | centered-clipping:tau:iterations | norm-clipping:maxNorm
// A bad command or spec answers {"error":"..."} and the process goes on; a bad input file ends it
// with exit code 2.
// clock_gettime with -std=c11
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define CHUNK 256
#define ACC_BLOCK 1024
#define LANES 16

static int imin(int a, int b) { return a < b ? a : b; }
static int imax(int a, int b) { return a > b ? a : b; }

// ---- kernels (assembly/lanes.ts) ---------------------------------------------------------------
// A float32 chunk partial that overflowed to +Inf is summed again in float64 (see sqDistance).
static double sq_distance_wide(const float *a, const float *b, int len) {
  double total = 0;
  for (int j = 0; j < len; j++) {
    const double t = (double)a[j] - (double)b[j];
    total += t * t;
  }
  return total;
}

static double sq_distance(const float *a, const float *b, int d) {
  double total = 0;
  int j = 0;
  const int d8 = d & ~7;
  while (j < d8) {
    const int end = imin(j + CHUNK, d8);
    const int start = j;
    float acc[8] = {0};
    for (; j < end; j += 8)
      for (int l = 0; l < 8; l++) {
        const float t = a[j + l] - b[j + l];
        acc[l] += t * t;
      }
    const float p = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    total += p < INFINITY ? (double)p : sq_distance_wide(a + start, b + start, end - start);
  }
  for (; j < d; j++) {
    const float t = a[j] - b[j];
    const float q = t * t;
    total += q < INFINITY ? (double)q : sq_distance_wide(a + j, b + j, 1);
  }
  return total;
}

static double sq_norm_wide(const float *a, int len) {
  double total = 0;
  for (int j = 0; j < len; j++) total += (double)a[j] * (double)a[j];
  return total;
}

static double sq_norm(const float *a, int d) {
  double total = 0;
  int j = 0;
  const int d8 = d & ~7;
  while (j < d8) {
    const int end = imin(j + CHUNK, d8);
    const int start = j;
    float acc[8] = {0};
    for (; j < end; j += 8)
      for (int l = 0; l < 8; l++) acc[l] += a[j + l] * a[j + l];
    const float p = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    total += p < INFINITY ? (double)p : sq_norm_wide(a + start, end - start);
  }
  for (; j < d; j++) {
    const float q = a[j] * a[j];
    total += q < INFINITY ? (double)q : sq_norm_wide(a + j, 1);
  }
  return total;
}

static int first_non_finite(const float *a, int len) {
  int j = 0;
  const int len4 = len & ~3;
  while (j < len4) {
    const int end = imin(j + CHUNK, len4);
    const int start = j;
    float acc[4] = {0};
    for (; j < end; j += 4)
      for (int l = 0; l < 4; l++) acc[l] += a[j + l] - a[j + l];
    if (acc[0] != 0 || acc[1] != 0 || acc[2] != 0 || acc[3] != 0)
      for (int k = start; k < end; k++)
        if (a[k] - a[k] != 0) return k;
  }
  for (; j < len; j++)
    if (a[j] - a[j] != 0) return j;
  return -1;
}

static void accumulate(double *restrict acc, const float *restrict x, double w, int len) {
  if (w == 1.0)
    for (int j = 0; j < len; j++) acc[j] += (double)x[j];
  else
    for (int j = 0; j < len; j++) acc[j] += (double)x[j] * w;
}

static void accumulate_difference(double *restrict acc, const float *restrict x, const float *restrict v, double w, int len) {
  for (int j = 0; j < len; j++) acc[j] += ((double)x[j] - (double)v[j]) * w;
}

// Two rows per pass over the accumulator, as assembly/lanes.ts does (same order of additions).
static void accumulate2(double *restrict acc, const float *restrict x1, double w1, const float *restrict x2, double w2, int len) {
  for (int j = 0; j < len; j++) acc[j] = (acc[j] + (double)x1[j] * w1) + (double)x2[j] * w2;
}

static void accumulate_difference2(double *restrict acc, const float *restrict x1, double w1, const float *restrict x2, double w2,
                                   const float *restrict v, int len) {
  for (int j = 0; j < len; j++) {
    const double vj = (double)v[j];
    acc[j] = (acc[j] + ((double)x1[j] - vj) * w1) + ((double)x2[j] - vj) * w2;
  }
}

static void store_quotient(float *out, const double *acc, double divisor, int len) {
  for (int j = 0; j < len; j++) out[j] = (float)(acc[j] / divisor);
}

// ---- workspace -----------------------------------------------------------------------------------
typedef struct {
  int n, d;
  float *xs, *pre, *out, *start, *S, *center;
  double *w, *acc, *acc16, *D, *w2, *scores, *totals, *row, *tmp, *coef, *alpha, *beta;
  int *idx, *idx2, *perm, *sel, *order, *itmp, *alive, *pairs, *neighbours;
} Work;

#define ROW(xs, d, slot) ((xs) + (size_t)(slot) * (size_t)(d))

// ---- mean (assembly/mean.ts) ------------------------------------------------------------------
static double sum_coefficients(const int *idx, int m, const double *coef) {
  if (!coef) return m;
  double s = 0;
  for (int k = 0; k < m; k++) s += coef[idx[k]];
  return s;
}

static void combine_rows(const float *xs, int d, const int *idx, int m, const double *coef, double divisor, float *out, double *acc) {
  for (int c = 0; c < d; c += ACC_BLOCK) {
    const int len = imin(ACC_BLOCK, d - c);
    memset(acc, 0, sizeof(double) * len);
    int k = 0;
    for (; k + 1 < m; k += 2) {
      const int s1 = idx[k], s2 = idx[k + 1];
      accumulate2(acc, ROW(xs, d, s1) + c, coef ? coef[s1] : 1.0, ROW(xs, d, s2) + c, coef ? coef[s2] : 1.0, len);
    }
    if (k < m) accumulate(acc, ROW(xs, d, idx[k]) + c, coef ? coef[idx[k]] : 1.0, len);
    store_quotient(out + c, acc, divisor, len);
  }
}

static void weighted_mean(const float *xs, int d, const int *idx, int m, const double *w, float *out, double *acc) {
  combine_rows(xs, d, idx, m, w, sum_coefficients(idx, m, w), out, acc);
}

// ---- sorting (assembly/sort.ts) ----------------------------------------------------------------
static int build_network(int m, int *pairs) {
  if (m < 2) return 0;
  const int t = 32 - __builtin_clz((unsigned)(m - 1));
  int count = 0;
  for (int p = 1 << (t - 1); p > 0; p >>= 1) {
    int q = 1 << (t - 1), r = 0, dd = p;
    for (;;) {
      for (int i = 0; i < m - dd; i++)
        if ((i & p) == r) {
          pairs[2 * count] = i;
          pairs[2 * count + 1] = i + dd;
          count++;
        }
      if (q == p) break;
      dd = q - p;
      q >>= 1;
      r = p;
    }
  }
  return count;
}

// One comparator on LANES columns: pseudo-min/max as in the WASM build (lo = b < a ? b : a,
// hi = a < b ? b : a; exactly what x86 minps/maxps compute). gcc does not vectorise the plain
// loop (without -ffinite-math-only the ternary is no MIN_EXPR), so it is written with gcc's
// generic vectors, as wide as the target's (8 floats with AVX, else 4): a compare and a select
// per output, on any target.
#if defined(__AVX__)
#define VW 8
#else
#define VW 4
#endif
typedef float vf __attribute__((vector_size(VW * 4)));
typedef int32_t vi __attribute__((vector_size(VW * 4)));
static inline void compare_exchange(float *pa, float *pb) {
  for (int h = 0; h < LANES; h += VW) {
    vf a, b;
    memcpy(&a, pa + h, sizeof a);
    memcpy(&b, pb + h, sizeof b);
    const vi ai = (vi)a, bi = (vi)b;
    const vi lt = b < a, gt = a < b;
    const vf lo = (vf)((lt & bi) | (~lt & ai));
    const vf hi = (vf)((gt & bi) | (~gt & ai));
    memcpy(pa + h, &lo, sizeof lo);
    memcpy(pb + h, &hi, sizeof hi);
  }
}

static void sort_columns(float *S, const int *pairs, int count) {
  for (int c = 0; c < count; c++) compare_exchange(S + pairs[2 * c] * LANES, S + pairs[2 * c + 1] * LANES);
}

static void sort_f64(double *p, int n, double *tmp) {
  double *src = p, *dst = tmp;
  for (int width = 1; width < n; width <<= 1) {
    for (int lo = 0; lo < n; lo += width << 1) {
      const int mid = imin(lo + width, n), hi = imin(lo + (width << 1), n);
      int i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = src[i] <= src[j] ? src[i++] : src[j++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    double *t = src;
    src = dst;
    dst = t;
  }
  if (src != p) memcpy(p, src, sizeof(double) * n);
}

static void sort_by_key(int *ids, int n, const double *key, int *tmp) {
  int *src = ids, *dst = tmp;
  for (int width = 1; width < n; width <<= 1) {
    for (int lo = 0; lo < n; lo += width << 1) {
      const int mid = imin(lo + width, n), hi = imin(lo + (width << 1), n);
      int i = lo, j = mid, k = lo;
      while (i < mid && j < hi) dst[k++] = key[src[i]] <= key[src[j]] ? src[i++] : src[j++];
      while (i < mid) dst[k++] = src[i++];
      while (j < hi) dst[k++] = src[j++];
    }
    int *t = src;
    src = dst;
    dst = t;
  }
  if (src != ids) memcpy(ids, src, sizeof(int) * n);
}

static void sort_i32(int *p, int n) {
  for (int i = 1; i < n; i++) {
    const int v = p[i];
    int j = i - 1;
    while (j >= 0 && p[j] > v) {
      p[j + 1] = p[j];
      j--;
    }
    p[j + 1] = v;
  }
}

// ---- coordinate-wise (assembly/coordinate-wise.ts) ----------------------------------------------
static void gather_columns(const float *xs, int d, const int *idx, int m, int c, int len, float *S) {
  for (int k = 0; k < m; k++) {
    float *dst = S + k * LANES;
    if (len < LANES) memset(dst, 0, sizeof(float) * LANES);
    memcpy(dst, ROW(xs, d, idx[k]) + c, sizeof(float) * len);
  }
}

static void coordinate_median(const float *xs, int d, const int *idx, int m, float *out, float *S, int *pairs) {
  const int count = build_network(m, pairs), h = m >> 1;
  for (int c = 0; c < d; c += LANES) {
    const int len = imin(LANES, d - c);
    gather_columns(xs, d, idx, m, c, len, S);
    sort_columns(S, pairs, count);
    const float *hi = S + h * LANES;
    if (m & 1)
      memcpy(out + c, hi, sizeof(float) * len);
    else {
      const float *lo = S + (h - 1) * LANES;
      for (int l = 0; l < len; l++) out[c + l] = (float)(((double)lo[l] + (double)hi[l]) * 0.5);
    }
  }
}

static void trimmed_mean(const float *xs, int d, const int *idx, int m, int b, float *out, float *S, int *pairs, double *acc16) {
  const int count = build_network(m, pairs);
  const double kept = m - 2 * b;
  for (int c = 0; c < d; c += LANES) {
    const int len = imin(LANES, d - c);
    gather_columns(xs, d, idx, m, c, len, S);
    sort_columns(S, pairs, count);
    memset(acc16, 0, sizeof(double) * LANES);
    for (int k = b; k < m - b; k++) accumulate(acc16, S + k * LANES, 1.0, LANES);
    store_quotient(out + c, acc16, kept, len);
  }
}

// ---- distances and the Krum family (assembly/distances.ts, krum.ts, bulyan.ts) ------------------
static int distance_block(int m) {
  const int b = (65536 / imax(m, 1)) & ~(CHUNK - 1);
  return imax(CHUNK, imin(b, 16384));
}

static void pairwise_sq_distances(const float *xs, int d, const int *idx, int m, double *D) {
  memset(D, 0, sizeof(double) * m * m);
  const int block = distance_block(m);
  for (int c = 0; c < d; c += block) {
    const int len = imin(block, d - c);
    for (int a = 0; a < m; a++) {
      const float *pa = ROW(xs, d, idx[a]) + c;
      for (int b = a + 1; b < m; b++) D[a * m + b] += sq_distance(pa, ROW(xs, d, idx[b]) + c, len);
    }
  }
  for (int a = 0; a < m; a++)
    for (int b = a + 1; b < m; b++) D[b * m + a] = D[a * m + b];
}

static void krum_scores(const double *D, int m, int k, double *scores, double *totals, double *row, double *tmp) {
  for (int a = 0; a < m; a++) {
    int n = 0;
    double total = 0;
    for (int b = 0; b < m; b++) {
      if (b == a) continue;
      row[n++] = D[a * m + b];
      total += D[a * m + b];
    }
    sort_f64(row, n, tmp);
    double s = 0;
    for (int t = 0; t < k; t++) s += row[t];
    scores[a] = s;
    totals[a] = total;
  }
}

static int ranks_before(int a, double sa, double ta, int b, double sb, double tb) {
  if (sa != sb) return sa < sb;
  if (ta != tb) return ta < tb;
  return a < b;
}

static int krum(Work *W, const float *xs, const int *idx, int m, int f, float *out) {
  const int d = W->d;
  pairwise_sq_distances(xs, d, idx, m, W->D);
  krum_scores(W->D, m, m - f - 2, W->scores, W->totals, W->row, W->tmp);
  int best = 0;
  for (int a = 1; a < m; a++)
    if (ranks_before(a, W->scores[a], W->totals[a], best, W->scores[best], W->totals[best])) best = a;
  memcpy(out, ROW(xs, d, idx[best]), sizeof(float) * d);
  return best;
}

static void multi_krum(Work *W, const float *xs, const int *idx, int m, int f, int mm, float *out) {
  const int d = W->d;
  pairwise_sq_distances(xs, d, idx, m, W->D);
  krum_scores(W->D, m, m - f - 2, W->scores, W->totals, W->row, W->tmp);
  for (int a = 0; a < m; a++) W->order[a] = a;
  sort_by_key(W->order, m, W->totals, W->itmp);
  sort_by_key(W->order, m, W->scores, W->itmp);
  for (int t = 0; t < mm; t++) W->sel[t] = idx[W->order[t]];
  sort_i32(W->sel, mm);
  weighted_mean(xs, d, W->sel, mm, NULL, out, W->acc);
}

static void bulyan(Work *W, const float *xs, const int *idx, int m, int f, float *out) {
  const int d = W->d;
  double *D = W->D;
  pairwise_sq_distances(xs, d, idx, m, D);
  const int theta = m - 2 * f, beta = theta - 2 * f;
  int *alive = W->alive;
  for (int a = 0; a < m; a++) alive[a] = a;
  int r = m;
  for (int t = 0; t < theta; t++) {
    const int k = imin(m - f - 2, r - 1);
    int best = 0;
    for (int ai = 0; ai < r; ai++) {
      const int a = alive[ai];
      int n = 0;
      double total = 0;
      for (int bi = 0; bi < r; bi++) {
        if (bi == ai) continue;
        const double v = D[a * m + alive[bi]];
        W->row[n++] = v;
        total += v;
      }
      sort_f64(W->row, n, W->tmp);
      double s = 0;
      for (int q = 0; q < k; q++) s += W->row[q];
      W->scores[ai] = s;
      W->totals[ai] = total;
      if (ai > 0 && ranks_before(a, s, total, alive[best], W->scores[best], W->totals[best])) best = ai;
    }
    W->sel[t] = idx[alive[best]];
    for (int ai = best; ai < r - 1; ai++) alive[ai] = alive[ai + 1];
    r--;
  }
  const int count = build_network(theta, W->pairs), h = theta >> 1;
  float *S = W->S;
  for (int c = 0; c < d; c += LANES) {
    const int len = imin(LANES, d - c);
    gather_columns(xs, d, W->sel, theta, c, len, S);
    sort_columns(S, W->pairs, count);
    for (int l = 0; l < len; l++) {
      const float *col = S + l;
#define AT(q) ((double)col[(q) * LANES])
      const double med = (theta & 1) ? AT(h) : (AT(h - 1) + AT(h)) * 0.5;
      int lo = 0;
      while (lo < theta && AT(lo) < med) lo++;
      int hi = lo;
      while (hi - lo < beta) {
        if (lo == 0) hi++;
        else if (hi == theta) lo--;
        else if (med - AT(lo - 1) <= AT(hi) - med) lo--;
        else hi++;
      }
      double s = 0;
      for (int q = lo; q < hi; q++) s += AT(q);
      out[c + l] = (float)(s / beta);
#undef AT
    }
  }
}

// ---- geometric median and clipping (assembly/geometric-median.ts, clipping.ts) -------------------
static double distance_pass(const float *xs, int d, const int *idx, int m, const float *v, const double *alpha, double nu, double *beta) {
  double obj = 0;
  for (int k = 0; k < m; k++) {
    const int slot = idx[k];
    const double a = alpha[slot];
    const double dist = sqrt(sq_distance(v, ROW(xs, d, slot), d));
    obj += a * dist;
    beta[slot] = a / (nu > dist ? nu : dist);
  }
  return obj;
}

static int geometric_median(Work *W, const float *xs, const int *idx, int m, const double *w, double nu, int max_iter, double tol, float *out) {
  const int d = W->d;
  const double total = sum_coefficients(idx, m, w);
  for (int k = 0; k < m; k++) W->alpha[idx[k]] = (w ? w[idx[k]] : 1.0) / total;
  // start: the mean or the coordinate-wise median, the lower objective (assembly/geometric-median.ts)
  coordinate_median(xs, d, idx, m, W->start, W->S, W->pairs);
  const double median_obj = distance_pass(xs, d, idx, m, W->start, W->alpha, nu, W->beta);
  weighted_mean(xs, d, idx, m, w, out, W->acc);
  double obj = distance_pass(xs, d, idx, m, out, W->alpha, nu, W->beta);
  if (median_obj < obj) {
    memcpy(out, W->start, sizeof(float) * d);
    obj = distance_pass(xs, d, idx, m, out, W->alpha, nu, W->beta);
  }
  int it = 0;
  while (it < max_iter) {
    combine_rows(xs, d, idx, m, W->beta, sum_coefficients(idx, m, W->beta), out, W->acc);
    it++;
    const double prev = obj;
    obj = distance_pass(xs, d, idx, m, out, W->alpha, nu, W->beta);
    if (fabs(prev - obj) < tol * obj) break;
  }
  return it;
}

// out holds v₀ on entry.
static void centered_clipping(Work *W, const float *xs, const int *idx, int m, const double *w, double tau, int iterations, float *out) {
  const int d = W->d;
  const double total = sum_coefficients(idx, m, w);
  for (int it = 0; it < iterations; it++) {
    for (int k = 0; k < m; k++) {
      const int slot = idx[k];
      const double dist = sqrt(sq_distance(ROW(xs, d, slot), out, d));
      const double clip = dist > tau ? tau / dist : 1.0;
      W->coef[slot] = (w ? w[slot] : 1.0) / total * clip;
    }
    for (int c = 0; c < d; c += ACC_BLOCK) {
      const int len = imin(ACC_BLOCK, d - c);
      memset(W->acc, 0, sizeof(double) * len);
      int k = 0;
      for (; k + 1 < m; k += 2) {
        const int s1 = idx[k], s2 = idx[k + 1];
        accumulate_difference2(W->acc, ROW(xs, d, s1) + c, W->coef[s1], ROW(xs, d, s2) + c, W->coef[s2], out + c, len);
      }
      if (k < m) accumulate_difference(W->acc, ROW(xs, d, idx[k]) + c, out + c, W->coef[idx[k]], len);
      for (int j = 0; j < len; j++) out[c + j] = (float)((double)out[c + j] + W->acc[j]);
    }
  }
}

static void norm_clipping(Work *W, const float *xs, const int *idx, int m, const double *w, double max_norm, float *out) {
  const int d = W->d;
  for (int k = 0; k < m; k++) {
    const int slot = idx[k];
    const double norm = sqrt(sq_norm(ROW(xs, d, slot), d));
    const double scale = norm > max_norm ? max_norm / norm : 1.0;
    W->coef[slot] = (w ? w[slot] : 1.0) * scale;
  }
  combine_rows(xs, d, idx, m, W->coef, sum_coefficients(idx, m, w), out, W->acc);
}

// ---- pre-aggregation (assembly/pre-aggregation.ts, prng.ts) --------------------------------------
static uint32_t prng_state;
static double next_unit(void) {
  prng_state += 0x9E3779B9u;
  uint32_t z = prng_state;
  z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
  z = (z ^ (z >> 13)) * 0xC2B2AE35u;
  return (double)(z ^ (z >> 16)) / 4294967296.0;
}

static int bucketize(Work *W, const float *xs, const int *idx, int m, const double *w, int s, uint32_t seed) {
  const int d = W->d;
  for (int k = 0; k < m; k++) W->perm[k] = idx[k];
  prng_state = seed;
  for (int i = m - 1; i > 0; i--) {
    const int j = (int)(next_unit() * (double)(i + 1));
    const int t = W->perm[i];
    W->perm[i] = W->perm[j];
    W->perm[j] = t;
  }
  const int buckets = (m + s - 1) / s;
  for (int b = 0; b < buckets; b++) {
    const int start = b * s, count = imin(s, m - start);
    const int *members = W->perm + start;
    weighted_mean(xs, d, members, count, w, ROW(W->pre, d, b), W->acc);
    W->w2[b] = sum_coefficients(members, count, w);
    W->idx2[b] = b;
  }
  return buckets;
}

static void nearest_neighbour_mixing(Work *W, const float *xs, const int *idx, int m, int f, const double *w) {
  const int d = W->d;
  pairwise_sq_distances(xs, d, idx, m, W->D);
  const int keep = m - f;
  for (int a = 0; a < m; a++) {
    for (int b = 0; b < m; b++) W->order[b] = b;
    sort_by_key(W->order, m, W->D + (size_t)a * m, W->itmp);
    int *nb = W->neighbours + (size_t)a * keep;
    for (int t = 0; t < keep; t++) nb[t] = idx[W->order[t]];
    sort_i32(nb, keep);
    weighted_mean(xs, d, nb, keep, NULL, ROW(W->pre, d, a), W->acc);
    W->w2[a] = w ? w[idx[a]] : 1.0;
    W->idx2[a] = a;
  }
}

// ---- harness ---------------------------------------------------------------------------------------
static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench-core-c: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(2);
}

static void *alloc(size_t bytes) {
  const size_t size = (bytes + 63) / 64 * 64;
  void *p = aligned_alloc(64, size ? size : 64);
  if (!p) die("out of memory", NULL);
  memset(p, 0, size);
  return p;
}

// A parsed spec: which pre-aggregation and rule, with their parameters.
typedef struct {
  int weighted;
  char pre[16];
  double q[2];
  char rule[32];
  double p[3];
} Spec;

static int parse_params(const char *s, char *name, size_t cap, double *v, int max) {
  const char *colon = strchr(s, ':');
  const size_t len = colon ? (size_t)(colon - s) : strlen(s);
  if (len == 0 || len >= cap) return -1;
  memcpy(name, s, len);
  name[len] = 0;
  int k = 0;
  while (colon) {
    if (k == max) return -1;
    char *end;
    v[k++] = strtod(colon + 1, &end);
    if (end == colon + 1 || (*end && *end != ':')) return -1;
    colon = *end ? end : NULL;
  }
  return k;
}

// Fills sp; returns NULL, or what is wrong with the spec.
static const char *parse_spec(const char *text, Spec *sp) {
  memset(sp, 0, sizeof *sp);
  const char *s = text;
  if (*s == '@') {
    sp->weighted = 1;
    s++;
  }
  const char *slash = strchr(s, '/');
  char buf[128];
  if (slash) {
    const size_t len = (size_t)(slash - s);
    if (len >= sizeof buf) return "pre-aggregation too long";
    memcpy(buf, s, len);
    buf[len] = 0;
    if (parse_params(buf, sp->pre, sizeof sp->pre, sp->q, 2) < 0) return "bad pre-aggregation";
    if (strcmp(sp->pre, "bucketing") && strcmp(sp->pre, "nnm")) return "unknown pre-aggregation";
    s = slash + 1;
  }
  if (parse_params(s, sp->rule, sizeof sp->rule, sp->p, 3) < 0) return "bad rule";
  static const char *const rules[] = {"mean", "median", "trimmed-mean", "krum", "multi-krum", "bulyan",
                                      "geometric-median", "centered-clipping", "norm-clipping"};
  for (size_t i = 0; i < sizeof rules / sizeof *rules; i++)
    if (!strcmp(sp->rule, rules[i])) return NULL;
  return "unknown rule";
}

typedef struct {
  int iterations;
  int selected;
} Outcome;

// One aggregation as the agent's Aggregator.run() does it: the finiteness check of every update,
// the optional pre-aggregation, then the rule.
static Outcome run_spec(Work *W, const Spec *sp) {
  const int n = W->n, d = W->d;
  Outcome o = {-1, -1};
  int m = 0;
  for (int i = 0; i < n; i++)
    if (first_non_finite(ROW(W->xs, d, i), d) < 0) W->idx[m++] = i;
  if (m == 0) die("no finite update", NULL);
  const float *xs = W->xs;
  const int *idx = W->idx;
  const double *w = sp->weighted ? W->w : NULL;
  if (!strcmp(sp->pre, "bucketing")) {
    m = bucketize(W, xs, idx, m, w, (int)sp->q[0], (uint32_t)sp->q[1]);
    xs = W->pre;
    idx = W->idx2;
    w = W->w2; // a bucket weighs what its members weigh together
  } else if (!strcmp(sp->pre, "nnm")) {
    nearest_neighbour_mixing(W, xs, idx, m, (int)sp->q[0], w);
    xs = W->pre;
    idx = W->idx2;
    w = w ? W->w2 : NULL;
  }
  const char *r = sp->rule;
  const double *p = sp->p;
  float *out = W->out;
  if (!strcmp(r, "mean")) weighted_mean(xs, d, idx, m, w, out, W->acc);
  else if (!strcmp(r, "median")) coordinate_median(xs, d, idx, m, out, W->S, W->pairs);
  else if (!strcmp(r, "trimmed-mean")) trimmed_mean(xs, d, idx, m, (int)p[0], out, W->S, W->pairs, W->acc16);
  else if (!strcmp(r, "krum")) o.selected = krum(W, xs, idx, m, (int)p[0], out);
  else if (!strcmp(r, "multi-krum")) multi_krum(W, xs, idx, m, (int)p[0], (int)p[1], out);
  else if (!strcmp(r, "bulyan")) bulyan(W, xs, idx, m, (int)p[0], out);
  else if (!strcmp(r, "geometric-median")) o.iterations = geometric_median(W, xs, idx, m, w, p[0], (int)p[1], p[2], out);
  else if (!strcmp(r, "centered-clipping")) {
    if (W->center) memcpy(out, W->center, sizeof(float) * d);
    else memset(out, 0, sizeof(float) * d);
    centered_clipping(W, xs, idx, m, w, p[0], (int)p[1], out);
  } else if (!strcmp(r, "norm-clipping")) norm_clipping(W, xs, idx, m, w, p[0], out);
  else die("unknown rule", r);
  return o;
}

static int reply_error(const char *what, const char *detail) {
  printf("{\"error\":\"%s: %s\"}\n", what, detail);
  fflush(stdout);
  return 0;
}

// Handles one command line; returns 0 after answering.
static int command(Work *W, char *line, double *times, int max_reps) {
  char verb[8], arg[512], spec_text[512];
  line[strcspn(line, "\r\n")] = 0;
  if (sscanf(line, "%7s %511s %511s", verb, arg, spec_text) != 3) return reply_error("bad command", line);
  Spec sp;
  const char *why = parse_spec(spec_text, &sp);
  if (why) return reply_error(why, spec_text);
  if (sp.weighted && !W->w) return reply_error("spec wants weights, the input has none", spec_text);
  if (!strcmp(verb, "check")) {
    const Outcome o = run_spec(W, &sp);
    if (o.iterations == -2) return reply_error("unknown rule", spec_text);
    FILE *out = fopen(arg, "wb");
    if (!out) return reply_error("cannot open", arg);
    const size_t wrote = fwrite(W->out, 4, W->d, out);
    if (fclose(out) != 0 || wrote != (size_t)W->d) return reply_error("cannot write", arg);
    printf("{\"iterations\":%d,\"selected\":%d}\n", o.iterations, o.selected);
  } else if (!strcmp(verb, "time")) {
    char *end;
    const long reps = strtol(arg, &end, 10);
    if (*end || reps < 1 || reps > max_reps) return reply_error("reps must be in [1, 100000]", arg);
    for (int r = 0; r < reps; r++) {
      const double t0 = now_ms();
      const Outcome o = run_spec(W, &sp);
      times[r] = now_ms() - t0;
      if (o.iterations == -2) return reply_error("unknown rule", spec_text);
    }
    printf("{\"ms\":[");
    for (int r = 0; r < reps; r++) printf("%s%.6f", r ? "," : "", times[r]);
    printf("]}\n");
  } else {
    return reply_error("unknown command", verb);
  }
  fflush(stdout);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s input.bin  (then commands on stdin: check OUT SPEC | time REPS SPEC)\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "rb");
  if (!in) die("cannot open input", argv[1]);
  int32_t hdr[3];
  if (fread(hdr, sizeof hdr, 1, in) != 1) die("short input header", argv[1]);
  if (hdr[0] < 1 || hdr[0] > 65536 || hdr[1] < 1 || (int64_t)hdr[0] * hdr[1] > (1 << 28)) die("bad n or d in", argv[1]);
  Work W;
  memset(&W, 0, sizeof W);
  W.n = hdr[0];
  W.d = hdr[1];
  const int n = W.n, d = W.d;
  const size_t nd = (size_t)n * d;
  W.xs = alloc(nd * 4);
  if (fread(W.xs, 4, nd, in) != nd) die("short input", argv[1]);
  if (hdr[2] & 1) {
    W.w = alloc((size_t)n * 8);
    if (fread(W.w, 8, n, in) != (size_t)n) die("short weights", argv[1]);
  }
  if (hdr[2] & 2) {
    W.center = alloc((size_t)d * 4);
    if (fread(W.center, 4, d, in) != (size_t)d) die("short centre", argv[1]);
  }
  fclose(in);
  const int t = n > 1 ? 32 - __builtin_clz((unsigned)(n - 1)) : 1;
  W.pre = alloc(nd * 4);
  W.out = alloc((size_t)d * 4);
  W.start = alloc((size_t)d * 4);
  W.S = alloc((size_t)n * LANES * 4);
  W.acc = alloc(ACC_BLOCK * 8);
  W.acc16 = alloc(LANES * 8);
  W.D = alloc((size_t)n * n * 8);
  double **f64s[] = {&W.w2, &W.scores, &W.totals, &W.row, &W.tmp, &W.coef, &W.alpha, &W.beta};
  for (size_t i = 0; i < sizeof f64s / sizeof *f64s; i++) *f64s[i] = alloc((size_t)n * 8);
  int **i32s[] = {&W.idx, &W.idx2, &W.perm, &W.sel, &W.order, &W.itmp, &W.alive};
  for (size_t i = 0; i < sizeof i32s / sizeof *i32s; i++) *i32s[i] = alloc((size_t)n * 4);
  W.pairs = alloc((size_t)n * (t * (t + 1) / 2 + 1) * 8);
  W.neighbours = alloc((size_t)n * n * 4);

  const int max_reps = 100000;
  double *times = alloc(sizeof(double) * max_reps);
  char line[1200];
  while (fgets(line, sizeof line, stdin)) command(&W, line, times, max_reps);
  return 0;
}
