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
	struct mgw_iprop ike, esp;
	uint32_t ike_life, child_life, dpd_int, dpd_retries, mtu, mss;
	char cgw_out[64], vgw_out[64], cgw_in[64], vgw_in[64];
	uint32_t cgw_asn, vgw_asn, hold;
	char nb[64];
	int has_bgp;
};

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

/* One "- Key : value" of tunnel t in part sec (1-4; sub 1 = outside
 * addresses, 2 = inside).  Keys we do not use are skipped. */
static int
bullet(struct mgw_ictx *x, struct atun *t, int sec, int sub, const char *key,
    const char *v)
{
	int64_t n;
	const char *dh;
	int esp = sec == 2;

	if (strcasecmp(key, "IKE version") == 0) {
		if (strcasecmp(v, "IKEv1") != 0 && strcasecmp(v, "IKEv2") != 0)
			return mgw_ifail(x, "%s: '%s' (allowed: IKEv1, IKEv2)",
			    key, v);
		t->ikev1 = strcasecmp(v, "IKEv1") == 0;
	} else if (strcasecmp(key, "Pre-Shared Key") == 0) {
		/* Measured, never cut; the key is not quoted back. */
		if (strlen(v) < MGW_PSK_MIN || strlen(v) > MGW_PSK_MAX)
			return mgw_ifail(x,
			    "%s: %zu characters (allowed %d-%d)", key,
			    strlen(v), MGW_PSK_MIN, MGW_PSK_MAX);
		snprintf(t->psk, sizeof(t->psk), "%s", v);
	} else if (strcasecmp(key, "Encryption Algorithm") == 0 &&
	    (sec == 1 || sec == 2)) {
		if (mgw_iword(v, enc_w, enc_to, esp ? t->esp.enc : t->ike.enc,
			sizeof(t->ike.enc)) < 0)
			return mgw_ifail(x,
			    "%s: '%s' is not one minigw maps (e.g. "
			    "aes-128-cbc, aes-256-gcm-16)",
			    key, v);
	} else if (strcasecmp(key, "Authentication Algorithm") == 0 &&
	    (sec == 1 || sec == 2)) {
		if (mgw_iword(v, auth_w, auth_to,
			esp ? t->esp.auth : t->ike.auth,
			sizeof(t->ike.auth)) < 0)
			return mgw_ifail(x,
			    "%s: '%s' is not one minigw maps (e.g. sha1, "
			    "sha2-256, hmac-sha1-96)",
			    key, v);
	} else if (strcasecmp(key, "Diffie-Hellman") == 0 ||
	    strcasecmp(key, "Perfect Forward Secrecy") == 0) {
		if ((dh = mgw_dh_name(mgw_last_num(v))) == NULL)
			return mgw_ifail(x,
			    "%s: '%s' is not a group minigw has (2, 14, 15, "
			    "16, 19, 20, 21, 24)",
			    key, v);
		snprintf(esp ? t->esp.dh : t->ike.dh, sizeof(t->ike.dh), "%s",
		    dh);
	} else if (strcasecmp(key, "Lifetime") == 0 && (sec == 1 || sec == 2)) {
		if ((n = mgw_first_num(v)) < 1)
			return mgw_ifail(x,
			    "%s: '%s' is not a number of seconds", key, v);
		*(esp ? &t->child_life : &t->ike_life) = (uint32_t)n;
	} else if (strcasecmp(key, "DPD Interval") == 0 ||
	    strcasecmp(key, "DPD Retries") == 0) {
		if ((n = mgw_first_num(v)) < 1 || n > 3600)
			return mgw_ifail(x, "%s: '%s' is not 1-3600", key, v);
		*(key[4] == 'I' || key[4] == 'i' ? &t->dpd_int :
						   &t->dpd_retries) =
		    (uint32_t)n;
	} else if (strcasecmp(key, "TCP MSS Adjustment") == 0 ||
	    strcasecmp(key, "Tunnel interface MTU") == 0) {
		if ((n = mgw_first_num(v)) < 536 || n > 9000)
			return mgw_ifail(x, "%s: '%s' is not 536-9000 bytes",
			    key, v);
		*(key[0] == 'T' && key[1] == 'C' ? &t->mss : &t->mtu) =
		    (uint32_t)n;
	} else if (sec == 3 && sub != 0 &&
	    (strcasecmp(key, "Customer Gateway") == 0 ||
		strcasecmp(key, "Virtual Private Gateway") == 0)) {
		int cgw = key[0] == 'C' || key[0] == 'c';
		char *dst = sub == 1 ? (cgw ? t->cgw_out : t->vgw_out) :
				       (cgw ? t->cgw_in : t->vgw_in);

		/* The customer's outside address may be a placeholder. */
		if (!mgw_addr_ok(v, sub == 2) && !(sub == 1 && cgw))
			return mgw_ifail(x, "%s: '%s' is not an IPv4 %s", key,
			    v, sub == 2 ? "address/length" : "address");
		snprintf(dst, 64, "%s", mgw_addr_ok(v, 0) || sub == 2 ? v : "");
	} else if (strcasecmp(key, "Customer Gateway ASN") == 0 ||
	    strcasecmp(key, "Virtual Private Gateway ASN") == 0) {
		n = mgw_last_num(v);
		if (key[0] == 'V' || key[0] == 'v') {
			if (n < 1 || !mgw_asn_ok((uint64_t)n))
				return mgw_ifail(x,
				    "%s: '%s' is not an AS number", key, v);
			t->vgw_asn = (uint32_t)n;
		} else /* YOUR_BGP_ASN: --local-as */
			t->cgw_asn =
			    n > 0 && mgw_asn_ok((uint64_t)n) ? (uint32_t)n : 0;
		t->has_bgp = 1;
	} else if (strcasecmp(key, "Neighbor IP Address") == 0) {
		if (!mgw_addr_ok(v, 0))
			return mgw_ifail(x, "%s: '%s' is not an IPv4 address",
			    key, v);
		snprintf(t->nb, sizeof(t->nb), "%s", v);
		t->has_bgp = 1;
	} else if (strcasecmp(key, "Neighbor Hold Time") == 0) {
		if ((n = mgw_first_num(v)) != 0 && (n < 3 || n > 65535))
			return mgw_ifail(x, "%s: '%s' is not 0 or 3-65535", key,
			    v);
		t->hold = (uint32_t)n;
	}
	return 0;
}

