/*
 * IKEv2 sibling tunnels sharing one IKE SA (vpnr_tunnel_config_set_share_ike)
 * under fuzz_ike_engine's script: two tunnels a side with their own
 * selectors, side 0's sharing, the script's tunnel ops picking one by bit 6
 * of the op byte; ike_inv.h's invariants hold per tunnel, plus those of
 * FZ_SHARE in fuzz_ike_engine.c.
 */
#define FZ_SHARE 1
#include "fuzz_ike_engine.c"
