/* detect.h - what detect's subcommand files share. */
#ifndef DETECT_CMD_H
#define DETECT_CMD_H

#include <stdio.h>

#include "models/darknet.h"

int detect_run(int argc, char **argv);
int detect_import(int argc, char **argv);
int detect_export(int argc, char **argv);

/* The model from -c/-w or from -m; exits with the library's message.
 * Unless quiet, warns of the cfg's keys that no layer reads.  infer: only
 * to run it (prepared for inference, the parameters themselves let go). */
void detect_load_model(nk_darknet *net, const char *cfg, const char *weights,
		       const char *nkw, int quiet, int infer,
		       void (*usage)(FILE *));

#endif
