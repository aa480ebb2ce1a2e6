/*
 * C side of the Go binding: the callback and data-plane tables point at
 * these functions, which pass the context's cgo.Handle (user_data /
 * dp_data) on to the exported Go functions.  No Go pointer is ever
 * stored in C memory.
 */
#ifndef VPNR_GO_SHIM_H
#define VPNR_GO_SHIM_H

#include <stdint.h>
#include <stdlib.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>

/* Creates a context whose callbacks go to the Go object behind h.
 * go_dp: data-plane ops go to Go too; else esp (may be NULL) is the
 * built-in ESP data plane and its route ops go to Go. */
int shim_ctx_new(vpnr_ctx **pctx, const vpnr_config *cfg, uintptr_t h,
    int go_dp, int go_rand, vpnr_esp *esp);
/* Detaches the ESP route ops (before the context goes). */
void shim_esp_detach(vpnr_esp *esp);
int shim_rib_walk(vpnr_ctx *ctx, int rib, uint64_t peer_id, uintptr_t h);
int shim_esp_sa_walk(const vpnr_esp *esp, uintptr_t h);

#endif
