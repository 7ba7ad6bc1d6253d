/* The training epoch and the scoring of many images, compiled: all of digitnet's speed.
 *
 * network.py is the mathematics written with NumPy. A mini-batch there takes some forty NumPy
 * calls, and on the 13,002-parameter network each call costs more in Python's overhead than in
 * arithmetic. Here the same epoch is one call: the large products go to BLAS (SciPy's, whose
 * sgemm kernels.py hands over), and everything else (pixels to floats, σ, δ, the optimiser's
 * step) runs as plain loops that the compiler turns into vector instructions. kernels.py
 * passes three structures: the network's arrays (Net), the optimiser and its memory
 * (Optimiser) and the epoch's examples in order (Plan). tests/test_kernels.py checks every
 * piece against network.py, optimizers.py and augment.py.
 *
 * This file is compiled when digitnet is installed (pip install . builds it with the C
 * compiler), so a machine's first run is as fast as every later one, and the same inputs give
 * the same bits. The hot loops are compiled twice, for any x86-64 and for one with AVX2 and
 * FMA, and the processor's own is chosen when the library loads: a machine always runs the
 * same code, and so always gives the same network.
 *
 * The activations and costs are the registry's (functions.py): dn_code turns a registry name
 * into the number of its single-number form here; kernels.py asks for every name, and the
 * tests check each form against its array form.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <float.h>
#include <pthread.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VECTOR __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define VECTOR
#endif

typedef int64_t i64;

/* ---- what kernels.py hands over: every field 8 bytes, so the layouts agree without padding ---- */

typedef struct {
    i64 layers;          /* L: layers of weights */
    const i64 *sizes;    /* L + 1 layer sizes, the input first */
    const i64 *places;   /* L rows of (start of W, n_out, n_in, start of b): network.layout */
    float *params;       /* every weight and bias, W0, b0, W1, b1, ... */
    i64 hidden, output;  /* σ of the hidden layers and of the output layer (dn_code) */
    i64 cost;            /* the cost (dn_code) */
} Net;

enum { SGD, ADAM };

typedef struct {
    i64 kind;            /* SGD (with momentum if non-zero) or ADAM */
    i64 t;               /* Adam's steps taken */
    double eta, l2;      /* learning rate; L2: λ w added to each weight's gradient */
    double momentum, beta1, beta2, eps;
    float *first;        /* SGD's velocity (NULL without momentum), or Adam's m */
    float *second;       /* Adam's v (NULL for SGD) */
} Optimiser;

typedef struct {
    const uint8_t *images;  /* kernels.padded: the images end to end, with blank rows for shifts */
    i64 pixels;             /* of each image */
    i64 side, shift;        /* images that move are side × side; shift: blank rows above and below each */
    i64 examples, batch_size;
    const i64 *order;       /* example i is image order[i] ... */
    const i64 *labels;      /* ... with label labels[i] ... */
    const i64 *dx, *dy;     /* ... moved by (dx[i], dy[i]) ... */
    const float *warps;     /* ... and, if not NULL, turned, scaled, thickened: warps[3i..3i+2] ... */
    const i64 *field;       /* ... and displaced by fields[field[i]] if n_fields */
    const float *fields;    /* n_fields × 2 × side² */
    i64 n_fields;
    const float *targets;   /* a teacher's outputs, a row per example, or NULL */
    double share;           /* the labels' share of the desired outputs when there is a teacher */
    i64 inked_only;         /* the first layer reads only the inked pixels (kernels.inked_only) ... */
    i64 threads;            /* ... on this many threads, one or two (kernels.threads) */
} Plan;

typedef struct {
    double cost;  /* the sum of every example's cost */
    i64 right;    /* examples classified right */
} Score;

/* ---- BLAS: SciPy's sgemm, column-major like all Fortran BLAS ---------------------------------- */

typedef void sgemm_t(const char *transa, const char *transb, const int *m, const int *n, const int *k,
                     const float *alpha, const float *a, const int *lda, const float *b, const int *ldb,
                     const float *beta, float *c, const int *ldc);
static sgemm_t *sgemm;

void dn_use_blas(void *function) { sgemm = (sgemm_t *)function; }

/* A row-major matrix read column-major is its transpose, so each product below is written for
 * BLAS the other way round. OpenBLAS multiplies a skinny matrix of up to about 80 rows in its
 * small-matrix kernels, two to four times faster per row than a taller one: the products that
 * run over a batch go BLOCK rows at a time. */
#define BLOCK 64

/* Eight floats, read from anywhere: GCC's vector extension, one AVX register where there is one and
 * two SSE registers where not, the same additions in the same order either way. */
typedef float v8 __attribute__((vector_size(32), aligned(4)));

/* A layer of at most FEW neurons is multiplied here rather than by BLAS, which copies W and a into its
 * own layouts on every call, most of the work when a layer has 16 neurons. */
#define FEW 32

/* The sum of v's eight numbers, always in this order. */
static inline float total(const v8 *v)
{
    const float *s = (const float *)v;
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

/* out[r][c] = x_r · w_c for four rows x and two rows w of length n: the eight dot products at once, each
 * number read serving four or two of them. */
VECTOR static void dots(const float *const x[4], const float *const w[2], i64 n, float out[4][2])
{
    v8 s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0}, s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};
    i64 q = 0;
    for (; q + 8 <= n; q += 8) {
        v8 w0 = *(const v8 *)(w[0] + q), w1 = *(const v8 *)(w[1] + q);
        v8 x0 = *(const v8 *)(x[0] + q), x1 = *(const v8 *)(x[1] + q);
        v8 x2 = *(const v8 *)(x[2] + q), x3 = *(const v8 *)(x[3] + q);
        s00 += x0 * w0, s01 += x0 * w1, s10 += x1 * w0, s11 += x1 * w1;
        s20 += x2 * w0, s21 += x2 * w1, s30 += x3 * w0, s31 += x3 * w1;
    }
    v8 sums[4][2] = {{s00, s01}, {s10, s11}, {s20, s21}, {s30, s31}};
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 2; c++) {
            float t = total(&sums[r][c]);
            for (i64 k = q; k < n; k++)
                t += x[r][k] * w[c][k];
            out[r][c] = t;
        }
}

