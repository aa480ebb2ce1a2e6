/*
 * Cloud profiles: each cloud's defaults and rules, as documented in
 * the vendors' pages collected in cloud-vpn-requirements.md (the rule
 * ids are that file's).  A rule is code here plus one row of rules[]
 * naming its source; profile_override switches a rule off by id.
 * Only what the clouds document is checked: where the reference says
 * "not found" (Alibaba's BGP timers, GCP's PSK characters) there is no
 * rule and minigw's own defaults stay.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "profile.h"

struct rule {
	const char *id;
	int prof;
	const char *src;
};

#define AZ  MGW_PROFILE_AZURE
#define AWS MGW_PROFILE_AWS
#define GCP MGW_PROFILE_GCP
#define ALI MGW_PROFILE_ALIBABA

static const struct rule rules[] = {
	/* Azure VPN Gateway */
	{ "AZ-PSK-1", AZ, "Azure VPN Gateway FAQ" },
	{ "AZ-IKE-4", AZ, "Azure VPN Gateway FAQ, custom IPsec/IKE policy" },
	{ "AZ-IKE-6", AZ, "Azure VPN Gateway FAQ, SA lifetimes" },
	{ "AZ-DPD-1", AZ, "Azure VPN Gateway FAQ, DPD timeout" },
	{ "AZ-MTU-1", AZ, "Azure: About VPN devices; VPN Gateway FAQ" },
	{ "AZ-APIPA-1", AZ, "Azure: Configure BGP (bgp-howto)" },
	{ "AZ-APIPA-3", AZ, "Azure: Configure BGP (bgp-howto); VPN FAQ" },
	{ "AZ-ASN-1", AZ, "Azure VPN Gateway FAQ, BGP: reserved ASNs" },
	{ "AZ-ASN-2", AZ, "Azure VPN Gateway FAQ, BGP: usable ASNs" },
	{ "AZ-BGP-1", AZ, "Azure VPN Gateway FAQ, BGP timers" },
	{ "AZ-BGP-3", AZ, "Azure VPN Gateway FAQ, BGP: prefixes advertised" },
	/* AWS Site-to-Site VPN */
	{ "AWS-PSK-1", AWS, "AWS Site-to-Site VPN User Guide, tunnel options" },
	{ "AWS-IKE-2", AWS, "AWS Site-to-Site VPN User Guide, tunnel options" },
	{ "AWS-IKE-3", AWS, "AWS Site-to-Site VPN User Guide, tunnel options" },
	{ "AWS-IKE-4", AWS, "AWS Site-to-Site VPN User Guide, tunnel options" },
	{ "AWS-DPD-1", AWS, "AWS Site-to-Site VPN User Guide, tunnel options" },
	{ "AWS-INIT-1", AWS,
	    "AWS Site-to-Site VPN User Guide, initiating tunnels" },
	{ "AWS-SA-1", AWS,
	    "AWS Site-to-Site VPN User Guide, customer gateway" },
	{ "AWS-MTU-1", AWS,
	    "AWS Site-to-Site VPN User Guide, customer gateway; limits" },
	{ "AWS-IN-1", AWS, "AWS Site-to-Site VPN User Guide, tunnel options" },
	{ "AWS-IN-3", AWS,
	    "AWS generic configuration (amazon-vpc network admin guide)" },
	{ "AWS-ASN-1", AWS,
	    "AWS Site-to-Site VPN User Guide, how it works; EC2 API" },
	{ "AWS-ASN-2", AWS,
	    "AWS Site-to-Site VPN User Guide, customer gateway options" },
	{ "AWS-ASN-3", AWS,
	    "AWS Site-to-Site VPN User Guide, set up VPN connections" },
	{ "AWS-BGP-2", AWS, "AWS Site-to-Site VPN User Guide, quotas" },
	/* Google Cloud HA VPN + Cloud Router */
	{ "GCP-IKE-1", GCP, "Google Cloud VPN: supported IKE ciphers" },
	{ "GCP-PEER-1", GCP,
	    "Google Cloud VPN: configuring the peer gateway; IKE ciphers" },
	{ "GCP-MTU-1", GCP, "Google Cloud VPN: MTU considerations" },
	{ "GCP-BGPIP-1", GCP, "Google Cloud Router: configuring BGP" },
	{ "GCP-ASN-1", GCP, "Google Cloud Router API (compute_router)" },
	{ "GCP-BGP-1", GCP, "Google Cloud Router API (compute_router)" },
	{ "X-ASN-1", GCP, "RFC 4271 eBGP; cloud-vpn-requirements X-ASN-1" },
	/* Alibaba Cloud VPN Gateway */
	{ "ALI-PSK-1", ALI, "Alibaba Cloud VPC API, CreateVpnAttachment" },
	{ "ALI-IKE-2", ALI,
	    "Alibaba Cloud VPC API, CreateVpnAttachment (IkeConfig)" },
	{ "ALI-IKE-3", ALI,
	    "Alibaba Cloud VPC API, CreateVpnAttachment (IpsecConfig)" },
	{ "ALI-MTU-1", ALI, "Alibaba Cloud VPN: set MTU values" },
	{ "ALI-BGP-1", ALI,
	    "Alibaba Cloud VPC API, CreateVpnAttachment (BgpConfig)" },
	{ "ALI-BGP-3", ALI, "Alibaba Cloud VPN: configure BGP routing" },
	{ "X-ASN-1", ALI, "RFC 4271 eBGP; cloud-vpn-requirements X-ASN-1" },
	{ NULL, 0, NULL },
};

