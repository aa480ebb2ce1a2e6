/*
 * minigw's configuration (examples/minigw/config.c, legacy.c): a
 * complete file round-trips through --print (printed, parsed again,
 * printed again: the same text and equal tunnels and neighbours), and
 * each class of error gives its FILE:LINE: FIELD: message saying what is
 * allowed.  The 0.1 command line refuses what it used to wrap or cut.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "legacy.h"

static char dir[] = "/tmp/minigw-config-XXXXXX";
static char path[256];

static const char complete[] =
    "global:\n"
    "  router_id: 10.2.2.2\n"
    "  local_as: 65050\n"
    "  listen: 203.0.113.1\n"
    "  log_level: debug\n"
    "  log_target: stderr\n"
    "  control_socket: /run/minigw/gw.sock\n"
    "  user: nobody\n"
    "  metrics_listen: 127.0.0.1:9469\n"
    "  cookie_threshold: 2000\n"
    "  cookie_threshold_ip: 8\n"
    "  block_threshold: 16\n"
    "  half_open_limit: 10000\n"
    "interfaces:\n"
    "  - name: lo0\n"
    "    addresses: [10.2.2.2/32, 2001:db8::2/128]\n"
    "tunnels:\n"
    "  - name: azure\n"
    "    local: 203.0.113.1\n"
    "    remote: 203.0.113.2\n"
    "    local_id: gw.example.com\n"
    "    remote_id: 203.0.113.2\n"
    "    psk_file: psk\n"
    "    ike_version: 2\n"
    "    ike_proposals: [aes256-sha1-modp1024, aes256-sha256-modp2048]\n"
    "    esp_proposals: aes256-sha256\n"
    "    ike_lifetime: 28800\n"
    "    child_lifetime: 3600\n"
    "    child_lifetime_kb: 102400000\n"
    "    rekey_margin: 270\n"
    "    rekey_fuzz: 100\n"
    "    dpd_interval: 10\n"
    "    dpd_timeout: 30\n"
    "    dpd_action: clear\n"
    "    role: respond\n"
    "    local_ts: [192.168.2.0/24]\n"
    "    remote_ts: [172.16.0.0/16]\n"
    "    address: 169.254.0.1/30\n"
    "    interface: vpnr0\n"
    "    mtu: 1400\n"
    "    mss: 1350\n"
    "    replay_window: 2048\n"
    "    if_id: 7\n"
    "    force_encap: yes\n"
    "    offload: false\n"
    "    share_ike: true\n"
    "  - name: aws2\n"
    "    local: 198.51.100.1\n"
    "    remote: 198.51.100.2\n"
    "    psk_file: psk\n"
    "    address: 169.254.22.1/30\n"
    "routes:\n"
    "  - prefix: 172.16.0.6/32\n"
    "    tunnel: azure\n"
    "  - prefix: 172.16.0.0/16\n"
    "    tunnel: aws2\n"
    "prefix_lists:\n"
    "  - name: out\n"
    "    entries:\n"
    "      - {prefix: 192.168.0.0/16, ge: 24, le: 24, action: permit}\n"
    "      - {prefix: 0.0.0.0/0, le: 32, action: deny}\n"
    "bgp:\n"
    "  neighbors:\n"
    "    - address: 172.16.0.6\n"
    "      remote_as: 65010\n"
    "      update_source: lo0\n"
    "      multihop: 255\n"
    "      hold_time: 180\n"
    "      keepalive: 60\n"
    "      connect_retry: 5\n"
    "      max_prefix: 4000\n"
    "      max_prefix_action: warn\n"
    "      out_max_prefix: 4000\n"
    "      graceful_restart: false\n"
    "      import: all\n"
    "      export: out\n"
    "      prepend: 2\n"
    "      med: 50\n"
    "    - address: 169.254.22.2\n"
    "      remote_as: 4200000001\n"
    "      tunnel: aws2\n"
    "      tunnel_down: hold\n"
    "      export: networks\n"
    "  networks: [192.168.2.0/24, 2001:db8:2::/48]\n";

static void
write_file(const char *name, const char *text)
{
	char p[300];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_non_null(f = fopen(p, "w"));
	fputs(text, f);
	fclose(f);
}

static int
setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.yaml", dir);
	write_file("psk", "interop-test-psk-0123456789\n");
	return 0;
}

static int
teardown(void **state)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/psk", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/short", dir);
	unlink(p);
	unlink(path);
	rmdir(dir);
	return 0;
}

static char *
print_cfg(const struct mgw_config *c)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(mgw_config_print(c, f), 0);
	fclose(f);
	return buf;
}

static void
roundtrip(void **state)
{
	struct mgw_config a, b;
	char err[512], *pa, *pb;
	int i;

	write_file("t.yaml", complete);
	if (mgw_config_load(&a, path, NULL, 0, MGW_LOAD_FILES, err,
		sizeof(err)) < 0)
		fail_msg("%s", err);
	assert_int_equal(a.n_tun, 2);
	assert_int_equal(a.n_nb, 2);
	assert_int_equal(a.g.cookie_threshold, 2000);
	assert_int_equal(a.g.cookie_threshold_ip, 8);
	assert_int_equal(a.g.block_threshold, 16);
	assert_int_equal(a.g.half_open_limit, 10000);
	assert_int_equal(a.tun[0].psk_len, 27);
	assert_int_equal(a.tun[0].mss, 1350);
	assert_int_equal(a.tun[1].mss, 1350); /* default */
	assert_int_equal(a.tun[1].if_id, 2);  /* default: index + 1 */
	assert_string_equal(a.tun[1].ifname, "mgw1");
	assert_int_equal(a.tun[0].share_ike, 1);
	assert_int_equal(a.tun[1].share_ike, 0); /* default */
	/* update_source lo0 -> its address; the tunnel from the /32. */
	assert_string_equal(a.nb[0].tunnel, "azure");
	assert_int_equal(a.nb[0].local.bytes[0], 10);
	assert_int_equal(a.nb[0].local.bytes[3], 2);
	assert_int_equal(a.nb[1].remote_as, 4200000001u);
	assert_int_equal(a.nb[0].tunnel_down, VPNR_BGP_TUNNEL_DOWN_RESET);
	assert_int_equal(a.nb[1].tunnel_down, VPNR_BGP_TUNNEL_DOWN_HOLD);
	pa = print_cfg(&a);
	/* The printed form parses (same directory: psk_file) ... */
	if (mgw_config_load(&b, path, pa, strlen(pa), MGW_LOAD_FILES, err,
		sizeof(err)) < 0)
		fail_msg("printed config does not parse: %s\n%s", err, pa);
	/* ... into the same configuration, printed the same way. */
	pb = print_cfg(&b);
	assert_string_equal(pa, pb);
	assert_int_equal(a.n_tun, b.n_tun);
	for (i = 0; i < a.n_tun; i++)
		assert_true(mgw_tunnel_equal(&a.tun[i], &b.tun[i]));
	for (i = 0; i < a.n_nb; i++)
		assert_true(mgw_neighbor_equal(&a, &a.nb[i], &b, &b.nb[i]));
	assert_int_equal(a.n_networks, b.n_networks);
	assert_memory_equal(a.networks, b.networks,
	    sizeof(*a.networks) * (size_t)a.n_networks);
	/* No key in the printed text. */
	assert_null(strstr(pa, "interop-test-psk"));
	/* A changed export list makes the neighbour differ. */
	b.pl[0].e[0].le = 25;
	assert_false(mgw_neighbor_equal(&a, &a.nb[0], &b, &b.nb[0]));
	b.tun[0].mtu = 1300;
	assert_false(mgw_tunnel_equal(&a.tun[0], &b.tun[0]));
	free(pa);
	free(pb);
	mgw_config_free(&a);
	mgw_config_free(&b);
}

