/* progress.c - w2v-train's progress line: done, epoch, learning rate,
 * words per second per thread, time left. */
#include <stdio.h>

#include "cli.h"
#include "w2v_train_cmd.h"

void w2v_on_progress(void *ctx, const nk_w2v_progress *p)
{
	struct w2v_progress *pr = ctx;
	if (!pr->bar.enabled)
		return;
	double now = cli_now();
	if (now - pr->bar.last_draw < 0.2 && p->done < 1)
		return;
	pr->bar.last_draw = now;
	double el = now - pr->bar.start;
	double rate = el > 0 ? (double)p->words / el / p->threads : 0;
	double eta = p->done > 0 ? el / p->done - el : 0;
	char left[32];
	fprintf(stderr,
		"\r%s: %5.1f%%  epoch %d/%d  lr %.6f  %.1fk words/s/thread  "
		"ETA %s ",
		cli_prog, 100 * p->done, p->epoch, pr->epochs, p->alpha,
		rate / 1e3, cli_eta(left, sizeof left, eta));
	fflush(stderr);
}
