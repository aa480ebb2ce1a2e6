/*
 * The configuration file: YAML read with libyaml's document API (the
 * nodes keep their line numbers), then each mapping is checked against
 * a table of the keys it may hold.  The same tables print the
 * configuration back (--print), so what is printed parses again.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config.h"

struct pctx {
	const char *path;
	yaml_document_t *doc;
	char *err;
	size_t errlen;
	int flags;
	struct mgw_config *c;
	int *lines; /* the next walk_map's key lines (profiles), or NULL */
};

enum ftype {
	F_STR,  /* char[size] */
	F_NAME, /* char[size], [A-Za-z0-9_.-] */
	F_U8,   /* numbers with min..max */
	F_U16,
	F_U32,
	F_U64,
	F_ASN,     /* uint32_t, 1-4294967295 except 23456 */
	F_BOOL,    /* int */
	F_ENUM,    /* int / uint32_t from words */
	F_ADDR,    /* vpnr_addr */
	F_IFADDR,  /* vpnr_prefix, host bits allowed */
	F_PREFIX,  /* vpnr_prefix */
	F_IPV4ID,  /* uint32_t as a dotted quad (router id) */
	F_SPECIAL, /* handled by code */
};

struct field {
	const char *name;
	int type;
	size_t off;
	size_t size;
	uint64_t min, max;
	const char *const *words; /* F_ENUM: names, NULL-terminated */
	const int *vals;
	int print; /* 0 = not printed by the generic printer */
};

#define FS(st, name, type, member, min, max) \
	{ \
#name, type, offsetof(struct st, member), \
		    sizeof(((struct st *)0)->member), min, max, NULL, NULL, 1 \
	}
#define FE(st, name, member, words, vals) \
	{ \
#name, F_ENUM, offsetof(struct st, member), \
		    sizeof(((struct st *)0)->member), 0, 0, words, vals, 1 \
	}
#define FX(name) \
	{ \
#name, F_SPECIAL, 0, 0, 0, 0, NULL, NULL, 0 \
	}

static const char *const w_level[] = { "err", "warning", "notice", "info",
	"debug", NULL };
static const int v_level[] = { VPNR_LOG_ERR, VPNR_LOG_WARNING, VPNR_LOG_NOTICE,
	VPNR_LOG_INFO, VPNR_LOG_DEBUG };
static const char *const w_target[] = { "auto", "stderr", "syslog", NULL };
static const char *const w_dpd[] = { "clear", "restart", "none", NULL };
static const int v_dpd[] = { VPNR_DPD_ACTION_CLEAR, VPNR_DPD_ACTION_RESTART,
	VPNR_DPD_ACTION_NONE };
static const char *const w_role[] = { "initiate", "respond", "both", NULL };
static const int v_role[] = { MGW_ROLE_INITIATE, MGW_ROLE_RESPOND,
	MGW_ROLE_BOTH };
static const char *const w_mpa[] = { "warn", "teardown", NULL };
static const int v_mpa[] = { 0, 1 };
static const char *const w_action[] = { "deny", "permit", NULL };
static const int v_action[] = { 0, 1 };
static const char *const w_tdown[] = { "reset", "hold", NULL };
static const int v_tdown[] = { VPNR_BGP_TUNNEL_DOWN_RESET,
	VPNR_BGP_TUNNEL_DOWN_HOLD };
static const char *const w_profile[] = { "azure", "aws", "gcp", "alibaba",
	NULL };
static const int v_profile[] = { MGW_PROFILE_AZURE, MGW_PROFILE_AWS,
	MGW_PROFILE_GCP, MGW_PROFILE_ALIBABA };
/* Printed by mgw_profile_print(), only when set. */
#define FPROFILE(st) \
	{ \
		"profile", F_ENUM, offsetof(struct st, profile), \
		    sizeof(((struct st *)0)->profile), 0, 0, w_profile, \
		    v_profile, 0 \
	}