/* A minimal valid file with one line replaced by bad. */
static const char base[] = "global:\n"                       /* 1 */
			   "  local_as: 65050\n"             /* 2 */
			   "tunnels:\n"                      /* 3 */
			   "  - name: t1\n"                  /* 4 */
			   "    local: 192.0.2.1\n"          /* 5 */
			   "    remote: 192.0.2.2\n"         /* 6 */
			   "    psk: abcdefgh12\n"           /* 7 */
			   "    address: 169.254.0.1/30\n"   /* 8 */
			   "    mtu: 1400\n"                 /* 9 */
			   "routes:\n"                       /* 10 */
			   "  - prefix: 10.0.0.0/8\n"        /* 11 */
			   "    tunnel: t1\n"                /* 12 */
			   "bgp:\n"                          /* 13 */
			   "  neighbors:\n"                  /* 14 */
			   "    - address: 169.254.0.2\n"    /* 15 */
			   "      remote_as: 65010\n"        /* 16 */
			   "  networks: [192.168.2.0/24]\n"; /* 17 */

static void
expect_error(const char *text, const char *want)
{
	struct mgw_config c;
	char err[1024];

	if (mgw_config_load(&c, "t.yaml", text, strlen(text), 0, err,
		sizeof(err)) == 0) {
		mgw_config_free(&c);
		fail_msg("accepted, expected \"%s\":\n%s", want, text);
	}
	if (strstr(err, want) == NULL)
		fail_msg("got \"%s\", expected \"%s\"", err, want);
}

