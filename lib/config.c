/*
 * The global configuration builder; copied into each context.
 */
#include <string.h>

#include "ctx.h"
#include "mem.h"

void
vpnr__config_defaults(struct vpnr_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = VPNR_LOG_INFO;
	cfg->ike_port = 500;
	cfg->natt_port = 4500;
	cfg->cookie_threshold = 64;
	cfg->cookie_threshold_per_source = VPNR__COOKIE_PER_SOURCE_DEFAULT;
	cfg->half_open_max_per_source = VPNR__HALF_OPEN_PER_SOURCE_DEFAULT;
	cfg->half_open_max = VPNR__HALF_OPEN_MAX_DEFAULT;
}

VPNR_API int
vpnr_config_new(vpnr_config **pcfg, const vpnr_mem *mem)
{
	vpnr_config *cfg;

	if (pcfg == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	if ((cfg = vpnr__calloc(mem, 1, sizeof(*cfg))) == NULL)
		return VPNR_ERR_NOMEM;
	vpnr__config_defaults(cfg);
	if (mem != NULL) {
		cfg->mem = *mem;
		cfg->has_mem = 1;
	}
	*pcfg = cfg;
	return VPNR_OK;
}

VPNR_API void
vpnr_config_del(vpnr_config *cfg)
{
	if (cfg == NULL)
		return;
	vpnr__free(cfg->has_mem ? &cfg->mem : NULL, cfg);
}

VPNR_API int
vpnr_config_set_router_id(vpnr_config *cfg, uint32_t id)
{
	if (cfg == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->router_id = id;
	return VPNR_OK;
}

VPNR_API int
vpnr_config_set_local_as(vpnr_config *cfg, uint32_t asn)
{
	if (cfg == NULL || asn == 0)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->local_as = asn;
	return VPNR_OK;
}

VPNR_API int
vpnr_config_set_log_level(vpnr_config *cfg, int level)
{
	if (cfg == NULL || level < 0 || level > VPNR_LOG_DEBUG)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->log_level = level;
	return VPNR_OK;
}

VPNR_API int
vpnr_config_set_ike_ports(vpnr_config *cfg, uint16_t ike, uint16_t natt)
{
	if (cfg == NULL || ike == 0 || natt == 0 || ike == natt)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->ike_port = ike;
	cfg->natt_port = natt;
	return VPNR_OK;
}

VPNR_API int
vpnr_config_set_cookie_threshold(vpnr_config *cfg, uint32_t half_open)
{
	if (cfg == NULL)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->cookie_threshold = half_open;
	return VPNR_OK;
}

VPNR_API int
vpnr_config_set_half_open_per_source(vpnr_config *cfg, uint32_t cookie_after,
    uint32_t drop_after)
{
	if (cfg == NULL || drop_after == 0 ||
	    drop_after > VPNR__HALF_OPEN_MAX_LIMIT || cookie_after > drop_after)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->cookie_threshold_per_source = cookie_after;
	cfg->half_open_max_per_source = drop_after;
	return VPNR_OK;
}

VPNR_API int
vpnr_config_set_half_open_limit(vpnr_config *cfg, uint32_t max)
{
	if (cfg == NULL || max == 0 || max > VPNR__HALF_OPEN_MAX_LIMIT)
		return VPNR_ERR_INVALID_ARGUMENT;
	cfg->half_open_max = max;
	return VPNR_OK;
}
