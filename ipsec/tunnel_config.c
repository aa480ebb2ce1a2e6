/*
 * The vpnr_tunnel_config builder: outer addresses, PSK, identities,
 * proposals, traffic selectors and timers of one tunnel.  The PSK is
 * wiped when the builder (or the tunnel's copy) goes away.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <vpnroute/vpnroute.h>

#include "ike.h"
#include "ikev1_proposal.h"
#include "ike_proposal.h"
#include "ike_ts.h"
#include "mem.h"

/*
 * What vpnr_tunnel_config_new() allocates: the configuration, then the
 * text of its last error, which the tunnels' copies have no use for.
 */
struct vpnr__tc_builder {
	struct vpnr_tunnel_config tc; /* first: the public handle */
	vpnr_mem mem_store;           /* tc.mem points here, or NULL */
	char last_error[160];
};

static char *
last_error_buf(vpnr_tunnel_config *tc)
{
	return ((struct vpnr__tc_builder *)(void *)tc)->last_error;
}
#define LAST_ERROR_LEN sizeof(((struct vpnr__tc_builder *)0)->last_error)

static int
tc_error(vpnr_tunnel_config *tc, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error_buf(tc), LAST_ERROR_LEN, fmt, ap);
	va_end(ap);
	return err;
}

int
vpnr_tunnel_config_new(vpnr_tunnel_config **ptc, const vpnr_mem *mem)
{
	vpnr_tunnel_config *tc;

	if (ptc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	*ptc = NULL;
	tc = vpnr__calloc(mem, 1, sizeof(struct vpnr__tc_builder));
	if (tc == NULL)
		return VPNR_ERR_NOMEM;
	if (mem != NULL) {
		struct vpnr__tc_builder *b = (struct vpnr__tc_builder *)tc;

		b->mem_store = *mem;
		tc->mem = &b->mem_store;
	}
	tc->dpd_interval = VPNR__IKE_DPD_INTERVAL;
	tc->dpd_timeout = VPNR__IKE_DPD_TIMEOUT;
	tc->dpd_action = VPNR_DPD_ACTION_RESTART;
	tc->ike_rekey = 4 * 3600 * VPNR_SECONDS;
	tc->child_rekey = 3600 * VPNR_SECONDS;
	tc->jitter_percent = 10;
	tc->replay_window = 1024;
	tc->rtx_first = VPNR_SECONDS;
	tc->rtx_tries = 7;
	*ptc = tc;
	return VPNR_OK;
}

/* A shared block of size bytes, one reference held. */
static void *
shared_new(const vpnr_mem *mem, size_t size)
{
	struct vpnr__shared *h = vpnr__calloc(mem, 1, size);

	if (h == NULL)
		return NULL;
	h->refs = 1;
	if (mem != NULL) {
		h->has_mem = 1;
		h->mem = *mem;
	}
	return h;
}

static void
shared_hold(struct vpnr__shared *h)
{
	__atomic_add_fetch(&h->refs, 1, __ATOMIC_RELAXED);
}

static void
shared_release(struct vpnr__shared *h)
{
	vpnr_mem mem;

	if (__atomic_sub_fetch(&h->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	mem = h->mem;
	vpnr__free(h->has_mem ? &mem : NULL, h);
}

/* A new list: old's n entries and room for more (not counted). */
static struct vpnr__prop_set *
set_new(const vpnr_mem *mem, const struct vpnr__prop_set *old, size_t more)
{
	struct vpnr__prop_set *s;
	size_t n = old != NULL ? old->n : 0;

	s = shared_new(mem, sizeof(*s) + (n + more) * sizeof(s->p[0]));
	if (s == NULL)
		return NULL;
	if (n > 0)
		memcpy(s->p, old->p, n * sizeof(s->p[0]));
	s->n = n;
	return s;
}

static void
set_release(struct vpnr__prop_set **ps)
{
	if (*ps != NULL)
		shared_release(&(*ps)->hdr);
	*ps = NULL;
}

/* A selector set with old's entries plus local and remote (either may
 * be NULL). */
static struct vpnr__ts_set *
ts_set_new(const vpnr_mem *mem, const struct vpnr__ts_set *old,
    const vpnr_ts *local, const vpnr_ts *remote)
{
	struct vpnr__ts_set *s;
	size_t nl = old != NULL ? old->n_local : 0;
	size_t nr = old != NULL ? old->n_remote : 0;

	s = shared_new(mem, sizeof(*s) + (nl + nr + 2) * sizeof(s->ts[0]));
	if (s == NULL)
		return NULL;
	if (nl > 0)
		memcpy(s->ts, old->ts, nl * sizeof(s->ts[0]));
	if (local != NULL)
		s->ts[nl++] = *local;
	if (nr > 0)
		memcpy(s->ts + nl, old->ts + old->n_local,
		    nr * sizeof(s->ts[0]));
	if (remote != NULL)
		s->ts[nl + nr++] = *remote;
	s->n_local = nl;
	s->n_remote = nr;
	return s;
}

static void
ts_set_release(struct vpnr__ts_set **ps)
{
	if (*ps != NULL)
		shared_release(&(*ps)->hdr);
	*ps = NULL;
}

/* Point ike/esp and their counts at the sets. */
static void
sets_sync(struct vpnr_tunnel_config *tc)
{
	tc->ike = tc->ike_set != NULL ? tc->ike_set->p : NULL;
	tc->n_ike = tc->ike_set != NULL ? tc->ike_set->n : 0;
	tc->esp = tc->esp_set != NULL ? tc->esp_set->p : NULL;
	tc->n_esp = tc->esp_set != NULL ? tc->esp_set->n : 0;
	tc->n_ts_local = tc->ts_set != NULL ? tc->ts_set->n_local : 0;
	tc->n_ts_remote = tc->ts_set != NULL ? tc->ts_set->n_remote : 0;
	tc->ts_local = tc->ts_set != NULL ? tc->ts_set->ts : NULL;
	tc->ts_remote =
	    tc->ts_set != NULL ? tc->ts_set->ts + tc->n_ts_local : NULL;
}

static void
psk_wipe(struct vpnr_tunnel_config *tc)
{
	if (tc->psk != NULL)
		vpnr__freezero(tc->mem, tc->psk, tc->psk_len);
	tc->psk = NULL;
	tc->psk_len = 0;
}

void
vpnr__tunnel_config_clear(struct vpnr_tunnel_config *tc)
{
	set_release(&tc->ike_set);
	set_release(&tc->esp_set);
	ts_set_release(&tc->ts_set);
	sets_sync(tc);
	vpnr__free(tc->mem, tc->local_id);
	vpnr__free(tc->mem, tc->remote_id);
	tc->local_id = tc->remote_id = NULL;
	psk_wipe(tc);
}

void
vpnr_tunnel_config_del(vpnr_tunnel_config *tc)
{
	const vpnr_mem *mem;
	vpnr_mem copy;

	if (tc == NULL)
		return;
	vpnr__tunnel_config_clear(tc);
	mem = NULL;
	if (tc->mem != NULL) {
		copy = *tc->mem;
		mem = &copy;
	}
	vpnr__freezero(mem, tc, sizeof(struct vpnr__tc_builder));
}

int
vpnr_tunnel_config_set_addrs(vpnr_tunnel_config *tc, const vpnr_addr *local,
    const vpnr_addr *remote)
{
	if (tc == NULL || local == NULL || remote == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((local->family != VPNR_AF_INET && local->family != VPNR_AF_INET6) ||
	    local->family != remote->family)
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "addresses must be of one family");
	tc->local = *local;
	tc->remote = *remote;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_psk(vpnr_tunnel_config *tc, const uint8_t *psk,
    size_t len)
{
	uint8_t *p;

	if (tc == NULL || psk == NULL || len == 0 || len > 1024)
		return VPNR_ERR_INVALID_ARGUMENT;
	p = vpnr__memdup(tc->mem, psk, len);
	if (p == NULL)
		return VPNR_ERR_NOMEM;
	psk_wipe(tc);
	tc->psk = p;
	tc->psk_len = len;
	return VPNR_OK;
}

static int
set_id(vpnr_tunnel_config *tc, int remote, uint8_t type, const uint8_t *value,
    size_t len)
{
	uint8_t *dst;

	switch (type) {
	case 0:
		if (!remote)
			return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
			    "local identity needs a type");
		len = 0;
		break;
	case VPNR_ID_IPV4_ADDR:
		if (len != 4 || value == NULL)
			return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
			    "IPv4 identity needs 4 bytes");
		break;
	case VPNR_ID_IPV6_ADDR:
		if (len != 16 || value == NULL)
			return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
			    "IPv6 identity needs 16 bytes");
		break;
	case VPNR_ID_FQDN:
	case VPNR_ID_KEY_ID:
		if (len == 0 || len > VPNR__IKE_MAX_ID - 4 || value == NULL)
			return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
			    "identity length out of range");
		break;
	default:
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "unsupported identity type %u", type);
	}
	dst = NULL;
	if (len > 0 && (dst = vpnr__memdup(tc->mem, value, len)) == NULL)
		return VPNR_ERR_NOMEM;
	vpnr__free(tc->mem, remote ? tc->remote_id : tc->local_id);
	if (remote) {
		tc->remote_id = dst;
		tc->remote_id_type = type;
		tc->remote_id_len = len;
		tc->remote_id_set = 1;
	} else {
		tc->local_id = dst;
		tc->local_id_type = type;
		tc->local_id_len = len;
		tc->local_id_set = 1;
	}
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_local_id(vpnr_tunnel_config *tc, uint8_t type,
    const uint8_t *value, size_t len)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	return set_id(tc, 0, type, value, len);
}