const char *
mgw_profile_name(int profile)
{
	static const char *const names[] = { "none", "azure", "aws", "gcp",
		"alibaba" };

	return profile >= 0 && profile <= ALI ? names[profile] : "?";
}

const char *
mgw_profile_rule_source(int profile, const char *id)
{
	const struct rule *r;

	for (r = rules; r->id != NULL; r++)
		if (r->prof == profile && strcmp(r->id, id) == 0)
			return r->src;
	return NULL;
}

/* ---- defaults --------------------------------------------------------- */

/*
 * Proposals: one suite every cloud lists (X-CRYPTO-1: AES-256-CBC,
 * SHA-256, DH 14, PFS 14, PFS being required by GCP).  Lifetimes, DPD
 * and MTU/MSS per cloud; the comment names the rule.
 */
struct tdef {
	uint32_t ike_life, child_life; /* AZ-IKE-6, AWS-IKE-4, GCP-IKE-4, */
	uint64_t child_kb;             /* ALI-IKE-2/3 */
	uint32_t dpd_interval, dpd_timeout; /* AZ-DPD-1, AWS-DPD-1 */
	uint32_t mtu, mss; /* AZ-MTU-1, AWS-MTU-1, GCP-MTU-1, ALI-MTU-1 */
};

static const struct tdef tdefs[] = {
	[AZ] = { 28800, 27000, 102400000, 10, 45, 1400, 1350 },
	/* AES-CBC + SHA-256 with NAT-T: 1422 / 1382 */
	[AWS] = { 28800, 3600, 0, 10, 30, 1422, 1382 },
	/* non-AEAD, SHA-256: payload MTU 1390 */
	[GCP] = { 36000, 10800, 0, 10, 20, 1390, 1350 },
	/* MSS: mtu - 40 (the documented 1359 is more than fits 1360) */
	[ALI] = { 86400, 86400, 0, 10, 20, 1360, 1320 },
};

/* BGP: hold, keepalive (AZ-BGP-1, AWS-BGP-1, GCP-BGP-1), outbound cap
 * (AZ-BGP-3, AWS-BGP-2 VGW, ALI-BGP-3).  0 = minigw's own default. */
struct ndef {
	uint16_t hold, keepalive;
	uint32_t out_cap;
};

static const struct ndef ndefs[] = {
	[AZ] = { 180, 60, 4000 },
	[AWS] = { 30, 10, 100 },
	[GCP] = { 60, 20, 0 },
	[ALI] = { 0, 0, 50 },
};

static void
tunnel_defaults(struct mgw_cfg_tunnel *t)
{
	const struct tdef *d = &tdefs[t->profile];

#define GIVEN(k) (mgw_tunnel_key_line(t, k) != 0)
	if (!GIVEN("ike_proposals")) {
		snprintf(t->ike[0], sizeof(t->ike[0]),
		    "aes256-sha256-modp2048");
		t->n_ike = 1;
	}
	if (!GIVEN("esp_proposals")) {
		snprintf(t->esp[0], sizeof(t->esp[0]),
		    "aes256-sha256-modp2048");
		t->n_esp = 1;
	}
	if (!GIVEN("ike_lifetime"))
		t->ike_lifetime = d->ike_life;
	if (!GIVEN("child_lifetime"))
		t->child_lifetime = d->child_life;
	if (!GIVEN("child_lifetime_kb") && d->child_kb != 0)
		t->child_lifetime_kb = d->child_kb;
	if (!GIVEN("dpd_interval"))
		t->dpd_interval = d->dpd_interval;
	if (!GIVEN("dpd_timeout"))
		t->dpd_timeout = d->dpd_timeout;
	if (!GIVEN("mtu"))
		t->mtu = d->mtu;
	/* Below a given mtu, as minigw's check wants (mtu - 40). */
	if (!GIVEN("mss"))
		t->mss = t->mtu - 40 < d->mss ? t->mtu - 40 : d->mss;
	/* Every cloud waits for us, or accepts either (AWS-INIT-1,
	 * AZ-MODE-1, GCP-PEER-1, ALI-INIT-1). */
	if (!GIVEN("role"))
		t->role = MGW_ROLE_INITIATE;
#undef GIVEN
}

