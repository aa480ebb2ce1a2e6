/*
 * The IKEv1 tunnels under fuzz_ike_engine's script (same operations,
 * same invariants from ike_inv.h): Main Mode, Quick Mode, rekeys,
 * R-U-THERE, deletes and the ISAKMP SA index, with real encrypted
 * exchanges between two contexts.
 */
#define FZ_IKE_VERSION 1
#include "fuzz_ike_engine.c"