#define G mgw_cfg_global
static const struct field f_global[] = {
	FS(G, router_id, F_IPV4ID, router_id, 0, 0),
	FS(G, local_as, F_ASN, local_as, 1, UINT32_MAX),
	FS(G, listen, F_ADDR, listen, 0, 0),
	FS(G, ike_port, F_U16, ike_port, 1, 65535),
	FS(G, natt_port, F_U16, natt_port, 1, 65535),
	FE(G, log_level, log_level, w_level, v_level),
	{ "log_target", F_STR, offsetof(struct G, log_target), 8, 0, 0,
	    w_target, NULL, 1 },
	FS(G, control_socket, F_STR, control, 1, 0),
	FS(G, user, F_STR, user, 1, 0),
	FX(metrics_listen),
	FS(G, cookie_threshold, F_U32, cookie_threshold, 0, 1048576),
	FS(G, cookie_threshold_ip, F_U32, cookie_threshold_ip, 0, 1048576),
	FS(G, block_threshold, F_U32, block_threshold, 1, 1048576),
	FS(G, half_open_limit, F_U32, half_open_limit, 1, 1048576),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef G

#define I mgw_cfg_iface
static const struct field f_iface[] = {
	FS(I, name, F_NAME, name, 1, 0),
	FX(addresses),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef I

#define T mgw_cfg_tunnel
static const struct field f_tunnel[] = {
	FS(T, name, F_NAME, name, 1, 0),
	FX(local),
	FX(remote),
	FS(T, local_id, F_STR, local_id, 1, 0),
	FS(T, remote_id, F_STR, remote_id, 1, 0),
	FX(psk),
	FX(psk_file),
	FS(T, ike_version, F_U32, ike_version, 1, 2),
	FS(T, aggressive, F_BOOL, aggressive, 0, 0),
	FS(T, share_ike, F_BOOL, share_ike, 0, 0),
	FX(ike_proposals),
	FX(esp_proposals),
	FS(T, ike_lifetime, F_U32, ike_lifetime, 300, 86400),
	FS(T, child_lifetime, F_U32, child_lifetime, 300, 86400),
	FS(T, child_lifetime_kb, F_U64, child_lifetime_kb, 0,
	    UINT64_MAX / 1024),
	FS(T, rekey_margin, F_U32, rekey_margin, 0, 3600),
	FS(T, rekey_fuzz, F_U32, rekey_fuzz, 0, 100),
	FS(T, dpd_interval, F_U32, dpd_interval, 0, 3600),
	FS(T, dpd_timeout, F_U32, dpd_timeout, 2, 3600),
	FS(T, suspect, F_U32, suspect, 0, 60),
	FE(T, dpd_action, dpd_action, w_dpd, v_dpd),
	FE(T, role, role, w_role, v_role),
	FX(local_ts),
	FX(remote_ts),
	FS(T, address, F_IFADDR, address, 0, 0),
	FS(T, interface, F_NAME, ifname, 1, 0),
	FS(T, mtu, F_U32, mtu, 576, 9000),
	FS(T, mss, F_U32, mss, 0, 9000),
	FS(T, replay_window, F_U32, replay_window, 0, 65536),
	FS(T, if_id, F_U32, if_id, 1, UINT32_MAX),
	FS(T, force_encap, F_BOOL, force_encap, 0, 0),
	FS(T, offload, F_BOOL, offload, 0, 0),
	FPROFILE(T),
	FX(profile_override),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef T

#define R mgw_cfg_route
static const struct field f_route[] = {
	FS(R, prefix, F_PREFIX, prefix, 0, 0),
	FS(R, tunnel, F_NAME, tunnel, 1, 0),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef R

#define E mgw_cfg_pl_entry
static const struct field f_plentry[] = {
	FS(E, prefix, F_PREFIX, prefix, 0, 0),
	FS(E, ge, F_U8, ge, 0, 128),
	FS(E, le, F_U8, le, 0, 128),
	FE(E, action, permit, w_action, v_action),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef E

#define P mgw_cfg_plist
static const struct field f_plist[] = {
	FS(P, name, F_NAME, name, 1, 0),
	FX(entries),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef P

#define N mgw_cfg_neighbor
static const struct field f_nb[] = {
	FS(N, address, F_ADDR, addr, 0, 0),
	FS(N, remote_as, F_ASN, remote_as, 1, UINT32_MAX),
	FS(N, tunnel, F_NAME, tunnel, 1, 0),
	FE(N, tunnel_down, tunnel_down, w_tdown, v_tdown),
	FS(N, update_source, F_STR, update_source, 1, 0),
	FS(N, multihop, F_U8, multihop, 1, 255),
	FS(N, hold_time, F_U16, hold, 0, 65535),
	FS(N, keepalive, F_U16, keepalive, 0, 21845),
	FS(N, connect_retry, F_U16, connect_retry, 1, 65535),
	FX(md5_password),
	FS(N, max_prefix, F_U32, max_prefix, 0, UINT32_MAX),
	FE(N, max_prefix_action, max_prefix_teardown, w_mpa, v_mpa),
	FS(N, max_prefix_restart, F_U32, max_prefix_restart, 0, 86400),
	FS(N, out_max_prefix, F_U32, out_max_prefix, 0, UINT32_MAX),
	FS(N, graceful_restart, F_BOOL, graceful_restart, 0, 0),
	FS(N, passive, F_BOOL, passive, 0, 0),
	FS(N, next_hop_self, F_BOOL, next_hop_self, 0, 0),
	FS(N, remove_private_as, F_BOOL, remove_private_as, 0, 0),
	FX(import),
	FX(export),
	FS(N, prepend, F_U8, prepend, 0, 16),
	FX(med),
	FPROFILE(N),
	FX(profile_override),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};
#undef N

/* ---- errors ----------------------------------------------------------- */

static int
fail(struct pctx *p, const yaml_node_t *n, const char *field, const char *fmt,
    ...)
{
	va_list ap;
	size_t k;

	k = (size_t)snprintf(p->err, p->errlen, "%s:%lu: %s: ", p->path,
	    n != NULL ? (unsigned long)n->start_mark.line + 1 : 0UL,
	    field[0] != '\0' ? field : "top level");
	if (k < p->errlen) {
		va_start(ap, fmt);
		vsnprintf(p->err + k, p->errlen - k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static const char *
sval(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int
need_scalar(struct pctx *p, const yaml_node_t *n, const char *field)
{
	if (n == NULL || n->type != YAML_SCALAR_NODE)
		return fail(p, n, field, "must be a single value");
	return 0;
}

/* ---- values ----------------------------------------------------------- */

int
mgw_parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	return 0;
}

int
mgw_asn_ok(uint64_t v)
{
	return v >= 1 && v <= UINT32_MAX && v != 23456;
}

int
mgw_parse_ifaddr(const char *s, vpnr_prefix *p)
{
	char buf[64], *slash;
	uint64_t len;

	if (strlen(s) >= sizeof(buf))
		return -1;
	snprintf(buf, sizeof(buf), "%s", s);
	if ((slash = strchr(buf, '/')) == NULL)
		return -1;
	*slash = '\0';
	memset(p, 0, sizeof(*p));
	if (vpnr_addr_parse(&p->addr, buf) != VPNR_OK || p->addr.port != 0 ||
	    mgw_parse_u64(slash + 1, &len) < 0 ||
	    len > (p->addr.family == VPNR_AF_INET ? 32u : 128u))
		return -1;
	p->len = (uint8_t)len;
	return 0;
}

static int
parse_addr(const char *s, vpnr_addr *a)
{
	memset(a, 0, sizeof(*a));
	/* No ports here: "1.2.3.4:5" is not an address in this file. */
	if (vpnr_addr_parse(a, s) != VPNR_OK || a->port != 0)
		return -1;
	return 0;
}

static int
parse_prefix(const char *s, vpnr_prefix *p)
{
	memset(p, 0, sizeof(*p));
	if (strchr(s, '/') == NULL || vpnr_prefix_parse(p, s) != VPNR_OK ||
	    p->addr.port != 0)
		return -1;
	return 0;
}

static int
name_ok(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' &&
		    *s != '.')
			return 0;
	return 1;
}

/* Printable ASCII only: names, paths and IDs end up in logs and in
 * --print, where anything else would be ambiguous. */
static int
printable(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static void
words_list(const char *const *w, char *buf, size_t len)
{
	size_t k = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; w[i] != NULL && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "",
		    w[i]);
}

static int
set_field(struct pctx *p, const struct field *f, yaml_node_t *n,
    const char *field, void *obj)
{
	char *dst = (char *)obj + f->off;
	const char *s;
	char allowed[128], a[64];
	uint64_t v;
	int i;

	if (need_scalar(p, n, field) < 0)
		return -1;
	s = sval(n);
	switch (f->type) {
	case F_STR:
	case F_NAME:
		if (strlen(s) >= f->size)
			return fail(p, n, field,
			    "too long (at most %zu characters)", f->size - 1);
		if (f->min > 0 && s[0] == '\0')
			return fail(p, n, field, "must not be empty");
		if (!printable(s))
			return fail(p, n, field,
			    "only printable ASCII characters are allowed");
		if (f->type == F_NAME && !name_ok(s))
			return fail(p, n, field,
			    "'%s' is not a name (allowed: letters, digits, "
			    "'_', '-', '.')",
			    s);
		if (f->words != NULL) {
			for (i = 0; f->words[i] != NULL; i++)
				if (strcmp(s, f->words[i]) == 0)
					break;
			if (f->words[i] == NULL) {
				words_list(f->words, allowed, sizeof(allowed));
				return fail(p, n, field,
				    "'%s' is not allowed (allowed: %s)", s,
				    allowed);
			}
		}
		snprintf(dst, f->size, "%s", s);
		return 0;
	case F_U8:
	case F_U16:
	case F_U32:
	case F_U64:
		if (mgw_parse_u64(s, &v) < 0)
			return fail(p, n, field,
			    "'%s' is not a number (allowed %" PRIu64 "-%" PRIu64
			    ")",
			    s, f->min, f->max);
		if (v < f->min || v > f->max)
			return fail(p, n, field,
			    "%s is out of range (allowed %" PRIu64 "-%" PRIu64
			    ")",
			    s, f->min, f->max);
		if (f->type == F_U8)
			*(uint8_t *)dst = (uint8_t)v;
		else if (f->type == F_U16)
			*(uint16_t *)(void *)dst = (uint16_t)v;
		else if (f->type == F_U32)
			*(uint32_t *)(void *)dst = (uint32_t)v;
		else
			*(uint64_t *)(void *)dst = v;
		return 0;
	case F_ASN:
		if (mgw_parse_u64(s, &v) < 0 || !mgw_asn_ok(v))
			return fail(p, n, field,
			    "'%s' is not a usable AS number (allowed "
			    "1-4294967295, except 23456 = AS_TRANS)",
			    s);
		*(uint32_t *)(void *)dst = (uint32_t)v;
		return 0;
	case F_BOOL:
		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0 ||
		    strcmp(s, "on") == 0)
			*(int *)(void *)dst = 1;
		else if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0 ||
		    strcmp(s, "off") == 0)
			*(int *)(void *)dst = 0;
		else
			return fail(p, n, field,
			    "'%s' is not a boolean (allowed: true, false)", s);
		return 0;
	case F_ENUM:
		for (i = 0; f->words[i] != NULL; i++)
			if (strcmp(s, f->words[i]) == 0)
				break;
		if (f->words[i] == NULL) {
			words_list(f->words, allowed, sizeof(allowed));
			return fail(p, n, field,
			    "'%s' is not allowed (allowed: %s)", s, allowed);
		}
		if (f->size == sizeof(uint32_t))
			*(int *)(void *)dst = f->vals[i];
		return 0;
	case F_ADDR:
		if (parse_addr(s, (vpnr_addr *)(void *)dst) < 0)
			return fail(p, n, field,
			    "'%s' is not an IPv4 or IPv6 address", s);
		return 0;
	case F_IFADDR:
		if (mgw_parse_ifaddr(s, (vpnr_prefix *)(void *)dst) < 0)
			return fail(p, n, field,
			    "'%s' is not an interface address (allowed: "
			    "ADDRESS/LENGTH, e.g. 169.254.0.1/30)",
			    s);
		return 0;
	case F_PREFIX:
		if (parse_prefix(s, (vpnr_prefix *)(void *)dst) < 0)
			return fail(p, n, field,
			    "'%s' is not a prefix (allowed: ADDRESS/LENGTH "
			    "with the host bits zero, e.g. 172.16.0.0/16)",
			    s);
		return 0;
	case F_IPV4ID:
		if (inet_pton(AF_INET, s, a) != 1)
			return fail(p, n, field,
			    "'%s' is not a router id (allowed: an IPv4 "
			    "address, e.g. 10.2.2.2)",
			    s);
		*(uint32_t *)(void *)dst = ntohl(*(uint32_t *)(void *)a);
		return 0;
	}
	return fail(p, n, field, "internal: unknown field type");
}

/* ---- special fields --------------------------------------------------- */

typedef int (*item_fn)(struct pctx *, yaml_node_t *, const char *, void *);

/* A list, or a single value taken as a list of one. */
static int
each_item(struct pctx *p, yaml_node_t *n, const char *field, int max,
    item_fn fn, void *arg)
{
	yaml_node_item_t *it;
	char f[160];
	int i = 0;

	if (n->type == YAML_SCALAR_NODE)
		return fn(p, n, field, arg);
	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, field, "must be a list");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		if (i >= max)
			return fail(p, n, field,
			    "too many entries (at most %d)", max);
		snprintf(f, sizeof(f), "%s[%d]", field, i);
		if (fn(p, yaml_document_get_node(p->doc, *it), f, arg) < 0)
			return -1;
	}
	return 0;
}

struct pfx_list {
	vpnr_prefix *v;
	int *n;
	int ifaddr;
};

static int
add_pfx(struct pctx *p, yaml_node_t *n, const char *field, void *arg)
{
	struct pfx_list *l = arg;
	struct field f = { "", l->ifaddr ? F_IFADDR : F_PREFIX, 0,
		sizeof(vpnr_prefix), 0, 0, NULL, NULL, 1 };

	if (set_field(p, &f, n, field, &l->v[*l->n]) < 0)
		return -1;
	(*l->n)++;
	return 0;
}

static int
pfx_field(struct pctx *p, yaml_node_t *n, const char *field, vpnr_prefix *v,
    int *cnt, int ifaddr)
{
	struct pfx_list l = { v, cnt, ifaddr };

	*cnt = 0;
	return each_item(p, n, field, MGW_LIST_MAX, add_pfx, &l);
}

struct prop_list {
	char (*v)[64];
	int *n;
	int esp;
};

static int
add_prop(struct pctx *p, yaml_node_t *n, const char *field, void *arg)
{
	struct prop_list *l = arg;
	vpnr_tunnel_config *tc;
	int rc;

	if (need_scalar(p, n, field) < 0)
		return -1;
	if (strlen(sval(n)) >= 64)
		return fail(p, n, field, "too long (at most 63 characters)");
	/* The library's own parser says whether it is a proposal. */
	if (vpnr_tunnel_config_new(&tc, NULL) != VPNR_OK)
		return fail(p, n, field, "out of memory");
	rc = l->esp ? vpnr_tunnel_config_add_esp_proposal(tc, sval(n)) :
		      vpnr_tunnel_config_add_ike_proposal(tc, sval(n));
	/* One only IKEv1 knows (3des, md5, modp1536): the tunnel's
	 * ike_version decides when the gateway builds it. */
	if (rc != VPNR_OK &&
	    vpnr_tunnel_config_set_ike_version(tc, 1, 0) == VPNR_OK)
		rc = l->esp ? vpnr_tunnel_config_add_esp_proposal(tc, sval(n)) :
			      vpnr_tunnel_config_add_ike_proposal(tc, sval(n));
	if (rc != VPNR_OK) {
		fail(p, n, field,
		    "'%s' is not a proposal this library supports (%s; "
		    "e.g. %s)",
		    sval(n), vpnr_tunnel_config_last_error(tc),
		    l->esp ? "aes256gcm16, aes256-sha256" :
			     "aes256-sha256-modp2048");
		vpnr_tunnel_config_del(tc);
		return -1;
	}
	vpnr_tunnel_config_del(tc);
	snprintf(l->v[*l->n], 64, "%s", sval(n));
	(*l->n)++;
	return 0;
}

static int
read_secret(struct pctx *p, yaml_node_t *n, const char *field, const char *file,
    uint8_t *out, size_t *len, size_t min, size_t max)
{
	char path[MGW_PATH_MAX * 2], *slash;
	uint8_t buf[MGW_PSK_MAX + 2];
	size_t k;
	FILE *f;

	if (file[0] != '/' && (slash = strrchr(p->path, '/')) != NULL)
		snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - p->path),
		    p->path, file);
	else
		snprintf(path, sizeof(path), "%s", file);
	if (!(p->flags & MGW_LOAD_FILES))
		return fail(p, n, field, "files are not read here");
	if ((f = fopen(path, "r")) == NULL)
		return fail(p, n, field, "cannot read %s: %s", path,
		    strerror(errno));
	k = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	/* One trailing newline is not part of the key. */
	if (k > 0 && buf[k - 1] == '\n')
		k--;
	if (k > 0 && buf[k - 1] == '\r')
		k--;
	if (k > max || memchr(buf, '\n', k) != NULL) {
		explicit_bzero(buf, sizeof(buf));
		return fail(p, n, field,
		    "the key in %s is longer than %zu bytes or spans "
		    "several lines (allowed: one line of %zu-%zu bytes)",
		    path, max, min, max);
	}
	if (k < min) {
		explicit_bzero(buf, sizeof(buf));
		return fail(p, n, field,
		    "the key in %s is %zu bytes (allowed %zu-%zu)", path, k,
		    min, max);
	}
	memcpy(out, buf, k);
	*len = k;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static int
host_field(struct pctx *p, yaml_node_t *n, const char *field, char *str,
    size_t strsize, vpnr_addr *a)
{
	struct addrinfo hints, *res;
	int rc;

	if (need_scalar(p, n, field) < 0)
		return -1;
	if (strlen(sval(n)) >= strsize || sval(n)[0] == '\0' ||
	    !printable(sval(n)))
		return fail(p, n, field,
		    "must be an address or a host name of 1-%zu printable "
		    "characters",
		    strsize - 1);
	snprintf(str, strsize, "%s", sval(n));
	if (parse_addr(str, a) == 0)
		return 0;
	if (!(p->flags & MGW_LOAD_RESOLVE))
		return fail(p, n, field,
		    "'%s' is not an address (host names are not looked up "
		    "here)",
		    str);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = getaddrinfo(str, NULL, &hints, &res)) != 0)
		return fail(p, n, field, "cannot resolve '%s': %s", str,
		    gai_strerror(rc));
	memset(a, 0, sizeof(*a));
	if (res->ai_family == AF_INET) {
		a->family = VPNR_AF_INET;
		memcpy(a->bytes,
		    &((struct sockaddr_in *)(void *)res->ai_addr)->sin_addr, 4);
	} else {
		a->family = VPNR_AF_INET6;
		memcpy(a->bytes,
		    &((struct sockaddr_in6 *)(void *)res->ai_addr)->sin6_addr,
		    16);
	}
	freeaddrinfo(res);
	return 0;
}

static int
policy_field(struct pctx *p, yaml_node_t *n, const char *field, int *pol,
    char *list, int export)
{
	const char *s;

	if (need_scalar(p, n, field) < 0)
		return -1;
	s = sval(n);
	list[0] = '\0';
	if (strcmp(s, "all") == 0)
		*pol = MGW_POL_ALL;
	else if (strcmp(s, "none") == 0)
		*pol = MGW_POL_NONE;
	else if (export && strcmp(s, "networks") == 0)
		*pol = MGW_POL_NETWORKS;
	else if (name_ok(s) && strlen(s) < MGW_NAME_MAX) {
		*pol = MGW_POL_LIST;
		snprintf(list, MGW_NAME_MAX, "%s", s);
	} else
		return fail(p, n, field,
		    "'%s' is not allowed (allowed: all, none,%s or the "
		    "name of a prefix list)",
		    s, export ? " networks," : "");
	return 0;
}

/* ---- mappings --------------------------------------------------------- */

static const struct field *
find_field(const struct field *t, const char *key)
{
	for (; t->name != NULL; t++)
		if (strcmp(t->name, key) == 0)
			return t;
	return NULL;
}

static int
unknown_key(struct pctx *p, yaml_node_t *k, const char *where,
    const struct field *t)
{
	char allowed[768];
	size_t n = 0;

	allowed[0] = '\0';
	for (; t->name != NULL && n < sizeof(allowed); t++)
		n += (size_t)snprintf(allowed + n, sizeof(allowed) - n, "%s%s",
		    n ? ", " : "", t->name);
	return fail(p, k, where, "unknown key '%s' (allowed: %s)", sval(k),
	    allowed);
}

typedef int (*special_fn)(struct pctx *, const char *key, yaml_node_t *v,
    const char *field, void *obj);

/*
 * Check every key of mapping n against table t; plain fields are set,
 * special ones go to sp.  seen (one bit per table row) catches keys
 * given twice.
 */
static int
walk_map(struct pctx *p, yaml_node_t *n, const char *where,
    const struct field *t, void *obj, special_fn sp)
{
	yaml_node_pair_t *pr;
	yaml_node_t *k, *v;
	const struct field *f;
	uint64_t seen = 0, bit;
	char field[192];
	int *lines = p->lines;

	p->lines = NULL; /* only this mapping's own keys */
	if (n == NULL || n->type != YAML_MAPPING_NODE)
		return fail(p, n, where, "must be a mapping of key: value");
	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		k = yaml_document_get_node(p->doc, pr->key);
		v = yaml_document_get_node(p->doc, pr->value);
		if (k == NULL || k->type != YAML_SCALAR_NODE || v == NULL)
			return fail(p, k, where, "keys must be plain words");
		if ((f = find_field(t, sval(k))) == NULL)
			return unknown_key(p, k, where, t);
		bit = 1ULL << (f - t);
		if (seen & bit)
			return fail(p, k, where, "'%s' given twice", sval(k));
		seen |= bit;
		if (lines != NULL && f - t < MGW_KEYS_MAX)
			lines[f - t] = (int)k->start_mark.line + 1;
		snprintf(field, sizeof(field), "%s%s%s", where,
		    where[0] ? "." : "", f->name);
		if (f->type == F_SPECIAL) {
			if (sp(p, f->name, v, field, obj) < 0)
				return -1;
		} else if (set_field(p, f, v, field, obj) < 0)
			return -1;
	}
	return 0;
}