/* base with line n (1-based) replaced by repl (which may hold \n). */
static void
with_line(int n, const char *repl, const char *want)
{
	char out[4096];
	const char *p = base, *e;
	size_t k = 0;
	int line = 1;

	while (*p != '\0') {
		e = strchr(p, '\n');
		if (line == n)
			k += (size_t)snprintf(out + k, sizeof(out) - k, "%s\n",
			    repl);
		else
			k += (size_t)snprintf(out + k, sizeof(out) - k,
			    "%.*s\n", (int)(e - p), p);
		p = e + 1;
		line++;
	}
	expect_error(out, want);
}

static void
load_base(struct mgw_config *c)
{
	char err[512];

	if (mgw_config_load(c, "t.yaml", base, strlen(base), 0, err,
		sizeof(err)) < 0)
		fail_msg("%s", err);
}

static void
base_is_valid(void **state)
{
	struct mgw_config c;

	load_base(&c);
	/* The neighbour rides t1: its address is in t1's /30. */
	assert_string_equal(c.nb[0].tunnel, "t1");
	mgw_config_free(&c);
}

/* No router_id: the highest IPv4 address of ours (192.0.2.1 over
 * 169.254.0.1); given, it wins. */
static void
derived_router_id(void **state)
{
	struct mgw_config c;

	load_base(&c);
	assert_int_equal(c.g.router_id, 0);
	assert_int_equal(mgw_config_router_id(&c), 0xc0000201);
	c.g.router_id = 0x0a020202;
	assert_int_equal(mgw_config_router_id(&c), 0x0a020202);
	mgw_config_free(&c);
}

static void
numbers(void **state)
{
	with_line(2, "  local_as: 99999999999",
	    "t.yaml:2: global.local_as: '99999999999' is not a usable AS "
	    "number (allowed 1-4294967295, except 23456 = AS_TRANS)");
	with_line(2, "  local_as: 23456", "t.yaml:2: global.local_as: '23456'");
	with_line(2, "  local_as: abc", "t.yaml:2: global.local_as: 'abc'");
	with_line(2, "  local_as: -1", "t.yaml:2: global.local_as: '-1'");
	with_line(2, "  local_as: 0", "t.yaml:2: global.local_as: '0'");
	with_line(9, "    mtu: 70000",
	    "t.yaml:9: tunnels[0].mtu: 70000 is out of range (allowed "
	    "576-9000)");
	with_line(9, "    mtu: 1400x",
	    "t.yaml:9: tunnels[0].mtu: '1400x' is not a number (allowed "
	    "576-9000)");
	with_line(9, "    mss: abc",
	    "t.yaml:9: tunnels[0].mss: 'abc' is not a "
	    "number");
	with_line(9, "    mss: 1400",
	    "t.yaml:4: tunnels[0]: mss 1400 does not fit (allowed 0 = off, "
	    "or 536 to mtu - 40 = 1360)");
	with_line(9, "    replay_window: 65537",
	    "tunnels[0].replay_window: 65537 is out of range (allowed "
	    "0-65536)");
	with_line(9, "    ike_lifetime: 10",
	    "tunnels[0].ike_lifetime: 10 is "
	    "out of range (allowed "
	    "300-86400)");
	with_line(9, "    dpd_timeout: 18446744073709551616",
	    "tunnels[0].dpd_timeout: '18446744073709551616' is not a number");
	with_line(9, "    ike_version: 3",
	    "tunnels[0].ike_version: 3 is out of range (allowed 1-2)");
	with_line(9, "    aggressive: true",
	    "aggressive is IKEv1's (set ike_version: 1)");
	/* IKEv1 shares its ISAKMP SA by itself: the key is refused at
	 * its own line. */
	with_line(9, "    ike_version: 1\n    share_ike: true",
	    "t.yaml:10: tunnels[0].share_ike: true needs ike_version: 2");
	with_line(9, "    share_ike: sometimes",
	    "t.yaml:9: tunnels[0].share_ike: 'sometimes'");
	with_line(16, "      remote_as: 65050",
	    "t.yaml:15: bgp.neighbors[0]: remote_as 65050 equals local_as");
	with_line(16, "      remote_as: 65010\n      hold_time: 2",
	    "hold_time 2 is not allowed (allowed 0 or 3-65535)");
	with_line(16, "      remote_as: 65010\n      keepalive: 60",
	    "keepalive 60 is more than a third of hold_time 90");
	with_line(16, "      remote_as: 65010\n      prepend: 17",
	    "t.yaml:17: bgp.neighbors[0].prepend: 17 is out of range (allowed "
	    "0-16)");
}

