/*
 * vpnr_bgp_rib_walk hands out the AS path and ORIGIN of every path:
 * C (AS 65003) originates, B (AS 65002) passes it on to A (AS 65001)
 * with one extra prepend, so each RIB shows a different path.  Also
 * that vpnr_bgp_path_add refuses the output-only fields on input.
 */
#include "bgp_harness.h"

#define A_ADDR "192.0.2.1"
#define B_ADDR "192.0.2.2"
#define C_ADDR "192.0.2.3"

struct seen {
	const char *pfx; /* the prefix to look for */
	int n;           /* times seen */
	char path[128];  /* its AS path, "65002 65003" */
	uint32_t origin;
	int null_path; /* as_path was NULL */
};

static int
seen_cb(const vpnr_prefix *p, const vpnr_path_attrs *a, uint64_t peer,
    void *arg)
{
	struct seen *s = arg;
	vpnr_prefix want = bh_pfx(s->pfx);
	size_t i, k = 0;

	(void)peer;
	if (p->len != want.len || p->addr.family != want.addr.family ||
	    memcmp(p->addr.bytes, want.addr.bytes, sizeof(p->addr.bytes)) != 0)
		return 0;
	s->n++;
	s->path[0] = '\0';
	for (i = 0; i < a->n_as_path; i++)
		k += (size_t)snprintf(s->path + k, sizeof(s->path) - k, "%s%u",
		    i ? " " : "", a->as_path[i]);
	s->origin = a->origin;
	s->null_path = a->as_path == NULL;
	assert_int_equal(a->reserved32, 0);
	assert_int_equal(a->reserved[0], 0);
	return 0;
}

static void
assert_walk(int spk, int rib, uint64_t peer, const char *pfx, const char *path)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	s.pfx = pfx;
	assert_int_equal(vpnr_bgp_rib_walk(bh_spk[spk].ctx, rib, peer, seen_cb,
			     &s),
	    VPNR_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.path, path);
	assert_int_equal(s.null_path, path[0] == '\0');
	assert_int_equal(s.origin, VPNR_ORIGIN_IGP);
}

static void
tw_transit(vpnr_bgp_peer_config *pc, void *arg)
{
	(void)arg;
	assert_int_equal(vpnr_bgp_peer_config_set_policy(pc,
			     VPNR_BGP_IMPORT_ALL, VPNR_BGP_EXPORT_ALL),
	    VPNR_OK);
	assert_int_equal(vpnr_bgp_peer_config_set_export(pc, 1, 0, 0, 0),
	    VPNR_OK);
}

static void
test_walk_as_path(void **state)
{
	int a, b, c;
	uint64_t ab, ba, bc, cb, id;
	vpnr_prefix p;

	(void)state;
	a = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	b = bh_speaker("B", B_ADDR, 65002, 0x02020202);
	c = bh_speaker("C", C_ADDR, 65003, 0x03030303);
	ab = bh_peer(a, B_ADDR, 65002, 0, NULL, NULL);
	ba = bh_peer(b, A_ADDR, 65001, 1, tw_transit, NULL);
	bc = bh_peer(b, C_ADDR, 65003, 0, NULL, NULL);
	cb = bh_peer(c, B_ADDR, 65002, 1, NULL, NULL);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, ba, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[c].ctx, cb, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[a].ctx, ab, 1, bh_now);
	vpnr_bgp_peer_enable(bh_spk[b].ctx, bc, 1, bh_now);
	bh_run();
	assert_int_equal(bh_state(a, ab), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_state(c, cb), VPNR_BGP_STATE_ESTABLISHED);
	assert_int_equal(bh_count_ev(b, VPNR_BGP_EV_ESTABLISHED), 2);
	assert_non_null(bh_last_ev(a, VPNR_BGP_EV_ESTABLISHED));
	p = bh_pfx("10.3.0.0/16");
	assert_int_equal(vpnr_bgp_path_add(bh_spk[c].ctx, &p, NULL, &id,
			     bh_now),
	    VPNR_OK);
	bh_advance(VPNR_SECONDS);
	assert_int_equal(bh_has_route(a, "10.3.0.0/16", B_ADDR), 1);

	/* C: its own path is empty in the Loc-RIB, "65003" as sent */
	assert_walk(c, VPNR_RIB_LOC, 0, "10.3.0.0/16", "");
	assert_walk(c, VPNR_RIB_ADJ_OUT, cb, "10.3.0.0/16", "65003");
	/* B: received from C; sent to A with its AS twice (1 + 1) */
	assert_walk(b, VPNR_RIB_ADJ_IN, bc, "10.3.0.0/16", "65003");
	assert_walk(b, VPNR_RIB_LOC, 0, "10.3.0.0/16", "65003");
	assert_walk(b, VPNR_RIB_ADJ_OUT, ba, "10.3.0.0/16",
	    "65002 65002 65003");
	/* A: what B sent, on the wire and in its Loc-RIB */
	assert_walk(a, VPNR_RIB_ADJ_IN, ab, "10.3.0.0/16", "65002 65002 65003");
	assert_walk(a, VPNR_RIB_LOC, ab, "10.3.0.0/16", "65002 65002 65003");
	bh_reset();
}

/* The output-only fields must be zero on input to path_add. */
static void
test_path_add_refuses_output_fields(void **state)
{
	static const uint32_t asns[] = { 65010 };
	vpnr_path_attrs at;
	vpnr_prefix p;
	uint64_t id;
	int s;

	(void)state;
	s = bh_speaker("A", A_ADDR, 65001, 0x01010101);
	p = bh_pfx("10.1.0.0/16");
	memset(&at, 0, sizeof(at));
	at.as_path = asns;
	at.n_as_path = 1;
	assert_int_equal(vpnr_bgp_path_add(bh_spk[s].ctx, &p, &at, &id, bh_now),
	    VPNR_ERR_INVALID_ARGUMENT);
	assert_int_equal(id, 0);
	memset(&at, 0, sizeof(at));
	at.n_as_path = 1;
	assert_int_equal(vpnr_bgp_path_add(bh_spk[s].ctx, &p, &at, &id, bh_now),
	    VPNR_ERR_INVALID_ARGUMENT);
	memset(&at, 0, sizeof(at));
	at.origin = VPNR_ORIGIN_INCOMPLETE;
	assert_int_equal(vpnr_bgp_path_add(bh_spk[s].ctx, &p, &at, &id, bh_now),
	    VPNR_ERR_INVALID_ARGUMENT);
	memset(&at, 0, sizeof(at));
	at.reserved32 = 1;
	assert_int_equal(vpnr_bgp_path_add(bh_spk[s].ctx, &p, &at, &id, bh_now),
	    VPNR_ERR_INVALID_ARGUMENT);
	/* all zero is fine, and the walk shows the path as ORIGIN IGP */
	memset(&at, 0, sizeof(at));
	assert_int_equal(vpnr_bgp_path_add(bh_spk[s].ctx, &p, &at, &id, bh_now),
	    VPNR_OK);
	assert_walk(s, VPNR_RIB_LOC, 0, "10.1.0.0/16", "");
	bh_reset();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_walk_as_path, bh_setup),
		cmocka_unit_test_setup(test_path_add_refuses_output_fields,
		    bh_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