/* Presence of a key in a mapping (for required fields). */
static yaml_node_t *
map_get(struct pctx *p, yaml_node_t *n, const char *key)
{
	yaml_node_pair_t *pr;
	yaml_node_t *k;

	for (pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top;
	     pr++) {
		k = yaml_document_get_node(p->doc, pr->key);
		if (k != NULL && k->type == YAML_SCALAR_NODE &&
		    strcmp(sval(k), key) == 0)
			return yaml_document_get_node(p->doc, pr->value);
	}
	return NULL;
}

static int
required(struct pctx *p, yaml_node_t *n, const char *where,
    const char *const *keys)
{
	for (; *keys != NULL; keys++)
		if (map_get(p, n, *keys) == NULL)
			return fail(p, n, where, "'%s' is required", *keys);
	return 0;
}

static int
sp_global(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_cfg_global *g = obj;
	vpnr_addr m;

	/* metrics_listen: ADDRESS:PORT */
	if (need_scalar(p, v, field) < 0)
		return -1;
	if (strlen(sval(v)) >= sizeof(g->metrics) ||
	    vpnr_addr_parse(&m, sval(v)) != VPNR_OK || m.port == 0)
		return fail(p, v, field,
		    "'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9469 or "
		    "[::1]:9469)",
		    sval(v));
	snprintf(g->metrics, sizeof(g->metrics), "%s", sval(v));
	return 0;
}