/* What minigw needs from one tunnel, then the tunnel as YAML. */
static int
emit_tunnel(struct mgw_ictx *x, const struct atun *t, int i,
    const struct mgw_import_opts *o, FILE *out)
{
	static const char *const need[] = { "Pre-Shared Key",
		"Virtual Private Gateway outside address",
		"Customer Gateway inside address", "Encryption Algorithm (IKE)",
		"Encryption Algorithm (IPsec)", NULL };
	const char *have[] = { t->psk, t->vgw_out, t->cgw_in, t->ike.enc,
		t->esp.enc };
	const char *local = t->cgw_out[0] ? t->cgw_out : o->local;
	int k;

	x->line = t->line;
	for (k = 0; need[k] != NULL; k++)
		if (have[k][0] == '\0')
			return mgw_ifail(x, "IPsec Tunnel #%d: no %s", i + 1,
			    need[k]);
	if (local == NULL || !mgw_addr_ok(local, 0))
		return mgw_ifail(x,
		    "IPsec Tunnel #%d: the Customer Gateway outside address "
		    "is a placeholder: give --local ADDRESS",
		    i + 1);
	fprintf(out, "  - name: aws%d\n    profile: aws\n", i + 1);
	/* As the file says: AWS permits both (AWS-IKE-1), Main Mode only. */
	if (t->ikev1)
		fprintf(out, "    ike_version: 1\n");
	fprintf(out, "    local: %s\n    remote: %s\n", local, t->vgw_out);
	mgw_emit_psk(out, t->psk);
	mgw_emit_proposals(out, &t->ike, &t->esp);
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
	struct mgw_ictx x = { path, err, errlen, 0 };
	char line[1024], *key, *val, *sep;
	const char *p = text, *end = text + len;
	int cur = -1, sec = 0, sub = 0, n = 0, i, bgp = 0, r;
	uint32_t las = 0;
	int64_t num;

	memset(tun, 0, sizeof(tun));
	while ((r = mgw_inext(&x, &p, end, line, sizeof(line))) > 0) {
		key = line;
		while (*key == ' ')
			key++;
		if (strncmp(key, "IPsec Tunnel #", 14) == 0) {
			num = mgw_first_num(key + 14);
			if (num < 1 || num > MAXT)
				return mgw_ifail(&x,
				    "IPsec Tunnel #%s: allowed 1-%d", key + 14,
				    MAXT);
			cur = (int)num - 1;
			if (tun[cur].line != 0)
				return mgw_ifail(&x,
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
		mgw_itrim(key);
		while (*val == ' ')
			val++;
		mgw_itrim(val);
		if (bullet(&x, &tun[cur], sec, sub, key, val) < 0)
			return -1;
	}
	if (r < 0)
		return -1;
	x.line = 1;
	if (n == 0)
		return mgw_ifail(&x,
		    "no 'IPsec Tunnel #N' section: not an AWS "
		    "Generic configuration");
	for (i = 0; i < n; i++) {
		if (tun[i].line == 0) {
			x.line = 1;
			return mgw_ifail(&x, "IPsec Tunnel #%d is missing",
			    i + 1);
		}
		if (tun[i].has_bgp) {
			bgp = 1;
			if (tun[i].nb[0] == '\0' || tun[i].vgw_asn == 0) {
				x.line = tun[i].line;
				return mgw_ifail(&x,
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
		return mgw_ifail(&x,
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
