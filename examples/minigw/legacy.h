/* The minigw 0.1 command line, turned into a configuration. */
#ifndef MGW_LEGACY_H
#define MGW_LEGACY_H

#include <vpnroute/esp.h>

#include "config.h"

struct mgw_legacy {
	struct mgw_config c;
	struct mgw_cfg_tunnel t;
	struct mgw_cfg_neighbor nb;
	char manual[512];
	int used, initiate, has_peer;
};

void mgw_legacy_init(struct mgw_legacy *l);
int mgw_legacy_opt(struct mgw_legacy *l, const char *opt, const char *v,
    char *err, size_t len);
int mgw_legacy_config(struct mgw_legacy *l, struct mgw_config *c, char *err,
    size_t len);
int mgw_manual_sa(vpnr_esp *esp, const char *spec, const vpnr_addr *local,
    const vpnr_addr *remote, uint32_t if_id);

#endif /* MGW_LEGACY_H */