static int
sp_iface(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_cfg_iface *i = obj;

	return pfx_field(p, v, field, i->addr, &i->n_addr, 1);
}

/* profile_override: rule ids; profile.c checks they are rules of the
 * profile once the whole item is read. */
struct ovr_list {
	char (*v)[MGW_RULEID_MAX];
	int *n;
};

static int
add_ovr(struct pctx *p, yaml_node_t *n, const char *field, void *arg)
{
	struct ovr_list *l = arg;
	const char *s;

	if (need_scalar(p, n, field) < 0)
		return -1;
	s = sval(n);
	if (strlen(s) == 0 || strlen(s) >= MGW_RULEID_MAX || !name_ok(s))
		return fail(p, n, field,
		    "'%s' is not a rule id (e.g. AWS-PSK-1)", s);
	snprintf(l->v[*l->n], MGW_RULEID_MAX, "%s", s);
	(*l->n)++;
	return 0;
}

static int
ovr_field(struct pctx *p, yaml_node_t *v, const char *field,
    char (*ovr)[MGW_RULEID_MAX], int *n)
{
	struct ovr_list l = { ovr, n };

	*n = 0;
	return each_item(p, v, field, MGW_OVR_MAX, add_ovr, &l);
}

static int
sp_tunnel(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_cfg_tunnel *t = obj;
	struct prop_list pl;

	if (strcmp(key, "profile_override") == 0)
		return ovr_field(p, v, field, t->ovr, &t->n_ovr);
	if (strcmp(key, "local") == 0)
		return host_field(p, v, field, t->local, sizeof(t->local),
		    &t->local_addr);
	if (strcmp(key, "remote") == 0)
		return host_field(p, v, field, t->remote, sizeof(t->remote),
		    &t->remote_addr);
	if (strcmp(key, "psk") == 0) {
		if (need_scalar(p, v, field) < 0)
			return -1;
		if (t->psk_len != 0)
			return fail(p, v, field,
			    "give either psk or psk_file, not both");
		/* Measured before copying: never cut to fit. */
		if (strlen(sval(v)) < MGW_PSK_MIN ||
		    strlen(sval(v)) > MGW_PSK_MAX)
			return fail(p, v, field,
			    "the key is %zu bytes (allowed %d-%d)",
			    strlen(sval(v)), MGW_PSK_MIN, MGW_PSK_MAX);
		t->psk_len = strlen(sval(v));
		memcpy(t->psk, sval(v), t->psk_len);
		return 0;
	}
	if (strcmp(key, "psk_file") == 0) {
		if (need_scalar(p, v, field) < 0)
			return -1;
		if (t->psk_len != 0)
			return fail(p, v, field,
			    "give either psk or psk_file, not both");
		if (strlen(sval(v)) >= sizeof(t->psk_file) || !sval(v)[0] ||
		    !printable(sval(v)))
			return fail(p, v, field,
			    "must be a path of 1-%zu printable characters",
			    sizeof(t->psk_file) - 1);
		snprintf(t->psk_file, sizeof(t->psk_file), "%s", sval(v));
		return read_secret(p, v, field, t->psk_file, t->psk,
		    &t->psk_len, MGW_PSK_MIN, MGW_PSK_MAX);
	}
	if (strcmp(key, "ike_proposals") == 0 ||
	    strcmp(key, "esp_proposals") == 0) {
		pl.esp = key[0] == 'e';
		pl.v = pl.esp ? t->esp : t->ike;
		pl.n = pl.esp ? &t->n_esp : &t->n_ike;
		*pl.n = 0;
		return each_item(p, v, field, MGW_LIST_MAX, add_prop, &pl);
	}
	if (strcmp(key, "local_ts") == 0)
		return pfx_field(p, v, field, t->local_ts, &t->n_local_ts, 0);
	return pfx_field(p, v, field, t->remote_ts, &t->n_remote_ts, 0);
}

static int
sp_plist(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_cfg_plist *l = obj;
	struct mgw_cfg_pl_entry *e;
	yaml_node_item_t *it;
	yaml_node_t *en;
	char f[192];
	static const char *const req[] = { "prefix", "action", NULL };

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, field, "must be a list");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++) {
		if (l->n >= 256)
			return fail(p, v, field,
			    "too many entries (at most 256)");
		snprintf(f, sizeof(f), "%s[%d]", field, l->n);
		en = yaml_document_get_node(p->doc, *it);
		if ((e = realloc(l->e, sizeof(*e) * (size_t)(l->n + 1))) ==
		    NULL)
			return fail(p, v, field, "out of memory");
		l->e = e;
		e = &l->e[l->n];
		memset(e, 0, sizeof(*e));
		if (walk_map(p, en, f, f_plentry, e, NULL) < 0 ||
		    required(p, en, f, req) < 0)
			return -1;
		l->n++;
		if (e->ge >
			(e->prefix.addr.family == VPNR_AF_INET ? 32 : 128) ||
		    e->le > (e->prefix.addr.family == VPNR_AF_INET ? 32 : 128))
			return fail(p, en, f,
			    "ge/le longer than the address (allowed up to "
			    "%d)",
			    e->prefix.addr.family == VPNR_AF_INET ? 32 : 128);
		if ((e->ge != 0 && e->ge < e->prefix.len) ||
		    (e->le != 0 && e->le < (e->ge ? e->ge : e->prefix.len)))
			return fail(p, en, f,
			    "needs prefix length <= ge <= le (here %u, %u, "
			    "%u)",
			    e->prefix.len, e->ge, e->le);
	}
	return 0;
}

