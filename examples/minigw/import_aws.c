/*
 * AWS's Generic / Vendor Agnostic configuration (the layout in
 * cloud-vpn-requirements.md 4.1): "IPsec Tunnel #N" sections, each with
 * "#1:".."#4:" parts (IKE, IPsec, tunnel interface, BGP) whose values
 * are "- Key : value" bullets.  Tolerated: any indent before the
 * bullet, the stray colon of "Customer Gateway:   :", IKEv1 or IKEv2,
 * no BGP part (static routing), keys we do not use.  Refused, with the
 * line: a value we cannot map, a tunnel that lacks what minigw needs.
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

#define MAXT 4 /* a connection has 2; tolerate a few more */

struct atun {
	int line;  /* of its "IPsec Tunnel #N" */
	int ikev1; /* IKE version: IKEv1 */
	char psk[MGW_PSK_MAX + 1];
	char ike_enc[16], ike_auth[16], ike_dh[16];
	char esp_enc[16], esp_auth[16], esp_dh[16];
	uint32_t ike_life, child_life, dpd_int, dpd_retries, mtu, mss;
	char cgw_out[64], vgw_out[64], cgw_in[64], vgw_in[64];
	uint32_t cgw_asn, vgw_asn, hold;
	char nb[64];
	int has_bgp;
};

struct actx {
	const char *path;
	char *err;
	size_t errlen;
	int line;
};

static int
ifail(struct actx *x, const char *fmt, ...)
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

/* The last decimal number in s ("Group 14", "28800 seconds"), or -1. */
static int64_t
last_num(const char *s)
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

/* The first number in s ("1387 bytes"), or -1. */
static int64_t
first_num(const char *s)
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

static int
word(const char *v, const char *const *w, const char *const *to, char *out,
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

static const char *const enc_w[] = { "aes-128-cbc", "aes128", "aes-256-cbc",
	"aes256", "aes-128-gcm-16", "aes128-gcm-16", "aes-256-gcm-16",
	"aes256-gcm-16", NULL };
static const char *const enc_to[] = { "aes128", "aes128", "aes256", "aes256",
	"aes128gcm16", "aes128gcm16", "aes256gcm16", "aes256gcm16" };
static const char *const auth_w[] = { "sha1", "hmac-sha1-96", "sha2-256",
	"sha256", "hmac-sha2-256-128", "sha2-384", "sha384",
	"hmac-sha2-384-192", "sha2-512", "sha512", "hmac-sha2-512-256", NULL };
static const char *const auth_to[] = { "sha1", "sha1", "sha256", "sha256",
	"sha256", "sha384", "sha384", "sha384", "sha512", "sha512", "sha512" };

/* DH group number to the library's name (AWS-IKE-2/3 groups it has). */
static const char *
dh_name(int64_t g)
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

static int
addr_ok(const char *s, int prefix)
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
		if (last_num(slash + 1) < 0 || last_num(slash + 1) > 32)
			return 0;
	}
	return inet_pton(AF_INET, buf, a) == 1;
}

/* One "- Key : value" of tunnel t in part sec (1-4; sub 1 = outside
 * addresses, 2 = inside).  Keys we do not use are skipped. */