static void
neighbor_defaults(struct mgw_cfg_neighbor *n)
{
	const struct ndef *d = &ndefs[n->profile];

	if (d->hold != 0 && mgw_neighbor_key_line(n, "hold_time") == 0)
		n->hold = d->hold;
	if (d->keepalive != 0 && mgw_neighbor_key_line(n, "keepalive") == 0)
		n->keepalive = d->keepalive;
	/* The cap the cloud enforces, held back by the library at run
	 * time (vpnr_bgp_peer_config_set_out_budget). */
	if (d->out_cap != 0 && mgw_neighbor_key_line(n, "out_max_prefix") == 0)
		n->out_max_prefix = d->out_cap;
}

/* ---- checking --------------------------------------------------------- */

struct pc {
	struct mgw_config *c;
	char *err;
	size_t errlen;
	int prof;
	const char (*ovr)[MGW_RULEID_MAX];
	int n_ovr;
	char where[48];                   /* "tunnels[0]" */
	const struct mgw_cfg_tunnel *tun; /* a neighbour's tunnel */
	int item_line;
};

/*
 * Rule id is broken at line/field: the error, unless overridden (then
 * 0).  line 0 (a default) falls back to the item's own line.  field is
 * the item's, unless it names another section ("global.local_as").
 */
static int
broke(struct pc *x, int line, const char *field, const char *id,
    const char *fmt, ...)
{
	va_list ap;
	size_t k;
	int i, own;

	for (i = 0; i < x->n_ovr; i++)
		if (strcmp(x->ovr[i], id) == 0)
			return 0;
	/* A tunnel field checked for its neighbour: the tunnel's own
	 * override counts too. */
	for (i = 0; x->tun != NULL && strncmp(field, "tunnels[", 8) == 0 &&
	     i < x->tun->n_ovr;
	     i++)
		if (strcmp(x->tun->ovr[i], id) == 0)
			return 0;
	own = strncmp(field, "global.", 7) != 0 &&
	    strncmp(field, "bgp.networks", 12) != 0 &&
	    strncmp(field, "tunnels[", 8) != 0;
	k = (size_t)snprintf(x->err, x->errlen,
	    "%s:%d: %s%s%s: %s: ", x->c->path, line ? line : x->item_line,
	    own ? x->where : "", own ? "." : "", field, id);
	if (k < x->errlen) {
		va_start(ap, fmt);
		vsnprintf(x->err + k, x->errlen - k, fmt, ap);
		va_end(ap);
	}
	k = strlen(x->err);
	snprintf(x->err + k, x->errlen - k, " (%s)",
	    mgw_profile_rule_source(x->prof, id));
	return -1;
}

static int
apipa(const vpnr_addr *a)
{
	return a->family == VPNR_AF_INET && (mgw_v4(a) >> 16) == 0xa9fe;
}

/* AWS-IN-1's reserved /30s (ALI-BGP-1 adds 169.254.6.0/30). */
static int
reserved30(uint32_t net, int ali)
{
	uint32_t third = (net >> 8) & 0xff;

	if ((net & 0xffffff00) == 0xa9fea900 && (net & 0xfc) == 0xfc)
		return 1; /* 169.254.169.252/30 */
	return (net & 0xff) < 4 && (third <= 5 || (ali && third == 6));
}

/* ---- proposals ---- */

static const char *const az_alg[] = { "aes256gcm", "aes192gcm", "aes128gcm",
	"aes256", "aes192", "aes128", "sha384", "sha256", "sha1",
	"modp2048s256", "ecp384", "ecp256", "modp2048", "modp1024", NULL };
static const char *const aws_alg[] = { "aes128", "aes256", "aes128gcm",
	"aes256gcm", "sha1", "sha256", "sha384", "sha512", "modp1024",
	"modp2048", "modp3072", "modp4096", "ecp256", "ecp384", "ecp521",
	"modp2048s256", NULL };
static const char *const gcp_alg[] = { "aes128gcm", "aes192gcm", "aes256gcm",
	"aes128", "aes192", "aes256", "sha1", "sha256", "sha384", "sha512",
	"modp1024", "modp2048", "modp2048s256", "modp3072", "modp4096",
	"ecp256", "ecp384", "ecp521", "curve25519", NULL };
/* GCP-IKE-2: Phase 2 integrity SHA1, SHA2-256, SHA2-512 only. */
static const char *const gcp_esp_alg[] = { "aes128gcm", "aes192gcm",
	"aes256gcm", "aes128", "aes192", "aes256", "sha1", "sha256", "sha512",
	"modp1024", "modp2048", "modp2048s256", "modp3072", "modp4096",
	"ecp256", "ecp384", "ecp521", "curve25519", NULL };