static int
sp_nb(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_cfg_neighbor *nb = obj;
	uint64_t med;

	if (strcmp(key, "profile_override") == 0)
		return ovr_field(p, v, field, nb->ovr, &nb->n_ovr);
	if (strcmp(key, "import") == 0)
		return policy_field(p, v, field, &nb->import_pol,
		    nb->import_list, 0);
	if (strcmp(key, "export") == 0)
		return policy_field(p, v, field, &nb->export_pol,
		    nb->export_list, 1);
	if (strcmp(key, "med") == 0) {
		if (need_scalar(p, v, field) < 0)
			return -1;
		if (mgw_parse_u64(sval(v), &med) < 0 || med > UINT32_MAX)
			return fail(p, v, field,
			    "'%s' is not a MED (allowed 0-4294967295)",
			    sval(v));
		nb->has_med = 1;
		nb->med = (uint32_t)med;
		return 0;
	}
	/* md5_password */
	if (need_scalar(p, v, field) < 0)
		return -1;
	if (strlen(sval(v)) < 1 || strlen(sval(v)) > MGW_MD5_MAX)
		return fail(p, v, field, "the key is %zu bytes (allowed 1-%d)",
		    strlen(sval(v)), MGW_MD5_MAX);
	snprintf(nb->md5, sizeof(nb->md5), "%s", sval(v));
	return 0;
}

/* ---- sections --------------------------------------------------------- */

/* Make room for one more zeroed element; on failure *arr is kept. */
static int
grow_(void **arr, int n, size_t sz)
{
	void *q = realloc(*arr, sz * (size_t)(n + 1));

	if (q == NULL)
		return -1;
	memset((char *)q + sz * (size_t)n, 0, sz);
	*arr = q;
	return 0;
}
#define GROW(arr, n) grow_((void **)&(arr), (n), sizeof(*(arr)))

static int
seq_of_maps(struct pctx *p, yaml_node_t *n, const char *where,
    int (*one)(struct pctx *, yaml_node_t *, const char *))
{
	yaml_node_item_t *it;
	char f[64];
	int i = 0;

	if (n->type != YAML_SEQUENCE_NODE)
		return fail(p, n, where, "must be a list");
	for (it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++, i++) {
		snprintf(f, sizeof(f), "%s[%d]", where, i);
		if (one(p, yaml_document_get_node(p->doc, *it), f) < 0)
			return -1;
	}
	return 0;
}

/*
 * One element of a list section: where it starts (for later errors),
 * its keys, then the keys it cannot do without.
 */
static int
walk_item(struct pctx *p, yaml_node_t *n, const char *f, int *line,
    const struct field *t, void *obj, special_fn sp, const char *const *req)
{
	*line = (int)n->start_mark.line + 1;
	if (walk_map(p, n, f, t, obj, sp) < 0)
		return -1;
	return required(p, n, f, req);
}

static int
one_iface(struct pctx *p, yaml_node_t *n, const char *f)
{
	struct mgw_config *c = p->c;
	struct mgw_cfg_iface *e;
	static const char *const req[] = { "name", NULL };

	if (GROW(c->ifs, c->n_ifs) < 0)
		return fail(p, n, f, "out of memory");
	e = &c->ifs[c->n_ifs++];
	return walk_item(p, n, f, &e->line, f_iface, e, sp_iface, req);
}

static int
one_tunnel(struct pctx *p, yaml_node_t *n, const char *f)
{
	struct mgw_config *c = p->c;
	struct mgw_cfg_tunnel *t;
	static const char *const req[] = { "name", "local", "remote", "address",
		NULL };

	if (GROW(c->tun, c->n_tun) < 0)
		return fail(p, n, f, "out of memory");
	t = &c->tun[c->n_tun];
	mgw_tunnel_defaults(t, c->n_tun);
	c->n_tun++;
	p->lines = t->key_line;
	if (walk_item(p, n, f, &t->line, f_tunnel, t, sp_tunnel, req) < 0)
		return -1;
	if (t->psk_len == 0)
		return fail(p, n, f, "'psk' or 'psk_file' is required");
	return 0;
}

static int
one_route(struct pctx *p, yaml_node_t *n, const char *f)
{
	struct mgw_config *c = p->c;
	struct mgw_cfg_route *e;
	static const char *const req[] = { "prefix", "tunnel", NULL };

	if (GROW(c->routes, c->n_routes) < 0)
		return fail(p, n, f, "out of memory");
	e = &c->routes[c->n_routes++];
	return walk_item(p, n, f, &e->line, f_route, e, NULL, req);
}

static int
one_plist(struct pctx *p, yaml_node_t *n, const char *f)
{
	struct mgw_config *c = p->c;
	struct mgw_cfg_plist *e;
	static const char *const req[] = { "name", "entries", NULL };

	if (GROW(c->pl, c->n_pl) < 0)
		return fail(p, n, f, "out of memory");
	e = &c->pl[c->n_pl++];
	return walk_item(p, n, f, &e->line, f_plist, e, sp_plist, req);
}

static int
one_nb(struct pctx *p, yaml_node_t *n, const char *f)
{
	struct mgw_config *c = p->c;
	struct mgw_cfg_neighbor *nb;
	static const char *const req[] = { "address", "remote_as", NULL };

	if (GROW(c->nb, c->n_nb) < 0)
		return fail(p, n, f, "out of memory");
	nb = &c->nb[c->n_nb++];
	mgw_neighbor_defaults(nb);
	p->lines = nb->key_line;
	if (walk_item(p, n, f, &nb->line, f_nb, nb, sp_nb, req) < 0)
		return -1;
	if (nb->hold != 0 && nb->hold < 3)
		return fail(p, n, f,
		    "hold_time %u is not allowed (allowed 0 or 3-65535)",
		    nb->hold);
	if (nb->keepalive != 0 && nb->hold != 0 && nb->keepalive > nb->hold / 3)
		return fail(p, n, f,
		    "keepalive %u is more than a third of hold_time %u",
		    nb->keepalive, nb->hold);
	return 0;
}

static const struct field f_bgp[] = {
	FX(neighbors),
	FX(networks),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};

static int
sp_bgp(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_config *c = p->c;
	yaml_node_item_t *it;
	char f[64];
	int i = 0;
	struct field pf = { "", F_PREFIX, 0, sizeof(vpnr_prefix), 0, 0, NULL,
		NULL, 1 };

	if (strcmp(key, "neighbors") == 0)
		return seq_of_maps(p, v, field, one_nb);
	c->networks_line = (int)v->start_mark.line + 1;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(p, v, field, "must be a list of prefixes");
	for (it = v->data.sequence.items.start; it < v->data.sequence.items.top;
	     it++, i++) {
		snprintf(f, sizeof(f), "%s[%d]", field, i);
		if (GROW(c->networks, c->n_networks) < 0)
			return fail(p, v, f, "out of memory");
		if (set_field(p, &pf, yaml_document_get_node(p->doc, *it), f,
			&c->networks[c->n_networks]) < 0)
			return -1;
		c->n_networks++;
	}
	return 0;
}

static const struct field f_top[] = {
	FX(global),
	FX(interfaces),
	FX(tunnels),
	FX(routes),
	FX(prefix_lists),
	FX(bgp),
	{ NULL, 0, 0, 0, 0, 0, NULL, NULL, 0 },
};

static int
sp_top(struct pctx *p, const char *key, yaml_node_t *v, const char *field,
    void *obj)
{
	struct mgw_config *c = p->c;

	if (strcmp(key, "global") == 0) {
		p->lines = c->g.key_line;
		return walk_map(p, v, field, f_global, &c->g, sp_global);
	}
	if (strcmp(key, "interfaces") == 0)
		return seq_of_maps(p, v, field, one_iface);
	if (strcmp(key, "tunnels") == 0)
		return seq_of_maps(p, v, field, one_tunnel);
	if (strcmp(key, "routes") == 0)
		return seq_of_maps(p, v, field, one_route);
	if (strcmp(key, "prefix_lists") == 0)
		return seq_of_maps(p, v, field, one_plist);
	return walk_map(p, v, field, f_bgp, c, sp_bgp);
}

/* ---- defaults, cross checks ------------------------------------------- */

void
mgw_config_init(struct mgw_config *c)
{
	memset(c, 0, sizeof(*c));
	c->g.log_level = VPNR_LOG_INFO;
	snprintf(c->g.log_target, sizeof(c->g.log_target), "auto");
	snprintf(c->g.control, sizeof(c->g.control), "/run/minigw/minigw.sock");
	c->g.ike_port = 500;
	c->g.natt_port = 4500;
	c->g.cookie_threshold = 64;
	c->g.cookie_threshold_ip = 3;
	c->g.block_threshold = 5;
	c->g.half_open_limit = 4096;
}