/* z = a Wᵀ for a layer of few neurons: each z_ij the dot product of example i's a and neuron j's
 * weights, four examples and two neurons at a time. Past the last example or neuron, the last one is
 * used again and its sums are not kept. */
static void few_times_transposed(const float *a, const float *W, float *z, i64 m, i64 n_out, i64 n_in)
{
    for (i64 i = 0; i < m; i += 4)
        for (i64 j = 0; j < n_out; j += 2) {
            const float *x[4], *w[2];
            float out[4][2];
            for (int r = 0; r < 4; r++)
                x[r] = a + (i + r < m ? i + r : m - 1) * n_in;
            for (int c = 0; c < 2; c++)
                w[c] = W + (j + c < n_out ? j + c : n_out - 1) * n_in;
            dots(x, w, n_in, out);
            for (int r = 0; r < 4 && i + r < m; r++)
                for (int c = 0; c < 2 && j + c < n_out; c++)
                    z[(i + r) * n_out + j + c] = out[r][c];
        }
}

/* out[c] = Σ_i d_i,c · a_i for sixteen columns of a (rows of ``stride``) and four columns of δ (each
 * read as d[i · n_out + c]), summed over the m examples in registers. */
VECTOR static void weighted_sums(const float *a, i64 stride, const float *d, const i64 c[4], i64 n_out, i64 m,
                                 float out[4][16])
{
    v8 s00 = {0}, s01 = {0}, s10 = {0}, s11 = {0}, s20 = {0}, s21 = {0}, s30 = {0}, s31 = {0};
    for (i64 i = 0; i < m; i++, a += stride, d += n_out) {
        v8 x0 = *(const v8 *)a, x1 = *(const v8 *)(a + 8);
        float d0 = d[c[0]], d1 = d[c[1]], d2 = d[c[2]], d3 = d[c[3]];
        s00 += d0 * x0, s01 += d0 * x1, s10 += d1 * x0, s11 += d1 * x1;
        s20 += d2 * x0, s21 += d2 * x1, s30 += d3 * x0, s31 += d3 * x1;
    }
    *(v8 *)out[0] = s00, *(v8 *)(out[0] + 8) = s01, *(v8 *)out[1] = s10, *(v8 *)(out[1] + 8) = s11;
    *(v8 *)out[2] = s20, *(v8 *)(out[2] + 8) = s21, *(v8 *)out[3] = s30, *(v8 *)(out[3] + 8) = s31;
}

/* ∇W = δᵀ a for a layer of few neurons: ∇W_jq = Σ_i δ_ij a_iq, four neurons and sixteen inputs at a
 * time. Past the last neuron, the last one is used again and its sums are not kept. */
static void few_gradient_of_weights(const float *delta, const float *a, float *nabla, i64 m, i64 n_out, i64 n_in)
{
    i64 whole = n_in - n_in % 16;
    for (i64 j = 0; j < n_out; j += 4) {
        i64 js[4];
        float out[4][16];
        for (int c = 0; c < 4; c++)
            js[c] = j + c < n_out ? j + c : n_out - 1;
        for (i64 q = 0; q < whole; q += 16) {
            weighted_sums(a + q, n_in, delta, js, n_out, m, out);
            for (int c = 0; c < 4 && j + c < n_out; c++)
                memcpy(nabla + (j + c) * n_in + q, out[c], sizeof out[c]);
        }
        for (int c = 0; c < 4 && j + c < n_out; c++)
            for (i64 q = whole; q < n_in; q++) {
                float t = 0;
                for (i64 i = 0; i < m; i++)
                    t += delta[i * n_out + j + c] * a[i * n_in + q];
                nabla[(j + c) * n_in + q] = t;
            }
    }
}

/* below = δ W for a layer of few neurons: each example's row of ``below`` is the sum of W's rows
 * weighted by its δ, eight inputs at a time. */
VECTOR static void few_back_through(const float *delta, const float *W, float *below, i64 m, i64 n_out, i64 n_in)
{
    i64 whole = n_in - n_in % 8;
    for (i64 i = 0; i < m; i++) {
        const float *d = delta + i * n_out;
        float *row = below + i * n_in;
        for (i64 q = 0; q < whole; q += 8) {
            v8 s = {0};
            for (i64 j = 0; j < n_out; j++)
                s += d[j] * *(const v8 *)(W + j * n_in + q);
            memcpy(row + q, &s, sizeof s);
        }
        for (i64 q = whole; q < n_in; q++) {
            float t = 0;
            for (i64 j = 0; j < n_out; j++)
                t += d[j] * W[j * n_in + q];
            row[q] = t;
        }
    }
}

/* z (m × n_out) = a (m × n_in) Wᵀ, with W n_out × n_in: zᵀ = W aᵀ. */
static void times_transposed(const float *a, const float *W, float *z, i64 m, i64 n_out, i64 n_in)
{
    if (n_out <= FEW) {
        few_times_transposed(a, W, z, m, n_out, n_in);
        return;
    }
    for (i64 i = 0; i < m; i += BLOCK) {
        int rows = (int)(m - i < BLOCK ? m - i : BLOCK), M = (int)n_out, K = (int)n_in;
        float one = 1, zero = 0;
        sgemm("T", "N", &M, &rows, &K, &one, W, &K, a + i * n_in, &K, &zero, z + i * n_out, &M);
    }
}

/* ∇W (n_out × n_in) = δᵀ a, with δ m × n_out and a m × n_in: ∇Wᵀ = aᵀ δ, summed BLOCK rows at a time. */
static void gradient_of_weights(const float *delta, const float *a, float *nabla, i64 m, i64 n_out, i64 n_in)
{
    if (n_out <= FEW) {
        few_gradient_of_weights(delta, a, nabla, m, n_out, n_in);
        return;
    }
    int M = (int)n_in, N = (int)n_out;
    float one = 1, beta = 0;
    for (i64 i = 0; i < m; i += BLOCK, beta = 1) {
        int rows = (int)(m - i < BLOCK ? m - i : BLOCK);
        sgemm("N", "T", &M, &N, &rows, &one, a + i * n_in, &M, delta + i * n_out, &N, &beta, nabla, &M);
    }
}