static const char *const ali_alg[] = { "aes128", "aes192", "aes256", "sha1",
	"sha256", "sha384", "sha512", "modp1024", "modp2048", "modp2048s256",
	NULL };

/* The library's spelling variants, reduced to one word. */
static void
norm_token(const char *s, size_t len, char *out, size_t outlen)
{
	char *g;

	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, s, len);
	out[len] = '\0';
	if (strncmp(out, "prf", 3) == 0)
		memmove(out, out + 3, strlen(out + 3) + 1);
	if (strncmp(out, "sha2_", 5) == 0)
		memmove(out + 3, out + 5, strlen(out + 5) + 1);
	if ((g = strstr(out, "gcm")) != NULL)
		g[3] = '\0';
	if (strcmp(out, "x25519") == 0)
		snprintf(out, outlen, "curve25519");
}

static int
is_dh(const char *t)
{
	return strncmp(t, "modp", 4) == 0 || strncmp(t, "ecp", 3) == 0 ||
	    strcmp(t, "curve25519") == 0;
}

/* The first token of prop not in allowed (into bad), and whether it
 * names a DH group; 0 when all are allowed. */
static int
prop_check(const char *prop, const char *const *allowed, char *bad,
    size_t badlen, int *has_dh)
{
	const char *s = prop, *e;
	char tok[32];
	int i;

	*has_dh = 0;
	bad[0] = '\0';
	for (; *s != '\0'; s = *e ? e + 1 : e) {
		e = strchr(s, '-');
		if (e == NULL)
			e = s + strlen(s);
		norm_token(s, (size_t)(e - s), tok, sizeof(tok));
		if (strcmp(tok, "esn") == 0 || strcmp(tok, "noesn") == 0)
			continue;
		if (is_dh(tok))
			*has_dh = 1;
		for (i = 0; allowed[i] != NULL; i++)
			if (strcmp(tok, allowed[i]) == 0)
				break;
		if (allowed[i] == NULL && bad[0] == '\0')
			snprintf(bad, badlen, "%s", tok);
	}
	return bad[0] != '\0' ? -1 : 0;
}

static int
check_props(struct pc *x, struct mgw_cfg_tunnel *t, int esp)
{
	const char *const *allowed;
	const char *id, *key = esp ? "esp_proposals" : "ike_proposals";
	char(*v)[64] = esp ? t->esp : t->ike;
	int n = esp ? t->n_esp : t->n_ike, i, dh;
	int line = mgw_tunnel_key_line(t, key);
	char bad[32], field[48];

	switch (x->prof) {
	case AZ:
		allowed = az_alg, id = "AZ-IKE-4";
		break;
	case AWS:
		allowed = aws_alg, id = esp ? "AWS-IKE-3" : "AWS-IKE-2";
		break;
	case GCP:
		allowed = esp ? gcp_esp_alg : gcp_alg, id = "GCP-IKE-1";
		break;
	default:
		allowed = ali_alg, id = esp ? "ALI-IKE-3" : "ALI-IKE-2";
		break;
	}
	for (i = 0; i < n; i++) {
		snprintf(field, sizeof(field), "%s[%d]", key, i);
		if (prop_check(v[i], allowed, bad, sizeof(bad), &dh) < 0 &&
		    broke(x, line, field, id,
			"'%s' in '%s' is not accepted by %s", bad, v[i],
			mgw_profile_name(x->prof)) < 0)
			return -1;
		if (esp && x->prof == GCP && !dh &&
		    broke(x, line, field, "GCP-PEER-1",
			"'%s' has no DH group: Cloud VPN requires PFS "
			"(e.g. aes256-sha256-modp2048)",
			v[i]) < 0)
			return -1;
	}
	return 0;
}

/* ---- tunnel rules ---- */

static int
check_psk(struct pc *x, struct mgw_cfg_tunnel *t)
{
	int line = mgw_tunnel_key_line(t, t->psk_file[0] ? "psk_file" : "psk");
	const char *f = t->psk_file[0] ? "psk_file" : "psk";
	size_t i;
	int ch;

	/* The key itself never goes into a message. */
	for (i = 0; i < t->psk_len; i++) {
		ch = t->psk[i];
		if (x->prof == AZ &&
		    (ch <= ' ' || ch > '~' || ch == '-' || ch == '~'))
			return broke(x, line, f, "AZ-PSK-1",
			    "the PSK has a character at offset %zu Azure "
			    "refuses (allowed: printable ASCII except space, "
			    "'-' and '~')",
			    i);
		if (x->prof == AWS && !isalnum(ch) && ch != '.' && ch != '_')
			return broke(x, line, f, "AWS-PSK-1",
			    "the PSK has a character at offset %zu AWS "
			    "refuses (allowed: letters, digits, '.', '_')",
			    i);
		if (x->prof == ALI &&
		    (ch <= ' ' || ch > '~' || ch == '\'' || ch == '\\'))
			return broke(x, line, f, "ALI-PSK-1",
			    "the PSK has a character at offset %zu Alibaba "
			    "refuses (allowed: letters, digits and "
			    "~!`@#$%%^&*()_-+={}[]|;:\",.<>/?, no spaces)",
			    i);
	}
	if (x->prof == AWS && (t->psk_len < 8 || t->psk_len > 64))
		return broke(x, line, f, "AWS-PSK-1",
		    "the PSK is %zu characters (allowed 8-64)", t->psk_len);
	if (x->prof == AWS && t->psk_len > 0 && t->psk[0] == '0')
		return broke(x, line, f, "AWS-PSK-1",
		    "the PSK must not start with \"0\"");
	if (x->prof == ALI && t->psk_len > 100)
		return broke(x, line, f, "ALI-PSK-1",
		    "the PSK is %zu characters (allowed 1-100)", t->psk_len);
	return 0;
}