void
mgw_tunnel_defaults(struct mgw_cfg_tunnel *t, int index)
{
	memset(t, 0, sizeof(*t));
	t->ike_version = 2;
	t->ike_lifetime = 28800;
	t->child_lifetime = 3600;
	t->rekey_margin = 300;
	t->rekey_fuzz = 10;
	t->dpd_interval = 10;
	t->dpd_timeout = 20;
	t->suspect = 2;
	t->dpd_action = VPNR_DPD_ACTION_RESTART;
	t->role = MGW_ROLE_INITIATE;
	t->mtu = 1400;
	t->mss = 1350;
	t->replay_window = 1024;
	t->if_id = (uint32_t)index + 1;
	t->offload = 1;
	snprintf(t->ifname, sizeof(t->ifname), "mgw%d", index);
}

uint32_t
mgw_v4(const vpnr_addr *a)
{
	return (uint32_t)a->bytes[0] << 24 | (uint32_t)a->bytes[1] << 16 |
	    (uint32_t)a->bytes[2] << 8 | a->bytes[3];
}

static void
higher_v4(const vpnr_addr *a, uint32_t *best)
{
	if (a->family == VPNR_AF_INET && mgw_v4(a) > *best)
		*best = mgw_v4(a);
}

uint32_t
mgw_config_router_id(const struct mgw_config *c)
{
	uint32_t best = 0;
	int i;

	if (c->g.router_id != 0)
		return c->g.router_id;
	for (i = 0; i < c->n_tun; i++) {
		higher_v4(&c->tun[i].address.addr, &best);
		higher_v4(&c->tun[i].local_addr, &best);
	}
	for (i = 0; i < c->n_nb; i++)
		higher_v4(&c->nb[i].local, &best);
	return best;
}

void
mgw_neighbor_defaults(struct mgw_cfg_neighbor *n)
{
	memset(n, 0, sizeof(*n));
	n->multihop = 1;
	n->hold = 90;
	n->connect_retry = 30;
	n->max_prefix_teardown = 1;
	n->graceful_restart = 1;
	n->tunnel_down = VPNR_BGP_TUNNEL_DOWN_RESET;
	n->next_hop_self = 1;
	n->import_pol = MGW_POL_ALL;
	n->export_pol = MGW_POL_NETWORKS;
}

static int
cfail(struct mgw_config *c, char *err, size_t errlen, int line,
    const char *field, const char *fmt, ...)
{
	va_list ap;
	size_t k;

	k = (size_t)snprintf(err, errlen, "%s:%d: %s: ", c->path, line, field);
	if (k < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + k, errlen - k, fmt, ap);
		va_end(ap);
	}
	return -1;
}

const struct mgw_cfg_plist *
mgw_config_plist(const struct mgw_config *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_pl; i++)
		if (strcmp(c->pl[i].name, name) == 0)
			return &c->pl[i];
	return NULL;
}

const struct mgw_cfg_tunnel *
mgw_config_tunnel(const struct mgw_config *c, const char *name)
{
	int i;

	for (i = 0; i < c->n_tun; i++)
		if (strcmp(c->tun[i].name, name) == 0)
			return &c->tun[i];
	return NULL;
}

static int
pfx_contains(const vpnr_prefix *p, const vpnr_addr *a)
{
	int bits = p->len, i;

	if (p->addr.family != a->family)
		return 0;
	for (i = 0; bits > 0; i++, bits -= 8) {
		uint8_t m = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));

		if ((p->addr.bytes[i] & m) != (a->bytes[i] & m))
			return 0;
	}
	return 1;
}

int
mgw_config_check(struct mgw_config *c, char *err, size_t errlen)
{
	struct mgw_cfg_tunnel *t;
	struct mgw_cfg_neighbor *nb;
	const struct mgw_cfg_tunnel *rt;
	char f[64];
	int i, j, k, best;

	if (c->g.cookie_threshold_ip > c->g.block_threshold) {
		best = mgw_global_key_line(&c->g, "cookie_threshold_ip");
		return cfail(c, err, errlen,
		    best != 0 ? best :
				mgw_global_key_line(&c->g, "block_threshold"),
		    "global.cookie_threshold_ip",
		    "%u is more than block_threshold %u (past "
		    "block_threshold an address's requests are dropped, "
		    "COOKIE or not)",
		    c->g.cookie_threshold_ip, c->g.block_threshold);
	}
	for (i = 0; i < c->n_ifs; i++)
		for (j = 0; j < i; j++)
			if (strcmp(c->ifs[i].name, c->ifs[j].name) == 0)
				return cfail(c, err, errlen, c->ifs[i].line,
				    "interfaces", "'%s' defined twice",
				    c->ifs[i].name);
	for (i = 0; i < c->n_tun; i++) {
		t = &c->tun[i];
		snprintf(f, sizeof(f), "tunnels[%d]", i);
		for (j = 0; j < i; j++) {
			if (strcmp(t->name, c->tun[j].name) == 0)
				return cfail(c, err, errlen, t->line, f,
				    "name '%s' used twice (tunnel names must "
				    "be unique)",
				    t->name);
			if (strcmp(t->ifname, c->tun[j].ifname) == 0)
				return cfail(c, err, errlen, t->line, f,
				    "interface '%s' used by two tunnels",
				    t->ifname);
			if (t->if_id == c->tun[j].if_id)
				return cfail(c, err, errlen, t->line, f,
				    "if_id %u used by two tunnels", t->if_id);
		}
		for (j = 0; j < c->n_ifs; j++)
			if (strcmp(t->ifname, c->ifs[j].name) == 0)
				return cfail(c, err, errlen, t->line, f,
				    "interface '%s' is also in interfaces",
				    t->ifname);
		if (t->local_addr.family != t->remote_addr.family)
			return cfail(c, err, errlen, t->line, f,
			    "local and remote are of different families");
		if (t->n_local_ts != 0 && t->n_remote_ts == 0)
			return cfail(c, err, errlen, t->line, f,
			    "local_ts without remote_ts (give both)");
		if (t->n_remote_ts != 0 && t->n_local_ts == 0)
			return cfail(c, err, errlen, t->line, f,
			    "remote_ts without local_ts (give both)");
		if (t->ike_version == 1 &&
		    (t->n_local_ts > 1 || t->n_remote_ts > 1))
			return cfail(c, err, errlen, t->line, f,
			    "IKEv1 carries one local_ts and one remote_ts: "
			    "configure one tunnel per pair");
		if (t->aggressive && t->ike_version != 1)
			return cfail(c, err, errlen, t->line, f,
			    "aggressive is IKEv1's (set ike_version: 1)");
		/* IKEv1 puts every Quick Mode of a peer in its one ISAKMP
		 * SA already: nothing to opt into. */
		if (t->share_ike && t->ike_version == 1) {
			snprintf(f, sizeof(f), "tunnels[%d].share_ike", i);
			return cfail(c, err, errlen,
			    mgw_tunnel_key_line(t, "share_ike"), f,
			    "true needs ike_version: 2 (IKEv1 tunnels to one "
			    "peer share an ISAKMP SA without it)");
		}
		if (t->rekey_margin >= t->child_lifetime ||
		    t->rekey_margin >= t->ike_lifetime)
			return cfail(c, err, errlen, t->line, f,
			    "rekey_margin %u must be shorter than both "
			    "lifetimes",
			    t->rekey_margin);
		if (t->mss > t->mtu - 40 || (t->mss != 0 && t->mss < 536))
			return cfail(c, err, errlen, t->line, f,
			    "mss %u does not fit (allowed 0 = off, or 536 to "
			    "mtu - 40 = %u)",
			    t->mss, t->mtu - 40);
	}
	for (i = 0; i < c->n_routes; i++)
		if (mgw_config_tunnel(c, c->routes[i].tunnel) == NULL)
			return cfail(c, err, errlen, c->routes[i].line,
			    "routes", "unknown tunnel '%s'",
			    c->routes[i].tunnel);
	for (i = 0; i < c->n_pl; i++)
		for (j = 0; j < i; j++)
			if (strcmp(c->pl[i].name, c->pl[j].name) == 0)
				return cfail(c, err, errlen, c->pl[i].line,
				    "prefix_lists", "'%s' defined twice",
				    c->pl[i].name);
	if (c->n_nb > 0 && c->g.local_as == 0)
		return cfail(c, err, errlen, c->nb[0].line, "global.local_as",
		    "required when bgp neighbors are configured");
	for (i = 0; i < c->n_nb; i++) {
		nb = &c->nb[i];
		snprintf(f, sizeof(f), "bgp.neighbors[%d]", i);
		for (j = 0; j < i; j++)
			if (memcmp(&nb->addr, &c->nb[j].addr,
				sizeof(nb->addr)) == 0)
				return cfail(c, err, errlen, nb->line, f,
				    "neighbor address given twice");
		if (nb->remote_as == c->g.local_as)
			return cfail(c, err, errlen, nb->line, f,
			    "remote_as %u equals local_as (only eBGP is "
			    "supported)",
			    nb->remote_as);
		if (!nb->next_hop_self)
			return cfail(c, err, errlen, nb->line, f,
			    "next_hop_self: false is not supported (eBGP "
			    "always advertises its own address)");
		if ((nb->import_pol == MGW_POL_LIST &&
			mgw_config_plist(c, nb->import_list) == NULL) ||
		    (nb->export_pol == MGW_POL_LIST &&
			mgw_config_plist(c, nb->export_list) == NULL))
			return cfail(c, err, errlen, nb->line, f,
			    "unknown prefix list '%s'",
			    nb->import_pol == MGW_POL_LIST &&
				    mgw_config_plist(c, nb->import_list) ==
					NULL ?
				nb->import_list :
				nb->export_list);
		if (nb->tunnel[0] != '\0' &&
		    mgw_config_tunnel(c, nb->tunnel) == NULL)
			return cfail(c, err, errlen, nb->line, f,
			    "unknown tunnel '%s'", nb->tunnel);
		/* update_source: an interface of ours, or an address. */
		memset(&nb->local, 0, sizeof(nb->local));
		if (nb->update_source[0] != '\0') {
			for (j = 0; j < c->n_ifs; j++)
				if (strcmp(c->ifs[j].name, nb->update_source) ==
					0 &&
				    c->ifs[j].n_addr > 0) {
					for (k = 0; k < c->ifs[j].n_addr; k++)
						if (c->ifs[j]
							.addr[k]
							.addr.family ==
						    nb->addr.family)
							break;
					if (k < c->ifs[j].n_addr)
						nb->local =
						    c->ifs[j].addr[k].addr;
				}
			for (j = 0; j < c->n_tun; j++)
				if (strcmp(c->tun[j].ifname,
					nb->update_source) == 0)
					nb->local = c->tun[j].address.addr;
			if (nb->local.family == 0 &&
			    parse_addr(nb->update_source, &nb->local) < 0)
				return cfail(c, err, errlen, nb->line, f,
				    "update_source '%s' is neither an "
				    "interface with an address of the "
				    "neighbor's family nor an address",
				    nb->update_source);
		}
		/*
		 * The tunnel a neighbour rides: given, or the one whose
		 * inner network or static route holds its address.
		 */
		if (nb->tunnel[0] == '\0') {
			best = -1;
			rt = NULL;
			for (j = 0; j < c->n_tun; j++) {
				vpnr_prefix net = c->tun[j].address;

				if (pfx_contains(&net, &nb->addr) &&
				    net.len > best) {
					best = net.len;
					rt = &c->tun[j];
				}
			}
			for (j = 0; j < c->n_routes; j++)
				if (pfx_contains(&c->routes[j].prefix,
					&nb->addr) &&
				    c->routes[j].prefix.len > best) {
					best = c->routes[j].prefix.len;
					rt = mgw_config_tunnel(c,
					    c->routes[j].tunnel);
				}
			if (rt != NULL)
				snprintf(nb->tunnel, sizeof(nb->tunnel), "%s",
				    rt->name);
		}
		if (nb->update_source[0] == '\0' && nb->tunnel[0] != '\0')
			nb->local =
			    mgw_config_tunnel(c, nb->tunnel)->address.addr;
	}
	return 0;
}