/* below (m × n_in) = δ (m × n_out) W (n_out × n_in): belowᵀ = Wᵀ δᵀ. */
static void back_through(const float *delta, const float *W, float *below, i64 m, i64 n_out, i64 n_in)
{
    if (n_out <= FEW) {
        few_back_through(delta, W, below, m, n_out, n_in);
        return;
    }
    int M = (int)n_in, N = (int)m, K = (int)n_out;
    float one = 1, zero = 0;
    sgemm("N", "N", &M, &N, &K, &one, W, &M, delta, &K, &zero, below, &M);
}

/* ---- the registry's forms for one number (functions.py has the array forms) ------------------- */

enum { SIGMOID, RELU, TANH, SOFTMAX };
enum { QUADRATIC, CROSS_ENTROPY };
static const char *const SIGMAS[] = {"sigmoid", "relu", "tanh", "softmax", NULL};
static const char *const COSTS[] = {"quadratic", "cross-entropy", NULL};

/* The number of a registry entry's form here, or -1 if this file has none. */
i64 dn_code(const char *registry, const char *name)
{
    const char *const *names = strcmp(registry, "cost") == 0 ? COSTS : SIGMAS;
    for (i64 i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

/* tanh as a ratio of two polynomials (Eigen's; within 4e-7 of tanh): plain arithmetic, which the
 * compiler turns into vector instructions, where the C library's tanhf is one number at a time. */
static inline float rational_tanh(float x)
{
    x = fminf(fmaxf(x, -9.0f), 9.0f);  /* beyond ±9, float32 tanh is ±1 */
    float x2 = x * x;
    float p = x2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
    p = x2 * p + -8.60467152213735e-11f;
    p = x2 * p + 5.12229709037114e-08f;
    p = x2 * p + 1.48572235717979e-05f;
    p = x2 * p + 6.37261928875436e-04f;
    p = x2 * p + 4.89352455891786e-03f;
    float q = x2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
    q = x2 * q + 2.26843463243900e-03f;
    q = x2 * q + 4.89352518554385e-03f;
    return x * p / q;
}

static inline float sigmoid(float z) { return 0.5f + 0.5f * rational_tanh(0.5f * z); }
static inline float relu(float z) { return z > 0 ? z : 0.0f; }

/* softmax of one row, in place, less its largest z so that e^z cannot overflow */
static void softmax(float *z, i64 n)
{
    float top = z[0], total = 0;
    for (i64 j = 1; j < n; j++)
        top = fmaxf(top, z[j]);
    for (i64 j = 0; j < n; j++) {
        z[j] = expf(z[j] - top);
        total += z[j];
    }
    for (i64 j = 0; j < n; j++)
        z[j] /= total;
}

/* a = σ(z + b) in place in z (m rows of n), for the σ numbered ``kind`` */
VECTOR static void activate(float *z, const float *b, i64 m, i64 n, i64 kind)
{
    for (i64 i = 0; i < m; i++) {
        float *row = z + i * n;
        if (kind == SIGMOID)
            for (i64 j = 0; j < n; j++) row[j] = sigmoid(row[j] + b[j]);
        else if (kind == RELU)
            for (i64 j = 0; j < n; j++) row[j] = relu(row[j] + b[j]);
        else if (kind == TANH)
            for (i64 j = 0; j < n; j++) row[j] = rational_tanh(row[j] + b[j]);
        else {
            for (i64 j = 0; j < n; j++) row[j] += b[j];
            softmax(row, n);
        }
    }
}

/* δ ⊙ σ'(z) in place in δ, with σ'(z) from a = σ(z) */
VECTOR static void chain(float *delta, const float *a, i64 count, i64 kind)
{
    if (kind == SIGMOID)
        for (i64 q = 0; q < count; q++) delta[q] *= a[q] * (1.0f - a[q]);
    else if (kind == RELU)
        for (i64 q = 0; q < count; q++) delta[q] *= a[q] > 0 ? 1.0f : 0.0f;
    else
        for (i64 q = 0; q < count; q++) delta[q] *= 1.0f - a[q] * a[q];
}

/* y for output j of example i: 1 at its label, else 0; with a teacher, share · that + (1 − share) · its output
 * (training.Trainer.desired) */
static inline float desired(const Plan *plan, i64 i, i64 j, i64 label, i64 n)
{
    float y = label == j ? 1.0f : 0.0f;
    if (plan && plan->targets)
        y = (float)plan->share * y + (float)(1 - plan->share) * plan->targets[i * n + j];
    return y;
}

/* δ of the output layer for the batch's mean cost; ``first``: the batch's first example in the plan */
static void output_delta(const float *a, const i64 *labels, const Plan *plan, i64 first, i64 m, i64 n, i64 cost,
                         float *delta)
{
    for (i64 i = 0; i < m; i++)
        for (i64 j = 0; j < n; j++) {
            float y = desired(plan, first + i, j, labels[i], n), out = a[i * n + j];
            float d = cost == QUADRATIC ? (out - y) * out * (1.0f - out) : out - y;
            delta[i * n + j] = d / (float)m;
        }
}

/* the sum over the batch of each example's cost: ½ (a − y)² or −y ln a for each output */
static double total_cost(const float *a, const i64 *labels, i64 m, i64 n, i64 cost)
{
    double total = 0;
    for (i64 i = 0; i < m; i++)
        for (i64 j = 0; j < n; j++) {
            float y = labels[i] == j ? 1.0f : 0.0f, out = a[i * n + j];
            total += cost == QUADRATIC ? 0.5f * (out - y) * (out - y) : (y > 0 ? -y * logf(out) : 0.0f);
        }
    return total;
}

/* the index of the largest of n outputs: the network's answer */
static i64 brightest(const float *a, i64 n)
{
    i64 best = 0;
    for (i64 j = 1; j < n; j++)
        if (a[j] > a[best]) best = j;
    return best;
}

/* ---- reading and distorting the images -------------------------------------------------------- */

/* Where example e's moved image starts in kernels.padded's layout: a move by (dx, dy) is another start. */
static inline const uint8_t *start(const Plan *p, i64 e)
{
    i64 stride = p->pixels + 2 * p->shift * p->side;  /* bytes from one image to the next */
    return p->images + p->shift + p->order[e] * stride + (p->shift + p->dy[e]) * p->side + p->dx[e];
}

/* Asks for the images of examples first..first+m to be brought into the cache: read_images of the next
 * batch then finds them there instead of waiting on memory for each, in a random order over 47 MB. */
static void fetch_ahead(const Plan *p, i64 first, i64 m)
{
    for (i64 i = first; i < first + m && i < p->examples; i++) {
        const uint8_t *r = start(p, i);
        for (i64 q = 0; q < p->pixels; q += 64)
            __builtin_prefetch(r + q);
        __builtin_prefetch(r + p->pixels - 1);
    }
}

/* Rows of x = images order[first..first+m) moved by (−dx, −dy) as augment.shifted moves them, as floats
 * in [0, 1]. In kernels.padded's layout the run of side² bytes from the moved start is the moved image,
 * but for the pixels that came round from the row above or below, in the |dx| columns at one edge:
 * they lie outside the image, so they are set to 0. The images lie anywhere in memory: fetch_ahead has
 * asked for them while the batch before was computed. ``restrict`` tells the compiler that bytes and
 * floats do not overlap, so that it converts many pixels at once. */
VECTOR static void read_images(const Plan *p, i64 first, i64 m, float *x)
{
    const float scale = 1.0f / 255;
    i64 n = p->pixels, i;
    for (i = 0; i < m; i++) {
        const uint8_t *restrict r = start(p, first + i);
        float *restrict row = x + i * n;
        for (i64 q = 0; q < n; q++)
            row[q] = r[q] * scale;
    }
    for (i = 0; i < m; i++) {
        i64 dx = p->dx[first + i];
        if (dx != 0) {
            i64 from = dx > 0 ? p->side - dx : 0, width = dx > 0 ? dx : -dx;
            for (i64 r = 0; r < p->side; r++)
                memset(x + i * n + r * p->side + from, 0, (size_t)width * sizeof(float));
        }
    }
}

/* The image x (side² values) in ``frame`` with a blank border: one pixel wide above and to the left,
 * two below and to the right (where ``warp`` reads one pixel past the first). */
static void bordered(const float *x, i64 side, float *frame)
{
    i64 width = side + 3;
    memset(frame, 0, (size_t)(width * width) * sizeof(float));
    for (i64 r = 0; r < side; r++)
        memcpy(frame + (r + 1) * width + 1, x + r * side, (size_t)side * sizeof(float));
}

/* augment.thickened for one image and thickness t, in place: each pixel moved the share |t| of the
 * way towards the largest (t > 0) or smallest of itself and its four neighbours */
static void thicken(float *x, float t, i64 side, float *frame)
{
    i64 width = side + 3;
    float share = fabsf(t);
    bordered(x, side, frame);
    for (i64 r = 1; r <= side; r++)
        for (i64 c = 1; c <= side; c++) {
            const float *f = frame + r * width + c;
            float here = f[0], up = f[-width], down = f[width], left = f[-1], right = f[1], target;
            if (t > 0)
                target = fmaxf(fmaxf(fmaxf(here, up), fmaxf(down, left)), right);
            else
                target = fminf(fminf(fminf(here, up), fminf(down, left)), right);
            x[(r - 1) * side + c - 1] = here + share * (target - here);
        }
}

/* augment.warped for one image, in place: turned by ``angle``, enlarged by ``scale`` and displaced by
 * ``field`` (2 × side², or NULL), read by bilinear interpolation. A row at a time, in two passes: first
 * where each pixel reads from (arithmetic the compiler turns into vector instructions: ``where``, the
 * frame's pixel above and left of the point, ``down`` and ``across``, how far the point lies below and
 * right of it), then the reads. */
static void warp(float *x, float angle, float scale, const float *field, i64 side, float *frame, i64 *where,
                 float *down, float *across)
{
    i64 width = side + 3, n = side * side;
    float centre = (float)(side - 1) / 2, lo = 0, hi = (float)(side + 1);
    float cosine = (float)cos(angle) / scale, sine = (float)sin(angle) / scale;
    bordered(x, side, frame);
    for (i64 row = 0; row < side; row++) {
        float r = (float)row - centre;
        for (i64 col = 0; col < side; col++) {
            float c = (float)col - centre;
            float d = centre + cosine * r - sine * c, a = centre + sine * r + cosine * c;
            if (field) {
                d += field[row * side + col];
                a += field[n + row * side + col];
            }
            d = fminf(fmaxf(d + 1, lo), hi);  /* in the frame, whose pixel (1, 1) is the image's (0, 0) */
            a = fminf(fmaxf(a + 1, lo), hi);
            i64 t = (i64)d, l = (i64)a;  /* floor: both are 0 or more */
            down[col] = d - (float)t;
            across[col] = a - (float)l;
            where[col] = t * width + l;
        }
        for (i64 col = 0; col < side; col++) {
            const float *f = frame + where[col];
            float u = down[col], v = across[col];
            x[row * side + col] = (1 - u) * ((1 - v) * f[0] + v * f[1]) + u * ((1 - v) * f[width] + v * f[width + 1]);
        }
    }
}

/* Rows of x thickened and warped in place as augment.moved does after shifting, for the plan's
 * examples first..first+m; ``frame``: room for (side + 3)² values; ``where`` and ``fractions``: side and 2 · side. */
static void distort(const Plan *p, i64 first, i64 m, float *x, float *frame, i64 *where, float *fractions)
{
    i64 n = p->side * p->side;
    for (i64 i = 0; i < m; i++) {
        const float *w = p->warps + 3 * (first + i);
        float angle = w[0], scale = w[1], thickness = w[2], *image = x + i * n;
        if (thickness != 0)
            thicken(image, thickness, p->side, frame);
        const float *field = p->n_fields ? p->fields + p->field[first + i] * 2 * n : NULL;
        if (field || angle != 0 || scale != 1)
            warp(image, angle, scale, field, p->side, frame, where, fractions, fractions + p->side);
    }
}

/* ---- a wide first layer reads only the inked pixels -------------------------------------------
 * An MNIST digit is four-fifths black, and a black pixel adds nothing to W a, nor to the gradient δᵀ a.
 * During the epoch the first layer's W is kept transposed, one row per pixel ("columns"), so that the
 * column of a pixel is read in one piece. */

typedef struct {
    i64 *index;    /* batch_size × n_in: each example's inked pixels ... */
    float *value;  /* ... how bright ... */
    i64 *counts;   /* ... and how many */
    i64 *pixels, *runs, *examples, *per_pixel, *filled;  /* the same lists by pixel (by_pixel) */
    float *values;
    i64 used;      /* pixels inked in any example of the batch */
} Inked;

/* out += Σ weights[k] · source[which[k]] over the first n of ``which`` (rows of ``length``), four rows
 * at a time, so that ``out`` is read and written once for every four rows added */
VECTOR static void add_rows(float *out, i64 length, const float *source, const i64 *which, const float *weights,
                            i64 n)
{
    i64 k = 0;
    for (; k + 4 <= n; k += 4) {
        const float *r0 = source + which[k] * length, *r1 = source + which[k + 1] * length;
        const float *r2 = source + which[k + 2] * length, *r3 = source + which[k + 3] * length;
        float w0 = weights[k], w1 = weights[k + 1], w2 = weights[k + 2], w3 = weights[k + 3];
        for (i64 j = 0; j < length; j++)
            out[j] += w0 * r0[j] + w1 * r1[j] + w2 * r2[j] + w3 * r3[j];
    }
    for (; k < n; k++) {
        const float *r = source + which[k] * length;
        float w = weights[k];
        for (i64 j = 0; j < length; j++)
            out[j] += w * r[j];
    }
}

/* Each row of x (m × n_in) as the list of its non-zero pixels, then the same lists by pixel: for each
 * pixel inked in any example (``pixels``, in order), the examples it is inked in and its value there,
 * from runs[u] to runs[u + 1]. */
static void list_inked(const float *x, i64 m, i64 n_in, Inked *s)
{
    memset(s->per_pixel, 0, (size_t)(n_in + 1) * sizeof(i64));
    for (i64 i = 0; i < m; i++) {
        i64 k = 0;
        for (i64 q = 0; q < n_in; q++)
            if (x[i * n_in + q] != 0) {
                s->index[i * n_in + k] = q;
                s->value[i * n_in + k] = x[i * n_in + q];
                s->per_pixel[q + 1]++;
                k++;
            }
        s->counts[i] = k;
    }
    i64 used = 0;
    s->runs[0] = 0;
    for (i64 q = 0; q < n_in; q++)  /* the inked pixels, their runs laid end to end */
        if (s->per_pixel[q + 1]) {
            s->pixels[used] = q;
            s->runs[used + 1] = s->runs[used] + s->per_pixel[q + 1];
            s->per_pixel[q + 1] = used;  /* from now on: which run is the pixel's */
            s->filled[used] = s->runs[used];
            used++;
        }
    for (i64 i = 0; i < m; i++)
        for (i64 k = 0; k < s->counts[i]; k++) {
            i64 u = s->per_pixel[s->index[i * n_in + k] + 1];
            s->examples[s->filled[u]] = i;
            s->values[s->filled[u]++] = s->value[i * n_in + k];
        }
    s->used = used;
}

/* ---- a wide first layer on two threads ------------------------------------------------------- */

/* Where the first layer is wide (inked_only), its sums, their gradient and the step are each split in two,
 * the second half on a second thread if the process may use a second processor: each number is still worked
 * out by one thread, in the order one thread would, so the bits are the same with one thread or two. A
 * narrow network's batch is too little work to pay for starting a thread. */
typedef struct {
    void (*work)(void *job, i64 from, i64 to);
    void *job;
    i64 from, to;
} Part;

static void *run_part(void *part)
{
    Part *p = part;
    p->work(p->job, p->from, p->to);
    return NULL;
}

/* work(job, 0, n), as work(job, 0, half) here and work(job, half, n) on a second thread if ``two`` */
static void in_two(void (*work)(void *, i64, i64), void *job, i64 half, i64 n, int two)
{
    pthread_t thread;
    Part second = {work, job, half, n};
    if (!two || half <= 0 || half >= n || pthread_create(&thread, NULL, run_part, &second) != 0) {
        work(job, 0, n);
        return;
    }
    work(job, 0, half);
    pthread_join(thread, NULL);
}

typedef struct {
    const Inked *s;
    const float *source;  /* W's columns forward, δ backward */
    float *out;           /* z forward, ∇W's columns backward */
    i64 n_in, n_out;
} Inked_job;

static void first_layer_rows(void *job, i64 from, i64 to)  /* examples from..to */
{
    Inked_job *j = job;
    for (i64 i = from; i < to; i++) {
        float *z = j->out + i * j->n_out;
        memset(z, 0, (size_t)j->n_out * sizeof(float));
        add_rows(z, j->n_out, j->source, j->s->index + i * j->n_in, j->s->value + i * j->n_in, j->s->counts[i]);
    }
}

/* z = a Wᵀ of the first layer from the inked pixels only: each row of z is the sum of W's columns
 * (rows of ``columns``), one per inked pixel, times its value; the examples in two halves */
static void first_layer(const Inked *s, const float *columns, float *z, i64 m, i64 n_in, i64 n_out, int two)
{
    Inked_job job = {s, columns, z, n_in, n_out};
    in_two(first_layer_rows, &job, m / 2, m, two);
}

static void first_layer_gradient_rows(void *job, i64 from, i64 to)  /* inked pixels from..to */
{
    Inked_job *j = job;
    const Inked *s = j->s;
    for (i64 u = from; u < to; u++) {
        i64 a = s->runs[u], b = s->runs[u + 1];
        add_rows(j->out + s->pixels[u] * j->n_out, j->n_out, j->source, s->examples + a, s->values + a, b - a);
    }
}

/* ∂C/∂W = δᵀ a of the first layer, transposed like ``first_layer``'s W: row p is Σ δ · a_p over the
 * examples in which pixel p is inked, 0 if none is; the inked pixels in two halves of as many values */
static void first_layer_gradient(const Inked *s, const float *delta, float *nabla_columns, i64 n_in, i64 n_out,
                                 int two)
{
    memset(nabla_columns, 0, (size_t)(n_in * n_out) * sizeof(float));
    i64 half = 0;  /* the pixel where half the inked values have gone by */
    while (half < s->used && 2 * s->runs[half] < s->runs[s->used])
        half++;
    Inked_job job = {s, delta, nabla_columns, n_in, n_out};
    in_two(first_layer_gradient_rows, &job, half, s->used, two);
}

/* The rows × cols matrix at ``block`` rewritten in place as its transpose (``scratch``: room for it). */
static void transpose(float *block, i64 rows, i64 cols, float *scratch)
{
    memcpy(scratch, block, (size_t)(rows * cols) * sizeof(float));
    for (i64 c = 0; c < cols; c++)
        for (i64 r = 0; r < rows; r++)
            block[c * rows + r] = scratch[r * cols + c];
}

/* The first layer's W to one row per input, in the parameters and the optimiser's memory of the same
 * layout, or ``back`` again. */
static void in_columns(const Net *net, Optimiser *opt, float *scratch, int back)
{
    const i64 *place = net->places;
    i64 n_out = place[1], n_in = place[2];
    float *vectors[] = {net->params, opt->first, opt->second};
    for (int v = 0; v < 3; v++)
        if (vectors[v])
            transpose(vectors[v] + place[0], back ? n_in : n_out, back ? n_out : n_in, scratch);
}

/* ---- forward, backward, a step ---------------------------------------------------------------- */

/* Where everything of one epoch lives: every layer's activations and δ for a batch, row after row,
 * layer l from batch_size · starts[l]; the gradient, laid out as the parameters. */
typedef struct {
    i64 *starts;          /* L + 2: 0, then the running sum of the layer sizes */
    float *activations, *deltas, *gradient, *scratch, *frame, *fractions;
    i64 *where;
    Inked inked;
    int two;              /* whether the wide first layer and the step run on two threads */
} Work;

#define ROWS(buffer, l) ((buffer) + batch_size * w->starts[(l)])

/* a' = σ(W a + b), layer by layer, for m examples whose inputs are in place, every layer's a kept */
static void forward(const Net *net, Work *w, i64 batch_size, i64 m, int inked)
{
    for (i64 l = 0; l < net->layers; l++) {
        const i64 *place = net->places + 4 * l;
        float *a = ROWS(w->activations, l), *z = ROWS(w->activations, l + 1);
        if (l == 0 && inked)
            first_layer(&w->inked, net->params + place[0], z, m, place[2], place[1], w->two);
        else
            times_transposed(a, net->params + place[0], z, m, place[1], place[2]);
        activate(z, net->params + place[3], m, place[1], l < net->layers - 1 ? net->hidden : net->output);
    }
}

/* The gradient of the batch's mean cost after ``forward``: δ at the output, then for each layer
 * ∂C/∂W = δᵀ a and ∂C/∂b = Σ δ, and δ = (δ' W') ⊙ σ'(z) for the layer below. */
static void backprop(const Net *net, Work *w, const Plan *plan, i64 first, i64 batch_size, i64 m, int inked)
{
    i64 L = net->layers, n = net->sizes[L];
    float *delta = ROWS(w->deltas, L);
    output_delta(ROWS(w->activations, L), plan->labels + first, plan, first, m, n, net->cost, delta);
    for (i64 l = L - 1; l >= 0; l--) {
        const i64 *place = net->places + 4 * l;
        i64 n_out = place[1], n_in = place[2];
        const float *a = ROWS(w->activations, l);
        if (l == 0 && inked)
            first_layer_gradient(&w->inked, delta, w->gradient + place[0], n_in, n_out, w->two);
        else
            gradient_of_weights(delta, a, w->gradient + place[0], m, n_out, n_in);
        float *nabla_b = w->gradient + place[3];
        memset(nabla_b, 0, (size_t)n_out * sizeof(float));
        for (i64 i = 0; i < m; i++)
            for (i64 j = 0; j < n_out; j++)
                nabla_b[j] += delta[i * n_out + j];
        if (l > 0) {
            float *below = ROWS(w->deltas, l);
            back_through(delta, net->params + place[0], below, m, n_out, n_in);
            chain(below, a, m * n_in, net->hidden);
            delta = below;
        }
    }
}

/* Below float32's smallest normal number an optimiser's memory is set to 0, as optimizers.py does: the
 * memory of a weight whose gradient stays 0 (a pixel no image inks) decays towards 0, and once
 * subnormal every operation on it costs tens of cycles. */
static inline float flushed(float s) { return fabsf(s) < FLT_MIN ? 0.0f : s; }

/* One step downhill, as optimizers.py takes it: SGD (with momentum) or Adam, with L2's λ w added to
 * each weight's gradient first; for the parameters from..to. */
typedef struct {
    const Net *net;
    const Optimiser *o;
    float *gradient;
    float size;  /* Adam's step size, its bias corrections folded in, as in Adam.step_size */
} Stepping;

VECTOR static void step_part(void *job, i64 from, i64 to)
{
    const Stepping *j = job;
    const Optimiser *o = j->o;
    float *w = j->net->params, *gradient = j->gradient;
    if (o->l2 != 0)
        for (i64 l = 0; l < j->net->layers; l++) {
            const i64 *place = j->net->places + 4 * l;
            i64 first = place[0] > from ? place[0] : from, last = place[0] + place[1] * place[2];
            for (i64 q = first; q < (last < to ? last : to); q++)
                gradient[q] += (float)o->l2 * w[q];
        }
    float eta = (float)o->eta;
    if (o->kind == SGD && !o->first) {
        for (i64 q = from; q < to; q++)
            w[q] -= eta * gradient[q];
    } else if (o->kind == SGD) {
        float mu = (float)o->momentum, *v = o->first;
        for (i64 q = from; q < to; q++) {
            v[q] = flushed(mu * v[q] - eta * gradient[q]);
            w[q] += v[q];
        }
    } else {
        float beta1 = (float)o->beta1, beta2 = (float)o->beta2, eps = (float)o->eps, *m = o->first, *v = o->second;
        float size = j->size;
        for (i64 q = from; q < to; q++) {
            float g = gradient[q];
            m[q] = flushed(beta1 * m[q] + (1.0f - beta1) * g);
            v[q] = flushed(beta2 * v[q] + (1.0f - beta2) * g * g);
            w[q] -= size * m[q] / (sqrtf(v[q]) + eps);
        }
    }
}

static void step(const Net *net, Optimiser *o, float *gradient, i64 n, int two)
{
    Stepping job = {net, o, gradient, 0};
    if (o->kind != SGD) {
        o->t++;
        job.size = (float)(o->eta * sqrt(1 - pow(o->beta2, (double)o->t)) / (1 - pow(o->beta1, (double)o->t)));
    }
    in_two(step_part, &job, n / 2, n, two);
}

/* ---- from Python --------------------------------------------------------------------------------- */

static i64 parameters(const Net *net)
{
    const i64 *last = net->places + 4 * (net->layers - 1);
    return last[3] + last[1];
}

static void release(Work *w)
{
    void *all[] = {w->starts, w->activations, w->deltas, w->gradient, w->scratch, w->frame, w->fractions, w->where,
                   w->inked.index, w->inked.value, w->inked.counts, w->inked.pixels, w->inked.runs,
                   w->inked.examples, w->inked.values, w->inked.per_pixel, w->inked.filled};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        free(all[k]);
    memset(w, 0, sizeof *w);
}

/* Room for batches of ``batch_size``; returns 0 if there is not enough memory. */
static int prepare(Work *w, const Net *net, i64 batch_size, i64 side, int inked)
{
    i64 L = net->layers, n_in = net->sizes[0], params = parameters(net);
    memset(w, 0, sizeof *w);
    w->starts = calloc((size_t)L + 2, sizeof(i64));
    if (!w->starts) return 0;
    for (i64 l = 0; l <= L; l++)
        w->starts[l + 1] = w->starts[l] + net->sizes[l];
    size_t units = (size_t)(batch_size * w->starts[L + 1]), rows = (size_t)(batch_size * n_in);
    w->activations = malloc(units * sizeof(float));
    w->deltas = malloc(units * sizeof(float));
    w->gradient = malloc((size_t)params * sizeof(float));
    w->scratch = malloc((size_t)(net->places[1] * net->places[2]) * sizeof(float));
    w->frame = malloc((size_t)((side + 3) * (side + 3)) * sizeof(float));
    w->fractions = malloc((size_t)(2 * side + 1) * sizeof(float));
    w->where = malloc((size_t)(side + 1) * sizeof(i64));
    int ok = w->activations && w->deltas && w->gradient && w->scratch && w->frame && w->fractions && w->where;
    if (inked) {
        Inked *s = &w->inked;
        s->index = malloc(rows * sizeof(i64));
        s->value = malloc(rows * sizeof(float));
        s->counts = malloc((size_t)batch_size * sizeof(i64));
        s->pixels = malloc((size_t)n_in * sizeof(i64));
        s->runs = malloc((size_t)(n_in + 1) * sizeof(i64));
        s->examples = malloc(rows * sizeof(i64));
        s->values = malloc(rows * sizeof(float));
        s->per_pixel = malloc((size_t)(n_in + 1) * sizeof(i64));
        s->filled = malloc((size_t)n_in * sizeof(i64));
        ok = ok && s->index && s->value && s->counts && s->pixels && s->runs && s->examples && s->values &&
             s->per_pixel && s->filled;
    }
    if (!ok) release(w);
    return ok;
}

/* One epoch of stochastic gradient descent, as Trainer runs it with Network.step: the plan's examples
 * in its order, batch_size at a time, each scored as it goes through the network (into ``score``).
 * Returns 0 if there was not enough memory, having changed nothing. */
int dn_epoch(const Net *net, Optimiser *opt, const Plan *plan, Score *score)
{
    Work work, *w = &work;
    i64 batch_size = plan->batch_size, L = net->layers, n_out = net->sizes[L];
    int inked = (int)plan->inked_only;
    if (!prepare(w, net, batch_size, plan->side, inked))
        return 0;
    w->two = inked && plan->threads > 1;
    if (inked)
        in_columns(net, opt, w->scratch, 0);
    score->cost = 0;
    score->right = 0;
    for (i64 k = 0; k < plan->examples; k += batch_size) {
        i64 m = plan->examples - k < batch_size ? plan->examples - k : batch_size;
        float *x = w->activations;
        read_images(plan, k, m, x);
        if (plan->warps)
            distort(plan, k, m, x, w->frame, w->where, w->fractions);
        fetch_ahead(plan, k + batch_size, batch_size);
        if (inked)
            list_inked(x, m, net->sizes[0], &w->inked);
        forward(net, w, batch_size, m, inked);
        const float *out = ROWS(w->activations, L);
        score->cost += total_cost(out, plan->labels + k, m, n_out, net->cost);
        for (i64 i = 0; i < m; i++)
            score->right += brightest(out + i * n_out, n_out) == plan->labels[k + i];
        backprop(net, w, plan, k, batch_size, m, inked);
        step(net, opt, w->gradient, parameters(net), w->two);
    }
    if (inked)
        in_columns(net, opt, w->scratch, 1);
    release(w);
    return 1;
}

/* The network's answer (its brightest output) for each of ``count`` images of uint8 pixels, BLOCK at a
 * time, into ``answers``. Returns 0 if there was not enough memory. */
int dn_predict(const Net *net, const uint8_t *images, i64 count, i64 *answers)
{
    Work work, *w = &work;
    i64 batch_size = BLOCK, L = net->layers, n_in = net->sizes[0], n_out = net->sizes[L];
    if (!prepare(w, net, batch_size, 0, 0))
        return 0;
    for (i64 k = 0; k < count; k += BLOCK) {
        i64 m = count - k < BLOCK ? count - k : BLOCK;
        for (i64 q = 0; q < m * n_in; q++)
            w->activations[q] = images[k * n_in + q] * (1.0f / 255);
        forward(net, w, batch_size, m, 0);
        for (i64 i = 0; i < m; i++)
            answers[k + i] = brightest(ROWS(w->activations, L) + i * n_out, n_out);
    }
    release(w);
    return 1;
}

/* ---- deskewing (deskew.py), once before training ---------------------------------------------- */

/* out[c] = the line (side numbers, each `step` apart) read at c + offset, linearly between the two
   numbers either side, 0 off the line. */
static void read_along(const float *line, i64 step, i64 side, double offset, float *out)
{
    offset = offset < -side - 1 ? -side - 1 : offset > side ? side : offset;
    double whole = floor(offset);
    float f = (float)(offset - whole);
    for (i64 c = 0, i = (i64)whole; c < side; c++, i++) {
        float before = i >= 0 && i < side ? line[i * step] : 0.0f;
        float after = i + 1 >= 0 && i + 1 < side ? line[(i + 1) * step] : 0.0f;
        out[c] = (1 - f) * before + f * after;
    }
}

/* Each of n images of side × side pixels sheared upright and centred on its ink, as deskew.py
   deskews (on the pixels 0-255 rather than on them / 255: the same but for rounding). */
int dn_deskew(const uint8_t *in, i64 n, i64 side, uint8_t *out)
{
    i64 pixels = side * side;
    float *image = malloc(3 * pixels * sizeof(float)), *columns = image + pixels, *line = columns + pixels;
    double *by_row = malloc(2 * side * sizeof(double)), *by_column = by_row + side, middle = (side - 1) / 2.0;
    if (!image || !by_row) {
        free(image);
        free(by_row);
        return 0;
    }
    for (i64 k = 0; k < n; k++) {
        const uint8_t *p = in + k * pixels;
        double mass = 0, down = 0, across = 0, spread = 0, drift = 0;
        for (i64 r = 0; r < side; r++)
            by_row[r] = by_column[r] = 0;
        for (i64 r = 0; r < side; r++)
            for (i64 c = 0; c < side; c++) {
                image[r * side + c] = p[r * side + c];
                by_row[r] += p[r * side + c];
                by_column[c] += p[r * side + c];
            }
        for (i64 r = 0; r < side; r++) {
            mass += by_row[r];
            down += r * by_row[r];
            across += r * by_column[r];
        }
        down = mass > 0 ? down / mass : middle;
        across = mass > 0 ? across / mass : middle;
        for (i64 r = 0; r < side; r++) {
            double across_row = 0;
            for (i64 c = 0; c < side; c++)
                across_row += (c - across) * image[r * side + c];
            spread += (r - down) * (r - down) * by_row[r];
            drift += (r - down) * across_row;
        }
        double alpha = spread > 0 ? drift / spread : 0;
        for (i64 c = 0; c < side; c++) {  /* down: each column from r̄ − m on */
            read_along(image + c, side, side, down - middle, line);
            for (i64 r = 0; r < side; r++)
                columns[r * side + c] = line[r];
        }
        for (i64 r = 0; r < side; r++) {  /* across: each row from α (r − m) + c̄ − m on */
            read_along(columns + r * side, 1, side, alpha * (r - middle) + across - middle, line);
            for (i64 c = 0; c < side; c++) {
                float v = rintf(line[c]);
                out[k * pixels + r * side + c] = v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
            }
        }
    }
    free(image);
    free(by_row);
    return 1;
}

/* ---- the pieces alone, for the tests to hold against the reference ---------------------------- */

void dn_activate(float *z, const float *b, i64 m, i64 n, i64 kind) { activate(z, b, m, n, kind); }
void dn_chain(float *delta, const float *a, i64 count, i64 kind) { chain(delta, a, count, kind); }
double dn_total_cost(const float *a, const i64 *labels, i64 m, i64 n, i64 cost) { return total_cost(a, labels, m, n, cost); }

void dn_output_delta(const float *a, const Plan *plan, i64 m, i64 n, i64 cost, float *delta)
{
    output_delta(a, plan->labels, plan, 0, m, n, cost, delta);
}

void dn_read_images(const Plan *plan, float *x) { read_images(plan, 0, plan->examples, x); }

/* Returns 0 if there was not enough memory, having changed nothing. */
int dn_distort(const Plan *plan, float *x)
{
    i64 side = plan->side;
    float *frame = malloc((size_t)((side + 3) * (side + 3)) * sizeof(float));
    float *fractions = malloc((size_t)(2 * side) * sizeof(float));
    i64 *where = malloc((size_t)side * sizeof(i64));
    int ok = frame && fractions && where;
    if (ok)
        distort(plan, 0, plan->examples, x, frame, where, fractions);
    free(frame);
    free(fractions);
    free(where);
    return ok;
}

/* A module with nothing in it, so that Python's import finds the library wherever pip put it;
 * kernels.py then opens it with ctypes. */
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, .m_name = "_kernels", .m_size = -1,
                                    .m_doc = "digitnet's compiled epoch (kernels.c), opened by kernels.py."};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
