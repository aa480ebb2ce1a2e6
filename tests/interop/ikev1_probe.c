/*
 * ikev1_probe: drives the IKEv1 engine (ipsec/ikev1_sa.c) over real
 * UDP sockets for test_ikev1_strongswan.sh, until the engine is wired
 * into ike_io.c.  One Main Mode + Quick Mode as initiator ("i") or
 * responder ("r"), selectors 0.0.0.0/0 both ways; NAT-T float to 4500
 * with the non-ESP marker when NAT-D says so (RFC 3947 4; strongSwan's
 * kernel-libipsec always claims a NAT).
 *
 *   ikev1_probe i|r LOCAL REMOTE PSKFILE IKE ESP [SECONDS [FLAG...]]
 *
 * FLAGs: "aggressive" (Aggressive Mode); "rekey" (stay up: print every
 * new CHILD_SA, e.g. the peer's rekey, and after the second one rekey
 * ourselves once; done after the third).
 * Prints "PHASE1 UP", then "CHILD in SPI out SPI encap N dh N" per
 * CHILD_SA ("DELETED spi" when the peer deletes one) and exits 0; or
 * "FAILED reason=VPNR_ERR_... why=..." and exits 1.
 */
#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ikev1_sa.h"

static vpnr_tstamp
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (vpnr_tstamp)t.tv_sec * VPNR_SECONDS + (vpnr_tstamp)t.tv_nsec;
}

static int
udp(const char *ip, int port)
{
	struct sockaddr_in a;
	int s, one = 1;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1 ||
	    (s = socket(AF_INET, SOCK_DGRAM, 0)) == -1) {
		fprintf(stderr, "bad address %s\n", ip);
		exit(2);
	}
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) == -1) {
		perror("bind");
		exit(2);
	}
	return s;
}

static void
any_ts(vpnr_ts *t)
{
	memset(t, 0, sizeof(*t));
	vpnr_addr_parse(&t->addr_start, "0.0.0.0");
	vpnr_addr_parse(&t->addr_end, "255.255.255.255");
	t->port_end = 0xffff;
}

static void
spi_str(const uint8_t *s, char *out)
{
	snprintf(out, 9, "%02x%02x%02x%02x", s[0], s[1], s[2], s[3]);
}