void
mgw_config_free(struct mgw_config *c)
{
	int i;

	for (i = 0; i < c->n_tun; i++)
		explicit_bzero(c->tun[i].psk, sizeof(c->tun[i].psk));
	for (i = 0; i < c->n_nb; i++)
		explicit_bzero(c->nb[i].md5, sizeof(c->nb[i].md5));
	for (i = 0; i < c->n_pl; i++)
		free(c->pl[i].e);
	free(c->ifs);
	free(c->tun);
	free(c->routes);
	free(c->pl);
	free(c->nb);
	free(c->networks);
	c->ifs = NULL;
	c->tun = NULL;
	c->routes = NULL;
	c->pl = NULL;
	c->nb = NULL;
	c->networks = NULL;
	c->n_ifs = c->n_tun = c->n_routes = c->n_pl = c->n_nb = 0;
	c->n_networks = 0;
}

int
mgw_config_load(struct mgw_config *c, const char *path, const char *text,
    size_t len, int flags, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	struct pctx p;
	FILE *f = NULL;
	int rc = -1;

	mgw_config_init(c);
	snprintf(c->path, sizeof(c->path), "%s", path);
	memset(&p, 0, sizeof(p));
	p.path = path;
	p.err = err;
	p.errlen = errlen;
	p.flags = flags;
	p.c = c;
	p.doc = &doc;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -1;
	}
	if (text != NULL)
		yaml_parser_set_input_string(&parser,
		    (const unsigned char *)text, len);
	else if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		yaml_parser_delete(&parser);
		return -1;
	} else
		yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "%s:%lu: YAML syntax: %s%s%s", path,
		    (unsigned long)(parser.problem_mark.line + 1),
		    parser.problem != NULL ? parser.problem : "error",
		    parser.context != NULL ? " " : "",
		    parser.context != NULL ? parser.context : "");
		yaml_parser_delete(&parser);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	root = yaml_document_get_root_node(&doc);
	if (root == NULL)
		snprintf(err, errlen, "%s:1: the file is empty", path);
	else if (walk_map(&p, root, "", f_top, c, sp_top) == 0 &&
	    mgw_profile_apply(c, err, errlen) == 0 &&
	    mgw_config_check(c, err, errlen) == 0)
		rc = 0;
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (f != NULL)
		fclose(f);
	if (rc < 0)
		mgw_config_free(c);
	return rc;
}

/* ---- key lines (profiles) ------------------------------------------ */

static int
key_line(const struct field *t, const int *lines, const char *key)
{
	const struct field *f = find_field(t, key);

	return f != NULL && f - t < MGW_KEYS_MAX ? lines[f - t] : 0;
}

int
mgw_tunnel_key_line(const struct mgw_cfg_tunnel *t, const char *key)
{
	return key_line(f_tunnel, t->key_line, key);
}

int
mgw_neighbor_key_line(const struct mgw_cfg_neighbor *n, const char *key)
{
	return key_line(f_nb, n->key_line, key);
}

int
mgw_global_key_line(const struct mgw_cfg_global *g, const char *key)
{
	return key_line(f_global, g->key_line, key);
}

/* ---- equality --------------------------------------------------------- */

int
mgw_tunnel_equal(const struct mgw_cfg_tunnel *a, const struct mgw_cfg_tunnel *b)
{
	struct mgw_cfg_tunnel x = *a, y = *b;
	int eq;

	x.line = y.line = 0;
	memset(x.key_line, 0, sizeof(x.key_line));
	memset(y.key_line, 0, sizeof(y.key_line));
	eq = memcmp(&x, &y, sizeof(x)) == 0;
	explicit_bzero(x.psk, sizeof(x.psk));
	explicit_bzero(y.psk, sizeof(y.psk));
	return eq;
}

static int
plist_equal(const struct mgw_cfg_plist *a, const struct mgw_cfg_plist *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return a->n == b->n &&
	    (a->n == 0 ||
		memcmp(a->e, b->e, sizeof(*a->e) * (size_t)a->n) == 0);
}

int
mgw_neighbor_equal(const struct mgw_config *ca,
    const struct mgw_cfg_neighbor *a, const struct mgw_config *cb,
    const struct mgw_cfg_neighbor *b)
{
	struct mgw_cfg_neighbor x = *a, y = *b;

	x.line = y.line = 0;
	memset(x.key_line, 0, sizeof(x.key_line));
	memset(y.key_line, 0, sizeof(y.key_line));
	if (memcmp(&x, &y, sizeof(x)) != 0)
		return 0;
	/* The lists it uses count as part of it. */
	if (a->import_pol == MGW_POL_LIST &&
	    !plist_equal(mgw_config_plist(ca, a->import_list),
		mgw_config_plist(cb, b->import_list)))
		return 0;
	if (a->export_pol == MGW_POL_LIST &&
	    !plist_equal(mgw_config_plist(ca, a->export_list),
		mgw_config_plist(cb, b->export_list)))
		return 0;
	return 1;
}

