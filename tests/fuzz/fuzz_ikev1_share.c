/*
 * IKEv1 sibling tunnels (same peer and PSK, their own selectors) under
 * fuzz_ike_engine's script, two a side as in fuzz_ike_share: they share
 * ISAKMP SAs without share_ike, a tunnel riding its sibling's with
 * Quick Modes, or waiting for the sibling's Phase 1.  ike_inv.h's
 * invariants hold per tunnel, plus those of FZ_SHARE in
 * fuzz_ike_engine.c (no new Main Mode while a sibling's ISAKMP SA is
 * up, no tunnel stuck CONNECTING beside an established one).
 */
#define FZ_IKE_VERSION 1
#define FZ_SHARE       1
#include "fuzz_ike_engine.c"
