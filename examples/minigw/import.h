/*
 * `minigw import aws-generic|azure-sample FILE`: a cloud's own file
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

/*
 * Azure's downloaded device configuration sample: the parameter block of
 * comment lines ("[1] Network parameters", "[2] IPsec/IKE parameters",
 * "[3] BGP parameters ..."), one tunnel per gateway public IP.  Same
 * contract as mgw_import_aws_generic.
 */
int mgw_import_azure_sample(const char *path, const char *text, size_t len,
    const struct mgw_import_opts *o, FILE *out, char *err, size_t errlen);

/* `minigw import KIND FILE [--local ADDR] [--local-as N]`: exit code. */
int mgw_import_main(int argc, char **argv);

/* ---- shared by the importers (import.c) ---- */

/* Where a refusal points: "PATH:LINE: what". */
struct mgw_ictx {
	const char *path;
	char *err;
	size_t errlen;
	int line;
};

/* Cipher, integrity and DH group in minigw's spelling ("" = none). */
struct mgw_iprop {
	char enc[16], auth[16], dh[16];
};

int mgw_ifail(struct mgw_ictx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The next line of [*p, end) into line (CR and tabs made spaces), with
 * x->line counted: 1, 0 at the end, -1 (refused: too long, a NUL). */
int mgw_inext(struct mgw_ictx *x, const char **p, const char *end, char *line,
    size_t size);
/* The last / first decimal number in s, or -1 (none, above UINT32_MAX). */
int64_t mgw_last_num(const char *s);
int64_t mgw_first_num(const char *s);
/* v (any case) found in w: out = the same index of to; else -1. */
int mgw_iword(const char *v, const char *const *w, const char *const *to,
    char *out, size_t outlen);
/* A DH group number as the library names it, or NULL. */
const char *mgw_dh_name(int64_t g);
/* An IPv4 address (prefix 0) or address/length (prefix 1). */
int mgw_addr_ok(const char *s, int prefix);
/* Trailing blanks and colons off. */
void mgw_itrim(char *s);
/* "    psk: ..." and "    ike_proposals: [...]" / esp_proposals. */
void mgw_emit_psk(FILE *out, const char *psk);
void mgw_emit_proposals(FILE *out, const struct mgw_iprop *ike,
    const struct mgw_iprop *esp);

#endif /* MGW_IMPORT_H */