/* ---- printing --------------------------------------------------------- */

/* A YAML double-quoted scalar: printable ASCII kept, the rest escaped. */
static void
pq(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20 || ch >= 0x7f)
			fprintf(f, "\\x%02x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

/* Addresses and prefixes plain, IPv6 ones quoted ("::" ends a key). */
static void
pv(FILE *f, const char *s)
{
	if (strchr(s, ':') != NULL)
		pq(f, s);
	else
		fputs(s, f);
}

static void
print_fields(FILE *f, const struct field *t, const void *obj, const char *ind,
    int *first)
{
	const char *src;
	char buf[64];
	uint32_t u;
	size_t k;
	int i, v;

	for (; t->name != NULL; t++) {
		if (!t->print)
			continue;
		src = (const char *)obj + t->off;
		if ((t->type == F_STR || t->type == F_NAME) && src[0] == '\0')
			continue;
		if (t->type == F_ADDR &&
		    ((const vpnr_addr *)(const void *)src)->family == 0)
			continue;
		if (t->type == F_IPV4ID && *(const uint32_t *)src == 0)
			continue;
		if (t->type == F_ASN && *(const uint32_t *)src == 0)
			continue;
		fprintf(f, "%s%s: ", *first ? "" : ind, t->name);
		*first = 0;
		switch (t->type) {
		case F_STR:
		case F_NAME:
			pq(f, src);
			break;
		case F_U8:
			fprintf(f, "%u", *(const uint8_t *)src);
			break;
		case F_U16:
			fprintf(f, "%u", *(const uint16_t *)(const void *)src);
			break;
		case F_U32:
		case F_ASN:
			fprintf(f, "%u", *(const uint32_t *)(const void *)src);
			break;
		case F_U64:
			fprintf(f, "%" PRIu64,
			    *(const uint64_t *)(const void *)src);
			break;
		case F_BOOL:
			fprintf(f, "%s",
			    *(const int *)(const void *)src ? "true" : "false");
			break;
		case F_ENUM:
			v = *(const int *)(const void *)src;
			for (i = 0; t->words[i] != NULL && t->vals[i] != v; i++)
				;
			fprintf(f, "%s", t->words[i] ? t->words[i] : "?");
			break;
		case F_ADDR:
			pv(f,
			    vpnr_addr_format((const vpnr_addr *)(const void *)
						 src,
				buf, sizeof(buf)));
			break;
		case F_IFADDR:
		case F_PREFIX:
			vpnr_addr_format(&((const vpnr_prefix *)(const void *)
						 src)
					      ->addr,
			    buf, sizeof(buf));
			k = strlen(buf);
			snprintf(buf + k, sizeof(buf) - k, "/%u",
			    ((const vpnr_prefix *)(const void *)src)->len);
			pv(f, buf);
			break;
		case F_IPV4ID:
			u = htonl(*(const uint32_t *)(const void *)src);
			inet_ntop(AF_INET, &u, buf, sizeof(buf));
			fprintf(f, "%s", buf);
			break;
		}
		fputc('\n', f);
	}
}

static void
print_pfx_list(FILE *f, const char *ind, const char *key, const vpnr_prefix *v,
    int n)
{
	char buf[64];
	size_t k;
	int i;

	if (n == 0)
		return;
	fprintf(f, "%s%s: [", ind, key);
	for (i = 0; i < n; i++) {
		vpnr_addr_format(&v[i].addr, buf, sizeof(buf));
		k = strlen(buf);
		snprintf(buf + k, sizeof(buf) - k, "/%u", v[i].len);
		fprintf(f, "%s", i ? ", " : "");
		pv(f, buf);
	}
	fprintf(f, "]\n");
}

static void
print_str_list(FILE *f, const char *ind, const char *key, char (*v)[64], int n)
{
	int i;

	if (n == 0)
		return;
	fprintf(f, "%s%s: [", ind, key);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s", i ? ", " : "");
		pq(f, v[i]);
	}
	fprintf(f, "]\n");
}

static const char *
pol_name(int pol, const char *list)
{
	switch (pol) {
	case MGW_POL_NONE:
		return "none";
	case MGW_POL_ALL:
		return "all";
	case MGW_POL_NETWORKS:
		return "networks";
	}
	return list;
}

int
mgw_config_print(const struct mgw_config *c, FILE *f)
{
	const struct mgw_cfg_tunnel *t;
	const struct mgw_cfg_neighbor *nb;
	int i, j, first;

	fprintf(f, "# minigw configuration as applied (defaults filled in)\n");
	fprintf(f, "global:\n");
	first = 0;
	print_fields(f, f_global, &c->g, "  ", &first);
	if (c->g.metrics[0] != '\0')
		fprintf(f, "  metrics_listen: \"%s\"\n", c->g.metrics);
	/* print_fields writes the indent only after the first field. */
	if (c->n_ifs > 0)
		fprintf(f, "interfaces:\n");
	for (i = 0; i < c->n_ifs; i++) {
		first = 1;
		fprintf(f, "  - ");
		print_fields(f, f_iface, &c->ifs[i], "    ", &first);
		print_pfx_list(f, "    ", "addresses", c->ifs[i].addr,
		    c->ifs[i].n_addr);
	}
	if (c->n_tun > 0)
		fprintf(f, "tunnels:\n");
	for (i = 0; i < c->n_tun; i++) {
		t = &c->tun[i];
		first = 1;
		fprintf(f, "  - ");
		print_fields(f, f_tunnel, t, "    ", &first);
		fprintf(f, "    local: ");
		pq(f, t->local);
		fprintf(f, "\n    remote: ");
		pq(f, t->remote);
		fprintf(f, "\n");
		if (t->psk_file[0] != '\0') {
			fprintf(f, "    psk_file: ");
			pq(f, t->psk_file);
			fprintf(f, "\n");
		} else
			fprintf(f, "    # psk: (inline, not printed)\n");
		print_str_list(f, "    ", "ike_proposals", (char(*)[64])t->ike,
		    t->n_ike);
		print_str_list(f, "    ", "esp_proposals", (char(*)[64])t->esp,
		    t->n_esp);
		print_pfx_list(f, "    ", "local_ts", t->local_ts,
		    t->n_local_ts);
		print_pfx_list(f, "    ", "remote_ts", t->remote_ts,
		    t->n_remote_ts);
		mgw_profile_print(f, "    ", t->profile,
		    (const char(*)[MGW_RULEID_MAX])t->ovr, t->n_ovr);
	}
	if (c->n_routes > 0)
		fprintf(f, "routes:\n");
	for (i = 0; i < c->n_routes; i++) {
		first = 1;
		fprintf(f, "  - ");
		print_fields(f, f_route, &c->routes[i], "    ", &first);
	}
	if (c->n_pl > 0)
		fprintf(f, "prefix_lists:\n");
	for (i = 0; i < c->n_pl; i++) {
		first = 1;
		fprintf(f, "  - ");
		print_fields(f, f_plist, &c->pl[i], "    ", &first);
		fprintf(f, "    entries:\n");
		for (j = 0; j < c->pl[i].n; j++) {
			first = 1;
			fprintf(f, "      - ");
			print_fields(f, f_plentry, &c->pl[i].e[j], "        ",
			    &first);
		}
	}
	if (c->n_nb == 0 && c->n_networks == 0)
		return ferror(f) ? -1 : 0;
	fprintf(f, "bgp:\n");
	if (c->n_nb > 0)
		fprintf(f, "  neighbors:\n");
	for (i = 0; i < c->n_nb; i++) {
		nb = &c->nb[i];
		first = 1;
		fprintf(f, "    - ");
		print_fields(f, f_nb, nb, "      ", &first);
		fprintf(f, "      import: %s\n",
		    pol_name(nb->import_pol, nb->import_list));
		fprintf(f, "      export: %s\n",
		    pol_name(nb->export_pol, nb->export_list));
		if (nb->has_med)
			fprintf(f, "      med: %u\n", nb->med);
		if (nb->md5[0] != '\0')
			fprintf(f, "      # md5_password: (not printed)\n");
		mgw_profile_print(f, "      ", nb->profile,
		    (const char(*)[MGW_RULEID_MAX])nb->ovr, nb->n_ovr);
	}
	print_pfx_list(f, "  ", "networks", c->networks, c->n_networks);
	return ferror(f) ? -1 : 0;
}
