/*
 * `minigw import aws-generic FILE`: a cloud's own configuration file
 * turned into a minigw configuration (YAML, profile set) that passes
 * `minigw --check`.  See minigw(8), IMPORT.
 */
#ifndef MGW_IMPORT_H
#define MGW_IMPORT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct mgw_import_opts {
	const char *local; /* our outside address, for a placeholder */
	uint32_t local_as; /* our ASN, for a placeholder; 0 = none */
};

/*
 * AWS's "Generic / Vendor Agnostic" text (both tunnels: outside and
 * inside addresses, PSK, proposals, lifetimes, DPD, MTU/MSS, BGP).
 * Writes the configuration to out; 0, or -1 with "PATH:LINE: what" in
 * err (the PSK never goes into err).
 */
int mgw_import_aws_generic(const char *path, const char *text, size_t len,
    const struct mgw_import_opts *o, FILE *out, char *err, size_t errlen);

/* `minigw import KIND FILE [--local ADDR] [--local-as N]`: exit code. */
int mgw_import_main(int argc, char **argv);

#endif /* MGW_IMPORT_H */
