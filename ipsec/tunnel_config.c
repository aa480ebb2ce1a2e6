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
#include "ike_proposal.h"
#include "ike_ts.h"
#include "mem.h"

static int
tc_error(vpnr_tunnel_config *tc, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tc->last_error, sizeof(tc->last_error), fmt, ap);
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
	tc = vpnr__calloc(mem, 1, sizeof(*tc));
	if (tc == NULL)
		return VPNR_ERR_NOMEM;
	if (mem != NULL) {
		tc->mem_store = *mem;
		tc->mem = &tc->mem_store;
	}
	tc->dpd_interval = 10 * VPNR_SECONDS;
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

void
vpnr__tunnel_config_clear(struct vpnr_tunnel_config *tc)
{
	if (tc->psk != NULL)
		vpnr__freezero(tc->mem, tc->psk, tc->psk_len);
	tc->psk = NULL;
	tc->psk_len = 0;
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
		copy = tc->mem_store;
		mem = &copy;
	}
	vpnr__freezero(mem, tc, sizeof(*tc));
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
	vpnr__tunnel_config_clear(tc);
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
	dst = remote ? tc->remote_id : tc->local_id;
	if (len > 0)
		memcpy(dst, value, len);
	if (remote) {
		tc->remote_id_type = type;
		tc->remote_id_len = len;
		tc->remote_id_set = 1;
	} else {
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
	struct vpnr__prop *arr;
	size_t *n;
	int rv;

	if (tc == NULL || str == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	arr = protocol == VPNR__PROTO_IKE ? tc->ike : tc->esp;
	n = protocol == VPNR__PROTO_IKE ? &tc->n_ike : &tc->n_esp;
	if (*n >= VPNR__IKE_MAX_PROPS)
		return tc_error(tc, VPNR_ERR_LIMIT, "too many proposals");
	memset(&arr[*n], 0, sizeof(arr[*n]));
	rv = vpnr__prop_parse(&arr[*n], protocol, str, tc->last_error,
	    sizeof(tc->last_error));
	if (rv != VPNR_OK)
		return rv;
	(*n)++;
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

const char *
vpnr_tunnel_config_last_error(const vpnr_tunnel_config *tc)
{
	if (tc == NULL)
		return "";
	return tc->last_error;
}

int
vpnr_tunnel_config_add_ts(vpnr_tunnel_config *tc, const vpnr_ts *local,
    const vpnr_ts *remote)
{
	if (tc == NULL || (local == NULL && remote == NULL))
		return VPNR_ERR_INVALID_ARGUMENT;
	if (local != NULL) {
		if (tc->n_ts_local >= VPNR__IKE_MAX_CFG_TS)
			return tc_error(tc, VPNR_ERR_LIMIT,
			    "too many selectors");
		tc->ts_local[tc->n_ts_local++] = *local;
	}
	if (remote != NULL) {
		if (tc->n_ts_remote >= VPNR__IKE_MAX_CFG_TS)
			return tc_error(tc, VPNR_ERR_LIMIT,
			    "too many selectors");
		tc->ts_remote[tc->n_ts_remote++] = *remote;
	}
	return VPNR_OK;
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
	if (tc == NULL || action < VPNR_DPD_ACTION_CLEAR ||
	    action > VPNR_DPD_ACTION_NONE)
		return VPNR_ERR_INVALID_ARGUMENT;
	tc->dpd_interval = interval;
	tc->dpd_action = action;
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
	if (src->psk_len == 0 || src->psk == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if (src->local.family == 0 || src->remote.family == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	dst->psk = vpnr__memdup(mem, src->psk, src->psk_len);
	if (dst->psk == NULL)
		return VPNR_ERR_NOMEM;
	if (dst->n_ike == 0) {
		rv = vpnr__prop_parse(&dst->ike[0], VPNR__PROTO_IKE,
		    "aes256-sha256-modp2048", err, sizeof(err));
		if (rv != VPNR_OK)
			goto fail;
		dst->n_ike = 1;
	}
	if (dst->n_esp == 0) {
		rv = vpnr__prop_parse(&dst->esp[0], VPNR__PROTO_ESP,
		    "aes256gcm16", err, sizeof(err));
		if (rv != VPNR_OK)
			goto fail;
		rv = vpnr__prop_parse(&dst->esp[1], VPNR__PROTO_ESP,
		    "aes256-sha256", err, sizeof(err));
		if (rv != VPNR_OK)
			goto fail;
		dst->n_esp = 2;
	}
	if (dst->n_ts_local == 0) {
		vpnr__ts_any(&dst->ts_local[0], dst->local.family);
		dst->n_ts_local = 1;
	}
	if (dst->n_ts_remote == 0) {
		vpnr__ts_any(&dst->ts_remote[0], dst->remote.family);
		dst->n_ts_remote = 1;
	}
	if (!dst->local_id_set) {
		dst->local_id_type = dst->local.family == VPNR_AF_INET ?
		    VPNR_ID_IPV4_ADDR :
		    VPNR_ID_IPV6_ADDR;
		dst->local_id_len = dst->local.family == VPNR_AF_INET ? 4 : 16;
		memcpy(dst->local_id, dst->local.bytes, dst->local_id_len);
	}
	return VPNR_OK;
fail:
	vpnr__tunnel_config_clear(dst);
	return VPNR_ERR_INTERNAL;
}