int
vpnr_tunnel_config_set_remote_id(vpnr_tunnel_config *tc, uint8_t type,
    const uint8_t *value, size_t len)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	return set_id(tc, 1, type, value, len);
}

static int
add_prop(vpnr_tunnel_config *tc, uint8_t protocol, const char *str)
{
	struct vpnr__prop_set **ps, *s;
	int rv;

	if (tc == NULL || str == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	ps = protocol == VPNR__PROTO_IKE ? &tc->ike_set : &tc->esp_set;
	if (*ps != NULL && (*ps)->n >= VPNR__IKE_MAX_PROPS)
		return tc_error(tc, VPNR_ERR_LIMIT, "too many proposals");
	/* Tunnels may hold the current list: extend a copy. */
	if ((s = set_new(tc->mem, *ps, 1)) == NULL)
		return VPNR_ERR_NOMEM;
	rv = (tc->ike_version == 1 ? vpnr__v1_prop_parse :
				     vpnr__prop_parse)(&s->p[s->n], protocol,
	    str, last_error_buf(tc), LAST_ERROR_LEN);
	if (rv != VPNR_OK) {
		set_release(&s);
		return rv;
	}
	s->n++;
	set_release(ps);
	*ps = s;
	sets_sync(tc);
	return VPNR_OK;
}

int
vpnr_tunnel_config_add_ike_proposal(vpnr_tunnel_config *tc,
    const char *proposal)
{
	return add_prop(tc, VPNR__PROTO_IKE, proposal);
}

int
vpnr_tunnel_config_add_esp_proposal(vpnr_tunnel_config *tc,
    const char *proposal)
{
	return add_prop(tc, VPNR__PROTO_ESP, proposal);
}

int
vpnr_tunnel_config_set_ike_version(vpnr_tunnel_config *tc, uint32_t version,
    uint32_t flags)
{
	if (tc == NULL || (version != 1 && version != 2) ||
	    (version == 2 && flags != 0) ||
	    (flags & ~(uint32_t)(VPNR_IKEV1_AGGRESSIVE | VPNR_IKEV1_COMMIT)))
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->ike_version = version;
	tc->ikev1_flags = flags;
	return VPNR_OK;
}

const char *
vpnr_tunnel_config_last_error(const vpnr_tunnel_config *tc)
{
	if (tc == NULL)
		return "";
	return ((const struct vpnr__tc_builder *)(const void *)tc)->last_error;
}

int
vpnr_tunnel_config_add_ts(vpnr_tunnel_config *tc, const vpnr_ts *local,
    const vpnr_ts *remote)
{
	struct vpnr__ts_set *s;
	int rv = VPNR_OK;

	if (tc == NULL || (local == NULL && remote == NULL))
		return VPNR_ERR_INVALID_ARGUMENT;
	/* As before: a local selector that fits goes in even if the
	 * remote one is over the limit. */
	if (local != NULL && tc->n_ts_local >= VPNR__IKE_MAX_CFG_TS)
		return tc_error(tc, VPNR_ERR_LIMIT, "too many selectors");
	if (remote != NULL && tc->n_ts_remote >= VPNR__IKE_MAX_CFG_TS) {
		rv = tc_error(tc, VPNR_ERR_LIMIT, "too many selectors");
		remote = NULL;
		if (local == NULL)
			return rv;
	}
	/* Tunnels may hold the current set: extend a copy. */
	if ((s = ts_set_new(tc->mem, tc->ts_set, local, remote)) == NULL)
		return VPNR_ERR_NOMEM;
	ts_set_release(&tc->ts_set);
	tc->ts_set = s;
	sets_sync(tc);
	return rv;
}

int
vpnr_tunnel_config_set_if_id(vpnr_tunnel_config *tc, uint32_t if_id)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->if_id = if_id;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_dpd(vpnr_tunnel_config *tc, vpnr_tstamp interval,
    uint32_t action)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (action < VPNR_DPD_ACTION_CLEAR || action > VPNR_DPD_ACTION_NONE)
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "unknown DPD action %u", action);
	if (interval != 0 &&
	    (interval < VPNR_SECONDS || interval > VPNR__IKE_DPD_INTERVAL_MAX))
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "DPD interval out of range (0, or 1 s to 3600 s)");
	tc->dpd_interval = interval;
	tc->dpd_action = action;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_liveness(vpnr_tunnel_config *tc, vpnr_tstamp interval,
    vpnr_tstamp timeout)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (interval != 0 &&
	    (interval < VPNR_SECONDS || interval > VPNR__IKE_DPD_INTERVAL_MAX))
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "liveness interval out of range (0, or 1 s to 3600 s)");
	if (timeout < VPNR__IKE_DPD_TIMEOUT_MIN ||
	    timeout > VPNR__IKE_DPD_TIMEOUT_MAX)
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "liveness timeout out of range (2 s to 3600 s)");
	tc->dpd_interval = interval;
	tc->dpd_timeout = timeout;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_suspect(vpnr_tunnel_config *tc, vpnr_tstamp after)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (after != 0 && (after < VPNR_SECONDS || after > VPNR__SUSPECT_MAX))
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "suspicion time out of range (0, or 1 s to 60 s)");
	tc->suspect_after = after;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_share_ike(vpnr_tunnel_config *tc, int share)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (share != 0 && share != 1)
		return tc_error(tc, VPNR_ERR_INVALID_ARGUMENT,
		    "share_ike is 0 or 1");
	tc->share_ike = share;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_rekey(vpnr_tunnel_config *tc, vpnr_tstamp ike_rekey,
    vpnr_tstamp child_rekey, uint32_t jitter_percent)
{
	if (tc == NULL || jitter_percent > 50)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->ike_rekey = ike_rekey;
	tc->child_rekey = child_rekey;
	tc->jitter_percent = jitter_percent;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_child_lifetime(vpnr_tunnel_config *tc,
    const vpnr_lifetime *soft, const vpnr_lifetime *hard)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (soft != NULL)
		tc->soft = *soft;
	else
		memset(&tc->soft, 0, sizeof(tc->soft));
	if (hard != NULL)
		tc->hard = *hard;
	else
		memset(&tc->hard, 0, sizeof(tc->hard));
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_peer_ports(vpnr_tunnel_config *tc, uint16_t ike,
    uint16_t natt)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->peer_ike_port = ike;
	tc->peer_natt_port = natt;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_force_encap(vpnr_tunnel_config *tc, int on)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->force_encap = on != 0;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_replay_window(vpnr_tunnel_config *tc, uint32_t packets)
{
	if (tc == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->replay_window = packets;
	return VPNR_OK;
}

int
vpnr_tunnel_config_set_retransmit(vpnr_tunnel_config *tc, vpnr_tstamp first,
    uint32_t tries)
{
	if (tc == NULL || first == 0 || tries == 0 || tries > 30)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->rtx_first = first;
	tc->rtx_tries = tries;
	return VPNR_OK;
}

/* Copy for a tunnel, with the defaults filled in. */
int
vpnr__tunnel_config_copy(struct vpnr_tunnel_config *dst,
    const struct vpnr_tunnel_config *src, const vpnr_mem *mem)
{
	char err[160];
	int rv;

	*dst = *src;
	dst->mem = mem;
	dst->psk = NULL;
	dst->ike_set = dst->esp_set = NULL;
	dst->ts_set = NULL;
	dst->local_id = dst->remote_id = NULL;
	sets_sync(dst);
	if (src->psk_len == 0 || src->psk == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (src->local.family == 0 || src->remote.family == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	dst->psk = vpnr__memdup(mem, src->psk, src->psk_len);
	if (dst->psk == NULL)
		return VPNR_ERR_NOMEM;
	rv = VPNR_ERR_NOMEM;
	if ((src->local_id_len > 0 && src->local_id != NULL &&
		(dst->local_id = vpnr__memdup(mem, src->local_id,
		     src->local_id_len)) == NULL) ||
	    (src->remote_id_len > 0 && src->remote_id != NULL &&
		(dst->remote_id = vpnr__memdup(mem, src->remote_id,
		     src->remote_id_len)) == NULL))
		goto fail;
	/* The builder's proposal lists are shared, not copied. */
	dst->ike_set = src->ike_set;
	dst->esp_set = src->esp_set;
	dst->ts_set = src->ts_set;
	if (dst->ike_set != NULL)
		shared_hold(&dst->ike_set->hdr);
	if (dst->esp_set != NULL)
		shared_hold(&dst->esp_set->hdr);
	if (dst->ts_set != NULL)
		shared_hold(&dst->ts_set->hdr);
	if (dst->ike_set == NULL) {
		rv = VPNR_ERR_NOMEM;
		if ((dst->ike_set = set_new(mem, NULL, 1)) == NULL)
			goto fail;
		rv = vpnr__prop_parse(&dst->ike_set->p[0], VPNR__PROTO_IKE,
		    "aes256-sha256-modp2048", err, sizeof(err));
		if (rv != VPNR_OK)
			goto fail;
		dst->ike_set->n = 1;
	}
	if (dst->esp_set == NULL) {
		rv = VPNR_ERR_NOMEM;
		if ((dst->esp_set = set_new(mem, NULL, 2)) == NULL)
			goto fail;
		rv = vpnr__prop_parse(&dst->esp_set->p[0], VPNR__PROTO_ESP,
		    "aes256gcm16", err, sizeof(err));
		if (rv == VPNR_OK)
			rv = vpnr__prop_parse(&dst->esp_set->p[1],
			    VPNR__PROTO_ESP, "aes256-sha256", err, sizeof(err));
		if (rv != VPNR_OK)
			goto fail;
		dst->esp_set->n = 2;
	}
	sets_sync(dst);
	if (dst->n_ts_local == 0 || dst->n_ts_remote == 0) {
		/* Missing sides default to "any" of the address family. */
		struct vpnr__ts_set *s;
		vpnr_ts any_l, any_r;

		vpnr__ts_any(&any_l, dst->local.family);
		vpnr__ts_any(&any_r, dst->remote.family);
		s = ts_set_new(mem, dst->ts_set,
		    dst->n_ts_local == 0 ? &any_l : NULL,
		    dst->n_ts_remote == 0 ? &any_r : NULL);
		rv = VPNR_ERR_NOMEM;
		if (s == NULL)
			goto fail;
		ts_set_release(&dst->ts_set);
		dst->ts_set = s;
		sets_sync(dst);
	}
	if (!dst->local_id_set) {
		dst->local_id_type = dst->local.family == VPNR_AF_INET ?
		    VPNR_ID_IPV4_ADDR :
		    VPNR_ID_IPV6_ADDR;
		dst->local_id_len = dst->local.family == VPNR_AF_INET ? 4 : 16;
		dst->local_id =
		    vpnr__memdup(mem, dst->local.bytes, dst->local_id_len);
		rv = VPNR_ERR_NOMEM;
		if (dst->local_id == NULL)
			goto fail;
	}
	return VPNR_OK;
fail:
	vpnr__tunnel_config_clear(dst);
	return rv == VPNR_ERR_NOMEM ? rv : VPNR_ERR_INTERNAL;
}
