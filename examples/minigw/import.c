/*
 * What the cloud importers share (import_aws.c, import_azure.c): line
 * splitting with line numbers, number and address checks, the mapping of
 * DH groups, the YAML for a PSK and for proposals, and `minigw import`.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "import.h"

int
mgw_ifail(struct mgw_ictx *x, const char *fmt, ...)
{
	va_list ap;
	size_t k;

	k = (size_t)snprintf(x->err, x->errlen, "%s:%d: ", x->path, x->line);
	if (k < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + k, x->errlen - k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

int
mgw_inext(struct mgw_ictx *x, const char **p, const char *end, char *line,
    size_t size)
{
	const char *nl;
	size_t k, n;

	if (*p >= end)
		return 0;
	x->line++;
	if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
		nl = end;
	n = (size_t)(nl - *p);
	if (n >= size)
		return mgw_ifail(x, "line longer than %zu characters",
		    size - 1);
	memcpy(line, *p, n);
	line[n] = '\0';
	*p = nl + 1;
	if (memchr(line, '\0', n) != NULL)
		return mgw_ifail(x, "a NUL byte: not a text file");
	for (k = 0; k < n; k++)
		if (line[k] == '\r' || line[k] == '\t')
			line[k] = ' ';
	return 1;
}

int64_t
mgw_last_num(const char *s)
{
	const char *p, *start = NULL;
	int64_t v = 0;

	for (p = s; *p; p++)
		if (isdigit((unsigned char)*p) &&
		    (p == s || !isdigit((unsigned char)p[-1])))
			start = p;
	if (start == NULL)
		return -1;
	for (p = start; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	return v;
}

int64_t
mgw_first_num(const char *s)
{
	int64_t v = 0;

	while (*s && !isdigit((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	for (; isdigit((unsigned char)*s); s++) {
		v = v * 10 + (*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	return v;
}

int
mgw_iword(const char *v, const char *const *w, const char *const *to, char *out,
    size_t outlen)
{
	int i;

	for (i = 0; w[i] != NULL; i++)
		if (strcasecmp(v, w[i]) == 0) {
			snprintf(out, outlen, "%s", to[i]);
			return 0;
		}
	return -1;
}

const char *
mgw_dh_name(int64_t g)
{
	switch (g) {
	case 2:
		return "modp1024";
	case 14:
		return "modp2048";
	case 15:
		return "modp3072";
	case 16:
		return "modp4096";
	case 19:
		return "ecp256";
	case 20:
		return "ecp384";
	case 21:
		return "ecp521";
	case 24:
		return "modp2048s256";
	}
	return NULL;
}

int
mgw_addr_ok(const char *s, int prefix)
{
	char buf[64], *slash;
	unsigned char a[16];

	if (strlen(s) >= sizeof(buf))
		return 0;
	snprintf(buf, sizeof(buf), "%s", s);
	slash = strchr(buf, '/');
	if ((slash != NULL) != prefix)
		return 0;
	if (slash != NULL) {
		*slash = '\0';
		if (!isdigit((unsigned char)slash[1]) ||
		    mgw_last_num(slash + 1) < 0 ||
		    mgw_last_num(slash + 1) > 32 ||
		    strspn(slash + 1, "0123456789") != strlen(slash + 1))
			return 0;
	}
	return inet_pton(AF_INET, buf, a) == 1;
}

void
mgw_itrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == ':'))
		s[--n] = '\0';
}

void
mgw_emit_psk(FILE *out, const char *psk)
{
	int k;

	/* Quoted, so that YAML takes any character as it is. */
	fprintf(out, "    psk: \"");
	for (k = 0; psk[k]; k++)
		fprintf(out, psk[k] == '"' || psk[k] == '\\' ? "\\%c" : "%c",
		    psk[k]);
	fprintf(out, "\"\n");
}

void
mgw_emit_proposals(FILE *out, const struct mgw_iprop *ike,
    const struct mgw_iprop *esp)
{
	int gcm;

	/* GCM carries its own integrity (IKE keeps a PRF). */
	gcm = strstr(ike->enc, "gcm") != NULL;
	fprintf(out, "    ike_proposals: [%s%s%s%s%s%s]\n", ike->enc,
	    ike->auth[0] ? "-" : "", gcm && ike->auth[0] ? "prf" : "",
	    ike->auth, ike->dh[0] ? "-" : "", ike->dh);
	gcm = strstr(esp->enc, "gcm") != NULL;
	fprintf(out, "    esp_proposals: [%s%s%s%s%s]\n", esp->enc,
	    !gcm && esp->auth[0] ? "-" : "", gcm ? "" : esp->auth,
	    esp->dh[0] ? "-" : "", esp->dh);
}

int
mgw_import_main(int argc, char **argv)
{
	static const struct {
		const char *kind;
		int (*fn)(const char *, const char *, size_t,
		    const struct mgw_import_opts *, FILE *, char *, size_t);
	} kinds[] = { { "aws-generic", mgw_import_aws_generic },
		{ "azure-sample", mgw_import_azure_sample } };
	struct mgw_import_opts o = { NULL, 0 };
	char err[512], *buf;
	const char *file;
	uint64_t v;
	size_t len, k;
	FILE *f;
	int i, rc;

	if (argc < 3) {
		fprintf(stderr,
		    "usage: minigw import aws-generic|azure-sample FILE "
		    "[--local ADDRESS] [--local-as N]\n");
		return MGW_EXIT_USAGE;
	}
	file = argv[2];
	for (i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--local") == 0 && i + 1 < argc)
			o.local = argv[++i];
		else if (strcmp(argv[i], "--local-as") == 0 && i + 1 < argc &&
		    mgw_parse_u64(argv[i + 1], &v) == 0 && mgw_asn_ok(v)) {
			o.local_as = (uint32_t)v;
			i++;
		} else {
			fprintf(stderr, "minigw import: bad argument '%s'\n",
			    argv[i]);
			return MGW_EXIT_USAGE;
		}
	}
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
		if (strcmp(argv[1], kinds[k].kind) == 0)
			break;
	if (k == sizeof(kinds) / sizeof(kinds[0])) {
		fprintf(stderr,
		    "minigw import: '%s' (allowed: aws-generic, "
		    "azure-sample)\n",
		    argv[1]);
		return MGW_EXIT_USAGE;
	}
	if ((f = fopen(file, "r")) == NULL) {
		fprintf(stderr, "minigw import: %s: cannot read it\n", file);
		return MGW_EXIT_CONFIG;
	}
	buf = malloc(1 << 20);
	len = buf != NULL ? fread(buf, 1, 1 << 20, f) : 0;
	fclose(f);
	if (buf == NULL || len == 1 << 20) {
		fprintf(stderr, "minigw import: %s: %s\n", file,
		    buf == NULL ? "out of memory" : "longer than 1 MiB");
		free(buf);
		return MGW_EXIT_CONFIG;
	}
	rc = kinds[k].fn(file, buf, len, &o, stdout, err, sizeof(err));
	explicit_bzero(buf, len);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "minigw import: %s\n", err);
		return MGW_EXIT_CONFIG;
	}
	return fflush(stdout) == 0 ? MGW_EXIT_OK : MGW_EXIT_RUNTIME;
}