static int
bullet(struct actx *x, struct atun *t, int sec, int sub, const char *key,
    const char *v)
{
	int64_t n;
	const char *dh;
	int esp = sec == 2;

	if (strcasecmp(key, "IKE version") == 0) {
		if (strcasecmp(v, "IKEv1") != 0 && strcasecmp(v, "IKEv2") != 0)
			return ifail(x, "%s: '%s' (allowed: IKEv1, IKEv2)", key,
			    v);
		t->ikev1 = strcasecmp(v, "IKEv1") == 0;
	} else if (strcasecmp(key, "Pre-Shared Key") == 0) {
		/* Measured, never cut; the key is not quoted back. */
		if (strlen(v) < MGW_PSK_MIN || strlen(v) > MGW_PSK_MAX)
			return ifail(x, "%s: %zu characters (allowed %d-%d)",
			    key, strlen(v), MGW_PSK_MIN, MGW_PSK_MAX);
		snprintf(t->psk, sizeof(t->psk), "%s", v);
	} else if (strcasecmp(key, "Encryption Algorithm") == 0 &&
	    (sec == 1 || sec == 2)) {
		if (word(v, enc_w, enc_to, esp ? t->esp_enc : t->ike_enc,
			sizeof(t->ike_enc)) < 0)
			return ifail(x,
			    "%s: '%s' is not one minigw maps (e.g. "
			    "aes-128-cbc, aes-256-gcm-16)",
			    key, v);
	} else if (strcasecmp(key, "Authentication Algorithm") == 0 &&
	    (sec == 1 || sec == 2)) {
		if (word(v, auth_w, auth_to, esp ? t->esp_auth : t->ike_auth,
			sizeof(t->ike_auth)) < 0)
			return ifail(x,
			    "%s: '%s' is not one minigw maps (e.g. sha1, "
			    "sha2-256, hmac-sha1-96)",
			    key, v);
	} else if (strcasecmp(key, "Diffie-Hellman") == 0 ||
	    strcasecmp(key, "Perfect Forward Secrecy") == 0) {
		if ((dh = dh_name(last_num(v))) == NULL)
			return ifail(x,
			    "%s: '%s' is not a group minigw has (2, 14, 15, "
			    "16, 19, 20, 21, 24)",
			    key, v);
		snprintf(esp ? t->esp_dh : t->ike_dh, sizeof(t->ike_dh), "%s",
		    dh);
	} else if (strcasecmp(key, "Lifetime") == 0 && (sec == 1 || sec == 2)) {
		if ((n = first_num(v)) < 1)
			return ifail(x, "%s: '%s' is not a number of seconds",
			    key, v);
		*(esp ? &t->child_life : &t->ike_life) = (uint32_t)n;
	} else if (strcasecmp(key, "DPD Interval") == 0 ||
	    strcasecmp(key, "DPD Retries") == 0) {
		if ((n = first_num(v)) < 1 || n > 3600)
			return ifail(x, "%s: '%s' is not 1-3600", key, v);
		*(key[4] == 'I' || key[4] == 'i' ? &t->dpd_int :
						   &t->dpd_retries) =
		    (uint32_t)n;
	} else if (strcasecmp(key, "TCP MSS Adjustment") == 0 ||
	    strcasecmp(key, "Tunnel interface MTU") == 0) {
		if ((n = first_num(v)) < 536 || n > 9000)
			return ifail(x, "%s: '%s' is not 536-9000 bytes", key,
			    v);
		*(key[0] == 'T' && key[1] == 'C' ? &t->mss : &t->mtu) =
		    (uint32_t)n;
	} else if (sec == 3 && sub != 0 &&
	    (strcasecmp(key, "Customer Gateway") == 0 ||
		strcasecmp(key, "Virtual Private Gateway") == 0)) {
		int cgw = key[0] == 'C' || key[0] == 'c';
		char *dst = sub == 1 ? (cgw ? t->cgw_out : t->vgw_out) :
				       (cgw ? t->cgw_in : t->vgw_in);

		/* The customer's outside address may be a placeholder. */
		if (!addr_ok(v, sub == 2) && !(sub == 1 && cgw))
			return ifail(x, "%s: '%s' is not an IPv4 %s", key, v,
			    sub == 2 ? "address/length" : "address");
		snprintf(dst, 64, "%s", addr_ok(v, 0) || sub == 2 ? v : "");
	} else if (strcasecmp(key, "Customer Gateway ASN") == 0 ||
	    strcasecmp(key, "Virtual Private Gateway ASN") == 0) {
		n = last_num(v);
		if (key[0] == 'V' || key[0] == 'v') {
			if (n < 1 || !mgw_asn_ok((uint64_t)n))
				return ifail(x, "%s: '%s' is not an AS number",
				    key, v);
			t->vgw_asn = (uint32_t)n;
		} else /* YOUR_BGP_ASN: --local-as */
			t->cgw_asn =
			    n > 0 && mgw_asn_ok((uint64_t)n) ? (uint32_t)n : 0;
		t->has_bgp = 1;
	} else if (strcasecmp(key, "Neighbor IP Address") == 0) {
		if (!addr_ok(v, 0))
			return ifail(x, "%s: '%s' is not an IPv4 address", key,
			    v);
		snprintf(t->nb, sizeof(t->nb), "%s", v);
		t->has_bgp = 1;
	} else if (strcasecmp(key, "Neighbor Hold Time") == 0) {
		if ((n = first_num(v)) != 0 && (n < 3 || n > 65535))
			return ifail(x, "%s: '%s' is not 0 or 3-65535", key, v);
		t->hold = (uint32_t)n;
	}
	return 0;
}

static void
trim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (isspace((unsigned char)s[n - 1]) || s[n - 1] == ':'))
		s[--n] = '\0';
}