/* An inside /30 from 169.254.0.0/16 outside the reserved blocks. */
static int
check_inside30(struct pc *x, const struct mgw_cfg_tunnel *t, const char *id)
{
	int line = mgw_tunnel_key_line(t, "address");
	uint32_t a = mgw_v4(&t->address.addr);

	if (!apipa(&t->address.addr) || t->address.len != 30)
		return broke(x, line, "address", id,
		    "the inside address must be in a /30 of "
		    "169.254.0.0/16");
	if (x->prof != GCP && reserved30(a & ~3u, x->prof == ALI))
		return broke(x, line, "address", id,
		    "%u.%u.%u.%u/30 is reserved (169.254.0.0/30 to "
		    "169.254.%d.0/30 and 169.254.169.252/30)",
		    a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xfc,
		    x->prof == ALI ? 6 : 5);
	return 0;
}

static int
check_tunnel(struct pc *x, struct mgw_cfg_tunnel *t)
{
	int l;

	if (check_psk(x, t) < 0 || check_props(x, t, 0) < 0 ||
	    check_props(x, t, 1) < 0)
		return -1;
	/* MTU / MSS: the cloud's maximum (the default is at or below). */
	if (x->prof == AZ || x->prof == AWS || x->prof == ALI) {
		const char *id = x->prof == AZ ? "AZ-MTU-1" :
		    x->prof == AWS             ? "AWS-MTU-1" :
						 "ALI-MTU-1";
		uint32_t mtu = x->prof == AZ ? 1400 :
		    x->prof == AWS           ? 1446 :
					       1360;
		uint32_t mss = x->prof == AZ ? 1350 :
		    x->prof == AWS           ? 1406 :
					       1359;

		if (t->mtu > mtu &&
		    broke(x, mgw_tunnel_key_line(t, "mtu"), "mtu", id,
			"%u is more than %s carries (at most %u)", t->mtu,
			mgw_profile_name(x->prof), mtu) < 0)
			return -1;
		if (t->mss > mss &&
		    broke(x, mgw_tunnel_key_line(t, "mss"), "mss", id,
			"%u is more than %s allows (at most %u)", t->mss,
			mgw_profile_name(x->prof), mss) < 0)
			return -1;
	}
	switch (x->prof) {
	case AZ:
		if (t->child_lifetime_kb != 0 && t->child_lifetime_kb < 1024 &&
		    broke(x, mgw_tunnel_key_line(t, "child_lifetime_kb"),
			"child_lifetime_kb", "AZ-IKE-6",
			"%llu KB is below Azure's minimum of 1024",
			(unsigned long long)t->child_lifetime_kb) < 0)
			return -1;
		if ((t->dpd_timeout < 9 || t->dpd_timeout > 3600) &&
		    broke(x, mgw_tunnel_key_line(t, "dpd_timeout"),
			"dpd_timeout", "AZ-DPD-1",
			"%u s is outside Azure's 9-3600 s", t->dpd_timeout) < 0)
			return -1;
		break;
	case AWS:
		l = mgw_tunnel_key_line(t, "ike_lifetime");
		if ((t->ike_lifetime < 900 || t->ike_lifetime > 28800) &&
		    broke(x, l, "ike_lifetime", "AWS-IKE-4",
			"%u s is outside AWS's Phase 1 900-28800 s",
			t->ike_lifetime) < 0)
			return -1;
		l = mgw_tunnel_key_line(t, "child_lifetime");
		if ((t->child_lifetime < 900 || t->child_lifetime > 3600) &&
		    broke(x, l, "child_lifetime", "AWS-IKE-4",
			"%u s is outside AWS's Phase 2 900-3600 s",
			t->child_lifetime) < 0)
			return -1;
		if (t->child_lifetime >= t->ike_lifetime &&
		    broke(x, l, "child_lifetime", "AWS-IKE-4",
			"%u s must be less than ike_lifetime %u s",
			t->child_lifetime, t->ike_lifetime) < 0)
			return -1;
		if (t->dpd_timeout < 30 &&
		    broke(x, mgw_tunnel_key_line(t, "dpd_timeout"),
			"dpd_timeout", "AWS-DPD-1",
			"%u s is below AWS's minimum DPD timeout of 30 s",
			t->dpd_timeout) < 0)
			return -1;
		if (t->role == MGW_ROLE_RESPOND &&
		    broke(x, mgw_tunnel_key_line(t, "role"), "role",
			"AWS-INIT-1",
			"AWS waits for the customer gateway to initiate "
			"(allowed: initiate, both)") < 0)
			return -1;
		if ((t->n_local_ts > 1 || t->n_remote_ts > 1) &&
		    broke(x,
			mgw_tunnel_key_line(t,
			    t->n_local_ts > 1 ? "local_ts" : "remote_ts"),
			t->n_local_ts > 1 ? "local_ts" : "remote_ts",
			"AWS-SA-1",
			"AWS allows one SA pair per tunnel (one selector "
			"each side)") < 0)
			return -1;
		if (check_inside30(x, t, "AWS-IN-1") < 0)
			return -1;
		break;
	case GCP:
		if (t->mtu > 1460 &&
		    broke(x, mgw_tunnel_key_line(t, "mtu"), "mtu", "GCP-MTU-1",
			"%u is more than Cloud VPN's gateway MTU 1460",
			t->mtu) < 0)
			return -1;
		if (check_inside30(x, t, "GCP-BGPIP-1") < 0)
			return -1;
		break;
	case ALI:
		/* The BGP tunnel CIDR (ALI-BGP-1), when it is one. */
		if (apipa(&t->address.addr) &&
		    check_inside30(x, t, "ALI-BGP-1") < 0)
			return -1;
		break;
	}
	return 0;
}

