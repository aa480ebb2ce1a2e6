/*
 * Run-time version.
 */
#include <openssl/crypto.h>

#include <vpnroute/vpnroute.h>

VPNR_API const vpnr_info *
vpnr_version(uint32_t least_version)
{
	static vpnr_info info = { VPNR_INFO_AGE, VPNR_VERSION_NUM, VPNR_VERSION,
		NULL };

	if (least_version > VPNR_VERSION_NUM)
		return NULL;
	info.crypto_str = OpenSSL_version(OPENSSL_VERSION);
	return &info;
}
