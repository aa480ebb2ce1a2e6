/*
 * Names of IKEv2 transforms, as strongSwan and router CLIs print them,
 * and of the tunnel and BGP events.
 */
#include <vpnroute/vpnroute.h>

#include "crypto.h"

static const char *
encr_name(uint16_t id)
{
	switch (id) {
	case VPNR_ENCR_AES_CBC:
		return "AES_CBC";
	case VPNR_ENCR_AES_GCM_16:
		return "AES_GCM_16";
	}
	return NULL;
}

static const char *
integ_name(uint16_t id)
{
	switch (id) {
	case VPNR_INTEG_NONE:
		return "NONE";
	case VPNR_INTEG_HMAC_SHA1_96:
		return "HMAC_SHA1_96";
	case VPNR_INTEG_HMAC_SHA2_256_128:
		return "HMAC_SHA2_256_128";
	case VPNR_INTEG_HMAC_SHA2_384_192:
		return "HMAC_SHA2_384_192";
	case VPNR_INTEG_HMAC_SHA2_512_256:
		return "HMAC_SHA2_512_256";
	}
	return NULL;
}

static const char *
prf_name(uint16_t id)
{
	switch (id) {
	case VPNR__PRF_HMAC_SHA1:
		return "PRF_HMAC_SHA1";
	case VPNR__PRF_HMAC_SHA2_256:
		return "PRF_HMAC_SHA2_256";
	case VPNR__PRF_HMAC_SHA2_384:
		return "PRF_HMAC_SHA2_384";
	case VPNR__PRF_HMAC_SHA2_512:
		return "PRF_HMAC_SHA2_512";
	}
	return NULL;
}

static const char *
dh_name(uint16_t id)
{
	switch (id) {
	case VPNR__DH_MODP1024:
		return "MODP_1024";
	case VPNR__DH_MODP2048:
		return "MODP_2048";
	case VPNR__DH_MODP3072:
		return "MODP_3072";
	case VPNR__DH_MODP4096:
		return "MODP_4096";
	case VPNR__DH_MODP2048S256:
		return "MODP_2048_256";
	case VPNR__DH_ECP256:
		return "ECP_256";
	case VPNR__DH_ECP384:
		return "ECP_384";
	case VPNR__DH_ECP521:
		return "ECP_521";
	case VPNR__DH_X25519:
		return "CURVE_25519";
	}
	return NULL;
}

VPNR_API const char *
vpnr_transform_name(uint32_t type, uint16_t id)
{
	switch (type) {
	case VPNR_TRANSFORM_ENCR:
		return encr_name(id);
	case VPNR_TRANSFORM_PRF:
		return prf_name(id);
	case VPNR_TRANSFORM_INTEG:
		return integ_name(id);
	case VPNR_TRANSFORM_DH:
		return id == 0 ? "NONE" : dh_name(id);
	case VPNR_TRANSFORM_ESN:
		return id == 0 ? "NO_EXT_SEQ" : id == 1 ? "EXT_SEQ" : NULL;
	}
	return NULL;
}

VPNR_API const char *
vpnr_tunnel_event_name(uint32_t type)
{
	switch (type) {
	case VPNR_TUNNEL_EV_UP:
		return "UP";
	case VPNR_TUNNEL_EV_DOWN:
		return "DOWN";
	case VPNR_TUNNEL_EV_REKEYED:
		return "REKEYED";
	case VPNR_TUNNEL_EV_CHILD_UP:
		return "CHILD_UP";
	case VPNR_TUNNEL_EV_CHILD_DOWN:
		return "CHILD_DOWN";
	case VPNR_TUNNEL_EV_CHILD_REKEYED:
		return "CHILD_REKEYED";
	case VPNR_TUNNEL_EV_FAILED:
		return "FAILED";
	case VPNR_TUNNEL_EV_SUSPECT:
		return "SUSPECT";
	case VPNR_TUNNEL_EV_LIVE:
		return "LIVE";
	}
	return "UNKNOWN";
}

VPNR_API const char *
vpnr_bgp_event_name(uint32_t type)
{
	switch (type) {
	case VPNR_BGP_EV_ESTABLISHED:
		return "ESTABLISHED";
	case VPNR_BGP_EV_DOWN:
		return "DOWN";
	case VPNR_BGP_EV_PREFIX_LIMIT:
		return "PREFIX_LIMIT";
	case VPNR_BGP_EV_EOR:
		return "EOR";
	case VPNR_BGP_EV_NEXTHOP_REFUSED:
		return "NEXTHOP_REFUSED";
	case VPNR_BGP_EV_TUNNEL_DOWN:
		return "TUNNEL_DOWN";
	case VPNR_BGP_EV_TUNNEL_UP:
		return "TUNNEL_UP";
	}
	return "UNKNOWN";
}