/* ---- neighbour rules ---- */

static int
in_private(uint32_t as)
{
	return (as >= 64512 && as <= 65534) ||
	    (as >= 4200000000u && as <= 4294967294u);
}

static int
az_reserved(uint32_t as)
{
	/* AZ-ASN-1, with 8076 from the older FAQ (see Conflicts). */
	return as == 8074 || as == 8075 || as == 8076 || as == 12076 ||
	    as == 65515 || (as >= 65517 && as <= 65520) || as == 23456 ||
	    (as >= 64496 && as <= 64511) || (as >= 65535 && as <= 65551);
}

/* The neighbour and our tunnel address share the tunnel's /30, as
 * its two hosts; aws: the cloud has the first (AWS-IN-3). */
static int
check_pair(struct pc *x, const struct mgw_cfg_neighbor *n,
    const struct mgw_cfg_tunnel *t, const char *id, int aws)
{
	uint32_t me = mgw_v4(&t->address.addr), peer = mgw_v4(&n->addr);
	int l = mgw_neighbor_key_line(n, "address");

	if (n->addr.family != VPNR_AF_INET || t->address.len != 30 ||
	    (peer & ~3u) != (me & ~3u) || peer == me || (peer & 3) == 0 ||
	    (peer & 3) == 3)
		return broke(x, l, "address", id,
		    "the neighbour must be the other host of tunnel %s's "
		    "/30",
		    t->name);
	if (aws && (peer & 3) != 1)
		return broke(x, l, "address", id,
		    "AWS takes the first host of the /30 and the customer "
		    "gateway the second (here the other way round)");
	return 0;
}