/* The half-open limits: the library's defaults, ranges, and a per-
 * address COOKIE threshold above the drop threshold refused. */
static void
half_open_limits(void **state)
{
	struct mgw_config c;

	load_base(&c);
	assert_int_equal(c.g.cookie_threshold, 64);
	assert_int_equal(c.g.cookie_threshold_ip, 3);
	assert_int_equal(c.g.block_threshold, 5);
	assert_int_equal(c.g.half_open_limit, 4096);
	mgw_config_free(&c);
	with_line(2, "  local_as: 65050\n  cookie_threshold: 1048577",
	    "t.yaml:3: global.cookie_threshold: 1048577 is out of range "
	    "(allowed 0-1048576)");
	with_line(2, "  local_as: 65050\n  cookie_threshold: -1",
	    "t.yaml:3: global.cookie_threshold: '-1' is not a number");
	with_line(2, "  local_as: 65050\n  block_threshold: 0",
	    "t.yaml:3: global.block_threshold: 0 is out of range (allowed "
	    "1-1048576)");
	with_line(2, "  local_as: 65050\n  cookie_threshold_ip: 6",
	    "t.yaml:3: global.cookie_threshold_ip: 6 is more than "
	    "block_threshold 5");
	with_line(2,
	    "  local_as: 65050\n  cookie_threshold_ip: 4\n  "
	    "block_threshold: 2",
	    "t.yaml:3: global.cookie_threshold_ip: 4 is more than "
	    "block_threshold 2");
	with_line(2, "  local_as: 65050\n  half_open_limit: 0",
	    "t.yaml:3: global.half_open_limit: 0 is out of range (allowed "
	    "1-1048576)");
	with_line(2, "  local_as: 65050\n  block_threshold: 2",
	    "t.yaml:3: global.cookie_threshold_ip: 3 is more than "
	    "block_threshold 2");
}

static void
addresses(void **state)
{
	with_line(8, "    address: x/abc",
	    "t.yaml:8: tunnels[0].address: 'x/abc' is not an interface "
	    "address");
	with_line(8, "    address: 169.254.0.1/33",
	    "'169.254.0.1/33' is not "
	    "an interface address");
	with_line(8, "    address: 169.254.0.1",
	    "'169.254.0.1' is not an "
	    "interface address");
	with_line(11, "  - prefix: 10.0.0.1/8",
	    "t.yaml:11: routes[0].prefix: '10.0.0.1/8' is not a prefix "
	    "(allowed: ADDRESS/LENGTH with the host bits zero");
	with_line(11, "  - prefix: 10.0.0.0/40",
	    "'10.0.0.0/40' is not a "
	    "prefix");
	with_line(5, "    local: 192.0.2.300",
	    "t.yaml:5: tunnels[0].local: '192.0.2.300' is not an address");
	with_line(6, "    remote: 2001:db8::2",
	    "tunnels[0]: local and remote are of different families");
	with_line(15, "    - address: 169.254.0.2:179",
	    "t.yaml:15: bgp.neighbors[0].address: '169.254.0.2:179' is not "
	    "an IPv4 or IPv6 address");
	with_line(17, "  networks: [192.168.2.0/24, 10/8]",
	    "t.yaml:17: bgp.networks[1]: '10/8' is not a prefix");
}

