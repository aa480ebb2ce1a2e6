/*
 * Versioned public structs, copied in and out by one helper (ngtcp2's
 * convert_to_latest): a struct only ever grows by appending members,
 * and version v of it ends where its last member of version v ends.
 * The caller names its version; the library copies exactly that many
 * bytes, so an older caller's buffer is never overrun and an older
 * caller's table is zero-extended to the latest.  A version newer than
 * the library knows is refused.
 *
 * Header-only (static inline) because libvpnroute and libvpnroute_uv
 * both use it and must not share a hidden symbol.
 */
#ifndef VPNR_VSTRUCT_H
#define VPNR_VSTRUCT_H

#include <stddef.h>
#include <string.h>

#include <vpnroute/esp.h>
#include <vpnroute/vpnroute.h>

/* Where member last of type ends: the size of the version it closes. */
#define VPNR__VEND(type, last) \
	(offsetof(type, last) + sizeof(((type *)0)->last))

/*
 * The size of each version, oldest first: entry v - 1 is version v.
 * Adding a version means appending its VPNR__VEND here, bumping the
 * VPNR_*_VERSION macro in the public header and the assert below.
 */
#define VPNR__VS_CALLBACKS     VPNR__VEND(vpnr_callbacks, log_msg)
#define VPNR__VS_DATAPLANE     VPNR__VEND(vpnr_dataplane, sa_query)
#define VPNR__VS_TUNNEL_INFO   VPNR__VEND(vpnr_tunnel_info, malformed)
#define VPNR__VS_BGP_PEER_INFO VPNR__VEND(vpnr_bgp_peer_info, reserved)
#define VPNR__VS_PATH_ATTRS    VPNR__VEND(vpnr_path_attrs, reserved)
#define VPNR__VS_CHILD_SA      VPNR__VEND(vpnr_child_sa, n_ts_remote)
#define VPNR__VS_ESP_SA_INFO   VPNR__VEND(vpnr_esp_sa_info, counters)
#define VPNR__VS_ESP_COUNTERS  VPNR__VEND(vpnr_esp_counters, reserved)
#define VPNR__VS_IKE_STATS     VPNR__VEND(vpnr_ike_stats, malformed)

/* The newest version must cover the whole struct: a member appended
 * without a new version (or a VPNR__VS_* line) stops the build here. */
_Static_assert(VPNR__VEND(vpnr_callbacks, log_msg) == sizeof(vpnr_callbacks),
    "vpnr_callbacks grew: add VPNR_CALLBACKS_V<n> and VPNR__VS_CALLBACKS");
_Static_assert(VPNR__VEND(vpnr_dataplane, sa_query) == sizeof(vpnr_dataplane),
    "vpnr_dataplane grew: add VPNR_DATAPLANE_V<n> and VPNR__VS_DATAPLANE");
_Static_assert(VPNR__VEND(vpnr_tunnel_info, malformed) ==
	sizeof(vpnr_tunnel_info),
    "vpnr_tunnel_info grew: add VPNR_TUNNEL_INFO_V<n>");
_Static_assert(VPNR__VEND(vpnr_bgp_peer_info, reserved) ==
	sizeof(vpnr_bgp_peer_info),
    "vpnr_bgp_peer_info grew: add VPNR_BGP_PEER_INFO_V<n>");
_Static_assert(VPNR__VEND(vpnr_path_attrs, reserved) == sizeof(vpnr_path_attrs),
    "vpnr_path_attrs grew: add VPNR_PATH_ATTRS_V<n>");
_Static_assert(VPNR__VEND(vpnr_child_sa, n_ts_remote) == sizeof(vpnr_child_sa),
    "vpnr_child_sa grew: add VPNR_CHILD_SA_V<n>");
_Static_assert(VPNR__VEND(vpnr_esp_sa_info, counters) ==
	sizeof(vpnr_esp_sa_info),
    "vpnr_esp_sa_info grew: add VPNR_ESP_SA_INFO_V<n>");
_Static_assert(VPNR__VEND(vpnr_esp_counters, reserved) ==
	sizeof(vpnr_esp_counters),
    "vpnr_esp_counters grew: add VPNR_ESP_COUNTERS_V<n>");

_Static_assert(VPNR__VEND(vpnr_ike_stats, malformed) == sizeof(vpnr_ike_stats),
    "vpnr_ike_stats grew: add VPNR_IKE_STATS_V<n>");

/* The list of sizes as an array and its length (the latest version). */
#define VPNR__VSIZES(...) ((const size_t[]){ __VA_ARGS__ })
#define VPNR__VCOUNT(...) \
	(int)(sizeof(VPNR__VSIZES(__VA_ARGS__)) / sizeof(size_t))

/* Bytes of version v, or 0 if v is not a version this library knows. */
static inline size_t
vpnr__vsize(int version, const size_t *sizes, int n)
{
	if (version < 1 || version > n)
		return 0;
	return sizes[version - 1];
}

/*
 * In: dst (the library's latest struct, dstsize bytes) becomes src of
 * the caller's version, zero-extended; src NULL gives all zeros.
 * VPNR_ERR_INVALID_ARGUMENT (dst untouched) for an unknown version.
 */
static inline int
vpnr__vcopy_in(void *dst, size_t dstsize, const void *src, int version,
    const size_t *sizes, int n)
{
	size_t len;

	if ((len = vpnr__vsize(version, sizes, n)) == 0 || len > dstsize)
		return VPNR_ERR_INVALID_ARGUMENT;
	memset(dst, 0, dstsize);
	if (src != NULL)
		memcpy(dst, src, len);
	return VPNR_OK;
}

/*
 * Out: the caller's struct dst of its version receives the first bytes
 * of src (the library's latest), never more than that version's size.
 * VPNR_ERR_INVALID_ARGUMENT (dst untouched) for an unknown version.
 */
static inline int
vpnr__vcopy_out(void *dst, const void *src, size_t srcsize, int version,
    const size_t *sizes, int n)
{
	size_t len;

	if ((len = vpnr__vsize(version, sizes, n)) == 0 || len > srcsize)
		return VPNR_ERR_INVALID_ARGUMENT;
	memcpy(dst, src, len);
	return VPNR_OK;
}

/* Non-zero if version is one the library knows for that struct. */
#define VPNR__VKNOWN(version, ...) \
	(vpnr__vsize((version), VPNR__VSIZES(__VA_ARGS__), \
	     VPNR__VCOUNT(__VA_ARGS__)) != 0)
/* vpnr__vcopy_in/out with the size list of one struct. */
#define VPNR__VCOPY_IN(dst, src, version, ...) \
	vpnr__vcopy_in((dst), sizeof(*(dst)), (src), (version), \
	    VPNR__VSIZES(__VA_ARGS__), VPNR__VCOUNT(__VA_ARGS__))
#define VPNR__VCOPY_OUT(dst, src, version, ...) \
	vpnr__vcopy_out((dst), (src), sizeof(*(src)), (version), \
	    VPNR__VSIZES(__VA_ARGS__), VPNR__VCOUNT(__VA_ARGS__))

#endif /* VPNR_VSTRUCT_H */