static int
check_neighbor(struct pc *x, struct mgw_cfg_neighbor *n,
    const struct mgw_cfg_tunnel *t)
{
	struct mgw_config *c = x->c;
	uint32_t la = c->g.local_as, ra = n->remote_as, a;
	int lal = mgw_global_key_line(&c->g, "local_as");
	int ral = mgw_neighbor_key_line(n, "remote_as");
	int cap = ndefs[x->prof].out_cap, i;
	char tf[48];
	const char *capid = x->prof == AZ ? "AZ-BGP-3" :
	    x->prof == AWS                ? "AWS-BGP-2" :
					    "ALI-BGP-3";

	/* local_as lives in global; its errors name it there. */
	switch (x->prof) {
	case AZ:
		if (az_reserved(la) &&
		    broke(x, lal, "global.local_as", "AZ-ASN-1",
			"%u is reserved by Azure or IANA", la) < 0)
			return -1;
		if (la == ra &&
		    broke(x, ral, "remote_as", "AZ-ASN-2",
			"the on-premises ASN must differ from the Azure "
			"gateway's (%u)",
			ra) < 0)
			return -1;
		if (n->hold != 180 &&
		    broke(x, mgw_neighbor_key_line(n, "hold_time"), "hold_time",
			"AZ-BGP-1", "%u s: Azure's hold time is fixed at 180 s",
			n->hold) < 0)
			return -1;
		if (n->keepalive != 0 && n->keepalive != 60 &&
		    broke(x, mgw_neighbor_key_line(n, "keepalive"), "keepalive",
			"AZ-BGP-1", "%u s: Azure's keepalive is fixed at 60 s",
			n->keepalive) < 0)
			return -1;
		/* Our side of the session is the tunnel address when no
		 * update_source moves it (to a loopback, say): then Azure
		 * is told it, and it must be in the range too. */
		a = t != NULL ? mgw_v4(&t->address.addr) : 0;
		snprintf(tf, sizeof(tf), "tunnels[%d].address",
		    t != NULL ? (int)(t - c->tun) : 0);
		if (t != NULL && n->update_source[0] == '\0' &&
		    apipa(&t->address.addr) &&
		    (a < 0xa9fe1500 || a > 0xa9fe16ff) &&
		    broke(x, mgw_tunnel_key_line(t, "address"), tf,
			"AZ-APIPA-1",
			"our BGP APIPA address for Azure must be in "
			"169.254.21.0-169.254.22.255") < 0)
			return -1;
		a = mgw_v4(&n->addr);
		if (apipa(&n->addr) && (a < 0xa9fe1500 || a > 0xa9fe16ff) &&
		    broke(x, mgw_neighbor_key_line(n, "address"), "address",
			"AZ-APIPA-1",
			"Azure's APIPA BGP address must be in "
			"169.254.21.0-169.254.22.255") < 0)
			return -1;
		if (apipa(&n->addr) && n->passive &&
		    broke(x, mgw_neighbor_key_line(n, "passive"), "passive",
			"AZ-APIPA-3",
			"Azure does not initiate BGP to an APIPA address: we "
			"must") < 0)
			return -1;
		break;
	case AWS:
		if (!in_private(ra) && ra != 7224 && ra != 9059 &&
		    ra != 10124 && ra != 17493 &&
		    broke(x, ral, "remote_as", "AWS-ASN-1",
			"%u is not an Amazon-side ASN (64512-65534, "
			"4200000000-4294967294, or 7224, 9059, 10124, 17493)",
			ra) < 0)
			return -1;
		if ((la == 7224 || la == 9059 ||
			(la >= 4200000000u && la <= 4294967294u)) &&
		    broke(x, lal, "global.local_as", "AWS-ASN-2",
			"%u cannot be a customer gateway ASN", la) < 0)
			return -1;
		if (la == ra &&
		    broke(x, ral, "remote_as", "AWS-ASN-3",
			"the Amazon-side ASN must differ from the customer "
			"gateway's (%u)",
			la) < 0)
			return -1;
		if (t != NULL && check_pair(x, n, t, "AWS-IN-3", 1) < 0)
			return -1;
		break;
	case GCP:
		if (!in_private(ra) &&
		    broke(x, ral, "remote_as", "GCP-ASN-1",
			"%u: the Cloud Router ASN is a private one "
			"(64512-65534, 4200000000-4294967294)",
			ra) < 0)
			return -1;
		if (la == ra &&
		    broke(x, ral, "remote_as", "X-ASN-1",
			"local_as and remote_as are both %u (eBGP only)",
			ra) < 0)
			return -1;
		if (n->keepalive < 20 || n->keepalive > 60) {
			if (broke(x, mgw_neighbor_key_line(n, "keepalive"),
				"keepalive", "GCP-BGP-1",
				"%u s is outside Cloud Router's 20-60 s",
				n->keepalive) < 0)
				return -1;
		} else if (n->hold != 3 * n->keepalive &&
		    broke(x, mgw_neighbor_key_line(n, "hold_time"), "hold_time",
			"GCP-BGP-1",
			"%u s: Cloud Router's hold time is 3 x keepalive = "
			"%u s",
			n->hold, 3 * n->keepalive) < 0)
			return -1;
		if (t != NULL && check_pair(x, n, t, "GCP-BGPIP-1", 0) < 0)
			return -1;
		break;
	case ALI:
		if (la == ra &&
		    broke(x, ral, "remote_as", "X-ASN-1",
			"local_as and remote_as are both %u (eBGP only)",
			ra) < 0)
			return -1;
		if (t != NULL && check_pair(x, n, t, "ALI-BGP-1", 0) < 0)
			return -1;
		for (i = 0; i < c->n_networks; i++) {
			a = mgw_v4(&c->networks[i].addr);
			if (c->networks[i].addr.family == VPNR_AF_INET &&
			    (a & 0xffc00000) == 0x64400000 &&
			    broke(x, c->networks_line, "bgp.networks",
				"ALI-BGP-3",
				"[%d] is in 100.64.0.0/10, which Alibaba does "
				"not take",
				i) < 0)
				return -1;
		}
		break;
	}
	/* Outbound cap: the library holds the rest back at run time
	 * (out_max_prefix); a static list past it is refused here. */
	if (cap != 0) {
		if ((n->out_max_prefix == 0 ||
			n->out_max_prefix > (uint32_t)cap) &&
		    broke(x, mgw_neighbor_key_line(n, "out_max_prefix"),
			"out_max_prefix", capid,
			"%u: %s takes at most %d prefixes (0 = unlimited is "
			"not allowed)",
			n->out_max_prefix, mgw_profile_name(x->prof), cap) < 0)
			return -1;
		if (c->n_networks > cap &&
		    broke(x, c->networks_line, "bgp.networks", capid,
			"%d prefixes, %s takes at most %d", c->n_networks,
			mgw_profile_name(x->prof), cap) < 0)
			return -1;
	}
	return 0;
}