int
main(int argc, char **argv)
{
	static uint8_t buf[65536], out[65540];
	struct vpnr__prop ike, esp;
	struct vpnr__v1_cfg cfg;
	struct vpnr__v1_ike sa;
	struct sockaddr_in peer;
	struct pollfd p[2];
	char err[256], psk[256], si[9], so[9];
	vpnr_tstamp end, linger = 0;
	size_t len, pl;
	ssize_t n;
	int initiator, s500, s4500, floated = 0, quick = 0, done = 0, i;
	int rekey = 0, rekeyed = 0;
	uint32_t gen = 0;
	FILE *f;

	if (argc < 7) {
		fprintf(stderr,
		    "usage: ikev1_probe i|r LOCAL REMOTE PSKFILE "
		    "IKE ESP [SECONDS]\n");
		return 2;
	}
	initiator = argv[1][0] == 'i';
	if ((f = fopen(argv[4], "r")) == NULL ||
	    fgets(psk, sizeof(psk), f) == NULL) {
		fprintf(stderr, "cannot read %s\n", argv[4]);
		return 2;
	}
	fclose(f);
	psk[strcspn(psk, "\r\n")] = '\0';
	memset(&cfg, 0, sizeof(cfg));
	if (vpnr__v1_prop_parse(&ike, VPNR__PROTO_IKE, argv[5], err,
		sizeof(err)) != VPNR_OK ||
	    vpnr__v1_prop_parse(&esp, VPNR__PROTO_ESP, argv[6], err,
		sizeof(err)) != VPNR_OK) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	cfg.ike = &ike;
	cfg.n_ike = 1;
	cfg.esp = &esp;
	cfg.n_esp = 1;
	cfg.psk = (const uint8_t *)psk;
	cfg.psk_len = strlen(psk);
	if (vpnr_addr_parse(&cfg.local, argv[2]) != VPNR_OK ||
	    vpnr_addr_parse(&cfg.remote, argv[3]) != VPNR_OK) {
		fprintf(stderr, "bad address\n");
		return 2;
	}
	cfg.local.port = cfg.remote.port = 500;
	any_ts(&cfg.local_ts);
	any_ts(&cfg.remote_ts);
	cfg.p1_life.seconds = 28800;
	cfg.p2_life.seconds = 3600;
	cfg.encap = VPNR__V1_ENCAP_TUNNEL;
	cfg.rtx_timeout = VPNR_SECONDS;
	cfg.rtx_tries = 4;
	for (i = 8; i < argc; i++) {
		if (strcmp(argv[i], "aggressive") == 0)
			cfg.aggressive = 1;
		else if (strcmp(argv[i], "rekey") == 0)
			rekey = 1;
	}
	if (vpnr__v1_ike_init(&sa, &cfg, initiator) != VPNR_OK)
		return 2;
	s500 = udp(argv[2], 500);
	s4500 = udp(argv[2], 4500);
	memset(&peer, 0, sizeof(peer));
	peer.sin_family = AF_INET;
	inet_pton(AF_INET, argv[3], &peer.sin_addr);
	if (initiator)
		vpnr__v1_ike_start(&sa, now_ns());
	end = now_ns() + (argc > 7 ? atoi(argv[7]) : 30) * VPNR_SECONDS;
	while (now_ns() < end && (linger == 0 || now_ns() < linger)) {
		/* RFC 3947 4: the initiator floats for MM5 / AM3. */
		if (initiator &&
		    (sa.state == V1S_MM_SENT5 || sa.state == V1S_P1_DONE) &&
		    (sa.nat_local || sa.nat_remote))
			floated = 1;
		while (vpnr__v1_ike_output(&sa, buf, sizeof(buf), &len) ==
			VPNR_OK &&
		    len > 0) {
			peer.sin_port = htons(floated ? 4500 : 500);
			if (floated) {
				memset(out, 0, 4);
				memcpy(out + 4, buf, len);
				sendto(s4500, out, len + 4, 0,
				    (struct sockaddr *)&peer, sizeof(peer));
			} else
				sendto(s500, buf, len, 0,
				    (struct sockaddr *)&peer, sizeof(peer));
		}
		if (sa.state == V1S_FAILED ||
		    (sa.error != 0 && !sa.child_ready && !done)) {
			printf("FAILED reason=%s why=%s\n",
			    vpnr_err_name(sa.error), sa.why);
			fflush(stdout);
			vpnr__v1_ike_free(&sa);
			return 1;
		}
		if (!quick && sa.state == V1S_P1_DONE) {
			quick = 1;
			printf("PHASE1 UP\n");
			fflush(stdout);
			if (initiator)
				vpnr__v1_ike_quick(&sa, now_ns());
			continue;
		}
		if (sa.child_deleted) {
			sa.child_deleted = 0;
			spi_str(sa.del_spi, si);
			printf("DELETED %s\n", si);
			fflush(stdout);
		}
		if (sa.child_ready && sa.child_gen != gen) {
			gen = sa.child_gen;
			spi_str(sa.child.spi_in, si);
			spi_str(sa.child.spi_out, so);
			printf("CHILD in %s out %s encap %u dh %u\n", si, so,
			    sa.child.encap, sa.child.suite.dh);
			fflush(stdout);
			if (rekey && gen == 2 && !rekeyed) {
				rekeyed = 1;
				vpnr__v1_ike_quick(&sa, now_ns());
			}
			if (!rekey || gen >= 3) {
				done = 1;
				/* answer repeats (a lost QM3) for a while */
				linger = now_ns() + 3 * VPNR_SECONDS;
			}
		}
		p[0].fd = s500;
		p[1].fd = s4500;
		p[0].events = p[1].events = POLLIN;
		if (poll(p, 2, 50) > 0)
			for (i = 0; i < 2; i++) {
				if (!(p[i].revents & POLLIN))
					continue;
				if ((n = recv(p[i].fd, buf, sizeof(buf), 0)) <=
				    0)
					continue;
				pl = (size_t)n;
				if (i == 1) {
					/* ESP on 4500 is not ours here */
					if (pl < 4 ||
					    memcmp(buf, "\0\0\0\0", 4))
						continue;
					floated = 1;
					memmove(buf, buf + 4, pl - 4);
					pl -= 4;
				}
				(void)vpnr__v1_ike_input(&sa, buf, pl,
				    now_ns());
			}
		(void)vpnr__v1_ike_timer(&sa, now_ns());
	}
	if (!done)
		printf("FAILED reason=%s why=%s\n",
		    vpnr_err_name(sa.error ? sa.error : VPNR_ERR_TIMEOUT),
		    sa.why ? sa.why : "no CHILD_SA in time");
	vpnr__v1_ike_free(&sa);
	return done ? 0 : 1;
}
