/*
 * libFuzzer harness for ESP decapsulation (vpnr_esp_decap): the input
 * is one UDP payload received on port 4500.  Two inbound SAs with
 * fixed keys exist, so that seeds made with those keys (see
 * tests/fuzz/corpus/fuzz_esp_decap/) reach the ICV check, the
 * decryption and the trailer parsing:
 *   SPI 0x00001001: AES-GCM-16-256, ESN, window 64
 *   SPI 0x00001002: AES-CBC-128 + HMAC-SHA2-256-128, window 1024
 * The same input is then decapsulated a second time (a replay).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vpnroute/esp.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fz_sa(vpnr_child_sa *sa, uint32_t spi, uint16_t encr, uint16_t bits,
    uint16_t integ, const uint8_t *ek, size_t eklen, const uint8_t *ik,
    size_t iklen, uint16_t flags, uint32_t window)
{
	memset(sa, 0, sizeof(*sa));
	sa->sa_id = spi;
	sa->spi = spi;
	sa->protocol = 50;
	sa->direction = VPNR_DIR_IN;
	sa->flags = flags | VPNR_SA_F_UDP_ENCAP | VPNR_SA_F_TUNNEL;
	sa->encr_id = encr;
	sa->encr_key_bits = bits;
	sa->integ_id = integ;
	sa->encr_key = ek;
	sa->encr_key_len = eklen;
	sa->integ_key = ik;
	sa->integ_key_len = iklen;
	sa->replay_window = window;
	sa->if_id = spi & 0xff;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[65536 + 64];
	uint8_t ek[36], ik[32];
	vpnr_child_sa sa;
	vpnr_esp *esp;
	vpnr_esp_counters c;
	size_t i, n;
	uint32_t if_id;
	int rv;

	for (i = 0; i < sizeof(ek); i++)
		ek[i] = (uint8_t)(0x10 + i);
	for (i = 0; i < sizeof(ik); i++)
		ik[i] = (uint8_t)(0x80 + i);
	if (vpnr_esp_new(&esp, NULL) != VPNR_OK)
		return 0;
	fz_sa(&sa, 0x1001, VPNR_ENCR_AES_GCM_16, 256, 0, ek, 36, NULL, 0,
	    VPNR_SA_F_ESN, 64);
	if (vpnr_esp_sa_install(esp, &sa) != VPNR_OK)
		__builtin_trap();
	fz_sa(&sa, 0x1002, VPNR_ENCR_AES_CBC, 128, VPNR_INTEG_HMAC_SHA2_256_128,
	    ek, 16, ik, 32, 0, 1024);
	if (vpnr_esp_sa_install(esp, &sa) != VPNR_OK)
		__builtin_trap();
	rv = vpnr_esp_decap(esp, NULL, data, size, out, sizeof(out), &n, &if_id,
	    1);
	if (rv == VPNR_OK && n > size)
		__builtin_trap();
	rv = vpnr_esp_decap(esp, NULL, data, size, out, sizeof(out), &n, &if_id,
	    2);
	/* A second copy is never accepted. */
	if (rv == VPNR_OK && n != 0)
		__builtin_trap();
	vpnr_esp_get_counters(esp, &c);
	if (c.packets_in > 1)
		__builtin_trap();
	vpnr_esp_del(esp);
	return 0;
}