static void
secrets(void **state)
{
	char line[400];

	with_line(7, "    psk: x",
	    "t.yaml:7: tunnels[0].psk: the key is 1 bytes (allowed 8-256)");
	memset(line, 'k', sizeof(line));
	memcpy(line, "    psk: ", 9);
	line[9 + 300] = '\0';
	with_line(7, line,
	    "t.yaml:7: tunnels[0].psk: the key is 300 bytes (allowed "
	    "8-256)");
	with_line(7, "    psk: abcdefgh12\n    psk_file: /nonexistent",
	    "tunnels[0].psk_file: give either psk or psk_file, not both");
	with_line(4, "  - name: t1\n    psk_file: x",
	    "tunnels[0].psk_file: files are not read here");
	with_line(16,
	    "      remote_as: 65010\n      md5_password: "
	    "0123456789012345678901234567890123456789012345678901234"
	    "567890123456789012345678901234",
	    "bgp.neighbors[0].md5_password: the key is 85 bytes (allowed "
	    "1-80)");
}

static void
psk_file_checked(void **state)
{
	struct mgw_config c;
	char text[512], err[512];

	write_file("short", "abc\n");
	snprintf(text, sizeof(text), "%s", base);
	/* psk: abcdefgh12 -> psk_file: short */
	memcpy(strstr(text, "psk: abcdefgh12"), "psk_file: short", 15);
	assert_int_equal(mgw_config_load(&c, path, text, strlen(text),
			     MGW_LOAD_FILES, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "tunnels[0].psk_file: the key in"));
	assert_non_null(strstr(err, "is 3 bytes (allowed 8-256)"));
}

static void
words_and_keys(void **state)
{
	with_line(9, "    mtux: 1400",
	    "t.yaml:9: tunnels[0]: unknown key 'mtux' (allowed: name, local, "
	    "remote,");
	with_line(1, "globl:",
	    "t.yaml:1: top level: unknown key 'globl' "
	    "(allowed: global, interfaces, tunnels,");
	with_line(9, "    mtu: 1400\n    mtu: 1300",
	    "t.yaml:10: tunnels[0]: "
	    "'mtu' given twice");
	with_line(16, "      remote_as: 65010\n      tunnel_down: drop",
	    "t.yaml:17: bgp.neighbors[0].tunnel_down: 'drop' is not allowed "
	    "(allowed: reset, hold)");
	with_line(9, "    dpd_action: reboot",
	    "t.yaml:9: tunnels[0].dpd_action: 'reboot' is not allowed "
	    "(allowed: clear, restart, none)");
	with_line(9, "    force_encap: maybe",
	    "tunnels[0].force_encap: 'maybe' is not a boolean (allowed: true, "
	    "false)");
	with_line(9, "    esp_proposals: [aes256-shaXX]",
	    "t.yaml:9: tunnels[0].esp_proposals[0]: 'aes256-shaXX' is not a "
	    "proposal");
	with_line(9, "    ike_proposals: [aes256-sha256-modpXX]",
	    "tunnels[0].ike_proposals[0]: 'aes256-sha256-modpXX' is not a "
	    "proposal");
	with_line(4, "  - name: 't 1'", "tunnels[0].name: 't 1' is not a name");
	with_line(8, "    interface: vpnr0",
	    "t.yaml:4: tunnels[0]: 'address' is "
	    "required");
	with_line(12, "    tunnel: t2",
	    "t.yaml:11: routes: unknown tunnel "
	    "'t2'");
	with_line(16, "      remote_as: 65010\n      export: nolist",
	    "bgp.neighbors[0]: unknown prefix list 'nolist'");
	with_line(16, "      remote_as: 65010\n      next_hop_self: false",
	    "next_hop_self: false is not supported");
	with_line(16, "      remote_as: 65010\n      update_source: eth9",
	    "update_source 'eth9' is neither an interface");
	with_line(2, "  local_as: [1, 2]",
	    "t.yaml:2: global.local_as: must be a single value");
	expect_error("tunnels: {a: 1}\n", "t.yaml:1: tunnels: must be a list");
	with_line(9, "    mtu: [1400", "t.yaml:10: YAML syntax");
	expect_error("", "t.yaml:1: the file is empty");
	expect_error("- a\n- b\n", "t.yaml:1: top level: must be a mapping");
	expect_error("tunnels:\n  - name: a\n    local: 192.0.2.1\n    "
		     "remote: 192.0.2.2\n    psk: 12345678\n    address: "
		     "10.0.0.1/30\n  - name: a\n    local: 192.0.2.1\n    "
		     "remote: 192.0.2.3\n    psk: 12345678\n    address: "
		     "10.0.0.5/30\n",
	    "t.yaml:7: tunnels[1]: name 'a' used twice");
	expect_error("bgp:\n  neighbors:\n    - address: 10.0.0.1\n      "
		     "remote_as: 1\n",
	    "t.yaml:3: global.local_as: required when bgp neighbors are "
	    "configured");
}

