/*
 * Address and prefix helpers, and the cloud rules about them: APIPA
 * (169.254/16) inside addresses and private ASNs (RFC 6996).
 */
#ifndef VPNR_LIB_ADDR_H
#define VPNR_LIB_ADDR_H

#include <stdint.h>

#include <vpnroute/vpnroute.h>

size_t vpnr__addr_len(const vpnr_addr *a);                 /* 4, 16 or 0 */
int vpnr__addr_eq(const vpnr_addr *a, const vpnr_addr *b); /* no port */
int vpnr__addr_eq_port(const vpnr_addr *a, const vpnr_addr *b);
void vpnr__addr_set4(vpnr_addr *a, const uint8_t bytes[4], uint16_t port);
void vpnr__addr_set6(vpnr_addr *a, const uint8_t bytes[16], uint16_t port);
int vpnr__addr_is_apipa(const vpnr_addr *a); /* 169.254.0.0/16 */
int vpnr__prefix_contains(const vpnr_prefix *p, const vpnr_addr *a);
int vpnr__asn_is_private(uint32_t asn); /* RFC 6996 */

#endif /* VPNR_LIB_ADDR_H */