/* What minigw needs from one tunnel, then the tunnel as YAML. */
static int
emit_tunnel(struct actx *x, const struct atun *t, int i,
    const struct mgw_import_opts *o, FILE *out)
{
	static const char *const need[] = { "Pre-Shared Key",
		"Virtual Private Gateway outside address",
		"Customer Gateway inside address", "Encryption Algorithm (IKE)",
		"Encryption Algorithm (IPsec)", NULL };
	const char *have[] = { t->psk, t->vgw_out, t->cgw_in, t->ike_enc,
		t->esp_enc };
	const char *local = t->cgw_out[0] ? t->cgw_out : o->local;
	int k, gcm;

	x->line = t->line;
	for (k = 0; need[k] != NULL; k++)
		if (have[k][0] == '\0')
			return ifail(x, "IPsec Tunnel #%d: no %s", i + 1,
			    need[k]);
	if (local == NULL || !addr_ok(local, 0))
		return ifail(x,
		    "IPsec Tunnel #%d: the Customer Gateway outside address "
		    "is a placeholder: give --local ADDRESS",
		    i + 1);
	fprintf(out, "  - name: aws%d\n    profile: aws\n", i + 1);
	if (t->ikev1)
		fprintf(out,
		    "    # IKEv1 in the file: minigw speaks IKEv2, "
		    "which AWS permits by default (AWS-IKE-1)\n");
	fprintf(out, "    local: %s\n    remote: %s\n", local, t->vgw_out);
	/* AWS's PSK characters need no quoting; quoted all the same. */
	fprintf(out, "    psk: \"");
	for (k = 0; t->psk[k]; k++)
		fprintf(out,
		    t->psk[k] == '"' || t->psk[k] == '\\' ? "\\%c" : "%c",
		    t->psk[k]);
	fprintf(out, "\"\n");
	/* GCM carries its own integrity (IKE keeps a PRF). */
	gcm = strstr(t->ike_enc, "gcm") != NULL;
	fprintf(out, "    ike_proposals: [%s%s%s%s%s%s]\n", t->ike_enc,
	    t->ike_auth[0] ? "-" : "", gcm && t->ike_auth[0] ? "prf" : "",
	    t->ike_auth, t->ike_dh[0] ? "-" : "", t->ike_dh);
	gcm = strstr(t->esp_enc, "gcm") != NULL;
	fprintf(out, "    esp_proposals: [%s%s%s%s%s]\n", t->esp_enc,
	    !gcm && t->esp_auth[0] ? "-" : "", gcm ? "" : t->esp_auth,
	    t->esp_dh[0] ? "-" : "", t->esp_dh);
	if (t->ike_life)
		fprintf(out, "    ike_lifetime: %" PRIu32 "\n", t->ike_life);
	if (t->child_life)
		fprintf(out, "    child_lifetime: %" PRIu32 "\n",
		    t->child_life);
	if (t->dpd_int) {
		fprintf(out, "    dpd_interval: %" PRIu32 "\n", t->dpd_int);
		fprintf(out, "    dpd_timeout: %" PRIu32 "\n",
		    t->dpd_int * (t->dpd_retries ? t->dpd_retries : 3));
	}
	fprintf(out, "    address: %s\n", t->cgw_in);
	if (t->mtu)
		fprintf(out, "    mtu: %" PRIu32 "\n", t->mtu);
	if (t->mss)
		fprintf(out, "    mss: %" PRIu32 "\n", t->mss);
	return 0;
}