/* The 0.1 command line: what it used to wrap, cut or ignore. */
static void
legacy_refuses(void **state)
{
	static struct mgw_legacy l;
	char err[512], psk[301];

	mgw_legacy_init(&l);
	assert_int_equal(mgw_legacy_opt(&l, "bgp-as", "99999999999", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--bgp-as: '99999999999' is not an AS"));
	assert_int_equal(mgw_legacy_opt(&l, "bgp-as", "abc", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--bgp-as: 'abc'"));
	assert_int_equal(mgw_legacy_opt(&l, "tun-addr", "x/abc", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--tun-addr: 'x/abc'"));
	assert_int_equal(mgw_legacy_opt(&l, "mss", "abc", err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--mss: 'abc' is not a number in 0-9000"));
	/* Liveness flags: the ranges of the dpd_* keys. */
	assert_int_equal(mgw_legacy_opt(&l, "dpd-timeout", "1", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--dpd-timeout: '1'"));
	assert_int_equal(mgw_legacy_opt(&l, "dpd-interval", "3601", err,
			     sizeof(err)),
	    -1);
	assert_int_equal(mgw_legacy_opt(&l, "dpd-action", "reboot", err,
			     sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "--dpd-action: 'reboot'"));
	assert_int_equal(l.t.dpd_timeout, 20); /* the default, untouched */
	assert_int_equal(mgw_legacy_opt(&l, "dpd-timeout", "12", err,
			     sizeof(err)),
	    0);
	assert_int_equal(mgw_legacy_opt(&l, "dpd-action", "clear", err,
			     sizeof(err)),
	    0);
	assert_int_equal(l.t.dpd_timeout, 12);
	assert_int_equal(l.t.dpd_action, VPNR_DPD_ACTION_CLEAR);
	memset(psk, 'p', 300);
	psk[300] = '\0';
	assert_int_equal(mgw_legacy_opt(&l, "psk", psk, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the key is 300 bytes (allowed 8-256)"));
	assert_int_equal(mgw_legacy_opt(&l, "psk", "x", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "the key is 1 bytes"));
	assert_int_equal(mgw_legacy_opt(&l, "bgp-peer", "10.0.0.1:23456", err,
			     sizeof(err)),
	    -1);
	/* And a valid set builds the one-tunnel configuration. */
	assert_int_equal(mgw_legacy_opt(&l, "local", "192.0.2.1", err,
			     sizeof(err)),
	    0);
	assert_int_equal(mgw_legacy_opt(&l, "remote", "192.0.2.2", err,
			     sizeof(err)),
	    0);
	assert_int_equal(mgw_legacy_opt(&l, "psk", "long-enough-key", err,
			     sizeof(err)),
	    0);
	assert_int_equal(mgw_legacy_opt(&l, "tun-addr", "169.254.21.1/30", err,
			     sizeof(err)),
	    0);
	assert_int_equal(mgw_legacy_opt(&l, "route", "172.16.0.0/16", err,
			     sizeof(err)),
	    0);
	{
		struct mgw_config c;

		if (mgw_legacy_config(&l, &c, err, sizeof(err)) < 0)
			fail_msg("%s", err);
		assert_int_equal(c.n_tun, 1);
		assert_string_equal(c.tun[0].ifname, "vpnr0");
		assert_int_equal(c.n_routes, 1);
		mgw_config_free(&c);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(base_is_valid),
		cmocka_unit_test(derived_router_id),
		cmocka_unit_test(numbers),
		cmocka_unit_test(half_open_limits),
		cmocka_unit_test(addresses),
		cmocka_unit_test(secrets),
		cmocka_unit_test(psk_file_checked),
		cmocka_unit_test(words_and_keys),
		cmocka_unit_test(legacy_refuses),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
