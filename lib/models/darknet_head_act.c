/* darknet_head_act.c - the activations darknet's forward applies in its
 * heads ([softmax], [detection], [yolo], [region]): logistic and softmax
 * over the raw outputs, before any decoding (darknet_heads.c).  Shared by
 * the inference forward (darknet_forward.c) and the training forward
 * (darknet_train_step.c). */
#include "models/darknet_build.h"

#include <float.h>
#include <math.h>
#include <string.h>

static void logistic(float *x, size_t n)
{
	for (size_t i = 0; i < n; i++)
		x[i] = 1.f / (1.f + expf(-x[i]));
}

/* darknet's softmax(): n values `stride` apart, max subtracted. */
static void softmax(float *x, int n, float temp, int stride)
{
	float largest = -FLT_MAX, sum = 0;
	for (int i = 0; i < n; i++)
		if (x[i * stride] > largest)
			largest = x[i * stride];
	for (int i = 0; i < n; i++) {
		float e = expf(x[i * stride] / temp - largest / temp);
		sum += e;
		x[i * stride] = e;
	}
	for (int i = 0; i < n; i++)
		x[i * stride] /= sum;
}

/* A [yolo] head's output from its input (in may be out): each anchor's
 * x, y, objectness and classes through the logistic, w and h as they
 * are.  Rows of hw values are shared out among threads; each value is
 * one expression whoever computes it. */
void nk_dn_yolo_forward(const nk_dn_layer *l, float *out, const float *in,
			int B)
{
	size_t hw = (size_t)l->w * l->h;
	int per = 5 + l->classes, rows = B * l->num * per;
#pragma omp parallel for schedule(static) if ((size_t)rows * hw >= 1 << 14)
	for (int r = 0; r < rows; r++) {
		int ch = r % per;
		size_t at = (size_t)(r / (l->num * per)) * l->outputs +
			    (size_t)(r % (l->num * per)) * hw;
		if (ch == 2 || ch == 3) {
			if (out != in)
				memcpy(out + at, in + at, hw * sizeof *out);
			continue;
		}
		for (size_t k = 0; k < hw; k++)
			out[at + k] = 1.f / (1.f + expf(-in[at + k]));
	}
}

/* The heads' activations in place, as darknet's forward leaves them:
 * softmax over groups; yolov1's per-cell class softmax; yolo and region
 * logistic on x, y, objectness and (yolo, or region without softmax)
 * classes, region's softmax over each cell's classes.  Shared with the
 * training forward (darknet_train_step.c). */
void nk_dn_head_forward(const nk_dn_layer *l, float *out, int B)
{
	size_t hw = (size_t)l->w * l->h;
	if (l->type == NK_DN_SOFTMAX) {
		int n = (int)(l->inputs / (size_t)l->groups);
		for (int b = 0; b < B; b++)
			for (int g = 0; g < l->groups; g++)
				softmax(out + b * l->inputs + (size_t)g * n, n,
					l->temperature, 1);
		return;
	}
	if (l->type == NK_DN_DETECTION) {
		for (int b = 0; l->softmax && b < B; b++)
			for (int k = 0; k < l->side * l->side; k++)
				softmax(out + b * l->inputs +
					(size_t)k * l->classes, l->classes, 1, 1);
		return;
	}
	if (l->type == NK_DN_YOLO) {
		nk_dn_yolo_forward(l, out, out, B);
		return;
	}
	if (l->type != NK_DN_REGION)
		return;
	int coords = l->coords;
	size_t per = (size_t)(coords + 1 + l->classes) * hw;
	for (int b = 0; b < B; b++)
		for (int n = 0; n < l->num; n++) {
			float *p = out + b * l->outputs + n * per;
			logistic(p, 2 * hw);
			if (!l->background)
				logistic(p + coords * hw, hw);
			float *cls = p + (coords + !l->background) * hw;
			if (!l->softmax)
				logistic(p + (coords + 1) * hw,
					 (size_t)l->classes * hw);
			else
				for (size_t g = 0; g < hw; g++)
					softmax(cls + g, l->classes +
						l->background, 1, (int)hw);
		}
}