/* ---- driver ----------------------------------------------------------- */

static int
check_ovr(struct pc *x, int line)
{
	int i;

	for (i = 0; i < x->n_ovr; i++)
		if (mgw_profile_rule_source(x->prof, x->ovr[i]) == NULL) {
			snprintf(x->err, x->errlen,
			    "%s:%d: %s.profile_override: '%s' is not a rule of "
			    "profile %s (see minigw.conf(5), PROFILES)",
			    x->c->path, line ? line : x->item_line, x->where,
			    x->ovr[i], mgw_profile_name(x->prof));
			return -1;
		}
	return 0;
}

int
mgw_profile_apply(struct mgw_config *c, char *err, size_t errlen)
{
	struct pc x;
	const struct mgw_cfg_tunnel *t;
	int i;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.err = err;
	x.errlen = errlen;
	for (i = 0; i < c->n_tun; i++) {
		struct mgw_cfg_tunnel *tu = &c->tun[i];

		snprintf(x.where, sizeof(x.where), "tunnels[%d]", i);
		x.item_line = tu->line;
		x.prof = tu->profile;
		x.ovr = (const char(*)[MGW_RULEID_MAX])tu->ovr;
		x.n_ovr = tu->n_ovr;
		if (x.prof == MGW_PROFILE_NONE) {
			if (tu->n_ovr > 0) {
				snprintf(err, errlen,
				    "%s:%d: %s.profile_override: needs a "
				    "profile",
				    c->path,
				    mgw_tunnel_key_line(tu, "profile_override"),
				    x.where);
				return -1;
			}
			continue;
		}
		if (check_ovr(&x, mgw_tunnel_key_line(tu, "profile_override")) <
		    0)
			return -1;
		tunnel_defaults(tu);
		if (check_tunnel(&x, tu) < 0)
			return -1;
	}
	for (i = 0; i < c->n_nb; i++) {
		struct mgw_cfg_neighbor *n = &c->nb[i];

		t = n->tunnel[0] ? mgw_config_tunnel(c, n->tunnel) : NULL;
		/* A neighbour riding a cloud's tunnel is that cloud's. */
		if (n->profile == MGW_PROFILE_NONE && t != NULL)
			n->profile = t->profile;
		snprintf(x.where, sizeof(x.where), "bgp.neighbors[%d]", i);
		x.item_line = n->line;
		x.prof = n->profile;
		x.ovr = (const char(*)[MGW_RULEID_MAX])n->ovr;
		x.n_ovr = n->n_ovr;
		x.tun = t;
		if (x.prof == MGW_PROFILE_NONE) {
			if (n->n_ovr > 0) {
				snprintf(err, errlen,
				    "%s:%d: %s.profile_override: needs a "
				    "profile",
				    c->path,
				    mgw_neighbor_key_line(n,
					"profile_override"),
				    x.where);
				return -1;
			}
			continue;
		}
		if (check_ovr(&x,
			mgw_neighbor_key_line(n, "profile_override")) < 0)
			return -1;
		neighbor_defaults(n);
		if (check_neighbor(&x, n, t) < 0)
			return -1;
	}
	return 0;
}

void
mgw_profile_print(FILE *f, const char *ind, int profile,
    const char (*ovr)[MGW_RULEID_MAX], int n_ovr)
{
	int i;

	if (profile == MGW_PROFILE_NONE)
		return;
	fprintf(f, "%sprofile: %s\n", ind, mgw_profile_name(profile));
	if (n_ovr == 0)
		return;
	fprintf(f, "%sprofile_override: [", ind);
	for (i = 0; i < n_ovr; i++)
		fprintf(f, "%s%s", i ? ", " : "", ovr[i]);
	fprintf(f, "]\n");
	for (i = 0; i < n_ovr; i++)
		fprintf(f, "%s# %s overridden: not checked (%s)\n", ind, ovr[i],
		    mgw_profile_rule_source(profile, ovr[i]));
}