int
mgw_import_aws_generic(const char *path, const char *text, size_t len,
    const struct mgw_import_opts *o, FILE *out, char *err, size_t errlen)
{
	struct atun tun[MAXT];
	struct actx x = { path, err, errlen, 0 };
	char line[1024], *key, *val, *sep;
	const char *p = text, *end = text + len, *nl;
	int cur = -1, sec = 0, sub = 0, n = 0, i, bgp = 0;
	uint32_t las = 0;
	int64_t num;
	size_t k;

	memset(tun, 0, sizeof(tun));
	for (x.line = 1; p < end; x.line++, p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if ((size_t)(nl - p) >= sizeof(line))
			return ifail(&x, "line longer than %zu characters",
			    sizeof(line) - 1);
		memcpy(line, p, (size_t)(nl - p));
		line[nl - p] = '\0';
		if (memchr(line, '\0', (size_t)(nl - p)) != NULL)
			return ifail(&x, "a NUL byte: not a text file");
		for (k = 0; line[k] != '\0'; k++)
			if (line[k] == '\r' || line[k] == '\t')
				line[k] = ' ';
		key = line;
		while (*key == ' ')
			key++;
		if (strncmp(key, "IPsec Tunnel #", 14) == 0) {
			num = first_num(key + 14);
			if (num < 1 || num > MAXT)
				return ifail(&x,
				    "IPsec Tunnel #%s: allowed 1-%d", key + 14,
				    MAXT);
			cur = (int)num - 1;
			if (tun[cur].line != 0)
				return ifail(&x,
				    "IPsec Tunnel #%d given twice (first on "
				    "line %d)",
				    cur + 1, tun[cur].line);
			tun[cur].line = x.line;
			n = cur + 1 > n ? cur + 1 : n;
			sec = sub = 0;
			continue;
		}
		if (key[0] == '#' && key[1] >= '1' && key[1] <= '4' &&
		    key[2] == ':') {
			sec = key[1] - '0';
			sub = 0;
			continue;
		}
		if (strncasecmp(key, "Outside IP Addresses", 20) == 0)
			sub = 1;
		else if (strncasecmp(key, "Inside IP Addresses", 19) == 0)
			sub = 2;
		/* Bullets only inside a tunnel; the rest is prose. */
		if (key[0] != '-' || key[1] != ' ' || cur < 0)
			continue;
		key += 2;
		if ((sep = strstr(key, " : ")) == NULL)
			continue;
		*sep = '\0';
		val = sep + 3;
		trim(key);
		while (*val == ' ')
			val++;
		trim(val);
		if (bullet(&x, &tun[cur], sec, sub, key, val) < 0)
			return -1;
	}
	x.line = 1;
	if (n == 0)
		return ifail(&x,
		    "no 'IPsec Tunnel #N' section: not an AWS "
		    "Generic configuration");
	for (i = 0; i < n; i++) {
		if (tun[i].line == 0) {
			x.line = 1;
			return ifail(&x, "IPsec Tunnel #%d is missing", i + 1);
		}
		if (tun[i].has_bgp) {
			bgp = 1;
			if (tun[i].nb[0] == '\0' || tun[i].vgw_asn == 0) {
				x.line = tun[i].line;
				return ifail(&x,
				    "IPsec Tunnel #%d: a BGP part without "
				    "Neighbor IP Address or Virtual Private "
				    "Gateway ASN",
				    i + 1);
			}
			if (las == 0)
				las = tun[i].cgw_asn;
		}
	}
	if (bgp && las == 0)
		las = o->local_as;
	if (bgp && las == 0) {
		x.line = tun[0].line;
		return ifail(&x,
		    "the Customer Gateway ASN is a placeholder: "
		    "give --local-as N");
	}
	fprintf(out,
	    "# minigw configuration imported from %s (AWS Generic "
	    "configuration)\n",
	    path);
	if (bgp)
		fprintf(out, "global:\n  local_as: %" PRIu32 "\n", las);
	fprintf(out, "tunnels:\n");
	for (i = 0; i < n; i++)
		if (emit_tunnel(&x, &tun[i], i, o, out) < 0)
			return -1;
	if (!bgp) {
		fprintf(out,
		    "# static routing: add routes: [{prefix: ..., "
		    "tunnel: aws1}, {prefix: ..., tunnel: aws2}]\n");
		return ferror(out) ? -1 : 0;
	}
	fprintf(out, "bgp:\n  neighbors:\n");
	for (i = 0; i < n; i++) {
		if (!tun[i].has_bgp)
			continue;
		fprintf(out,
		    "    - address: %s\n      remote_as: %" PRIu32
		    "\n      tunnel: aws%d\n",
		    tun[i].nb, tun[i].vgw_asn, i + 1);
		if (tun[i].hold)
			fprintf(out, "      hold_time: %" PRIu32 "\n",
			    tun[i].hold);
	}
	fprintf(out, "  # networks: [the prefixes to advertise]\n");
	return ferror(out) ? -1 : 0;
}

int
mgw_import_main(int argc, char **argv)
{
	struct mgw_import_opts o = { NULL, 0 };
	char err[512], *buf;
	const char *kind, *file;
	uint64_t v;
	size_t len;
	FILE *f;
	int i, rc;

	if (argc < 3) {
		fprintf(stderr,
		    "usage: minigw import aws-generic FILE "
		    "[--local ADDRESS] [--local-as N]\n");
		return MGW_EXIT_USAGE;
	}
	kind = argv[1];
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
	if (strcmp(kind, "aws-generic") != 0) {
		fprintf(stderr,
		    "minigw import: '%s' (allowed: aws-generic; "
		    "azure-sample is not done yet)\n",
		    kind);
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
	rc = mgw_import_aws_generic(file, buf, len, &o, stdout, err,
	    sizeof(err));
	explicit_bzero(buf, len);
	free(buf);
	if (rc < 0) {
		fprintf(stderr, "minigw import: %s\n", err);
		return MGW_EXIT_CONFIG;
	}
	return fflush(stdout) == 0 ? MGW_EXIT_OK : MGW_EXIT_RUNTIME;
}
