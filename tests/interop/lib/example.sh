# shellcheck shell=bash
# The bindings' examples (Python: examples/python/examples/tunnel_bgp.py,
# Go: examples/go/cmd/vpnr-example) against strongSwan and BIRD in the
# right namespace, shared by test_python_example.sh and
# test_go_example.sh: the tunnel comes up (strongSwan shows the CHILD_SA
# with the SPIs the example printed), the eBGP session bound to it is
# Established at BIRD (with TCP-MD5), the example prints BIRD's routes (pointing into
# the tunnel) and BIRD has ours; on SIGTERM the example sends IKE
# DELETE and CEASE, and both peers see them.
#
#   . lib/common.sh; . lib/example.sh
#   vi_init NAME bird birdc
#   ex_run DASH PROG ARGS...   # DASH: "--" (Python) or "-" (Go flags)

EX_MD5=${EX_MD5:-bgp-md5-key-42}

ex_run() {
	local dash=$1
	shift
	vi_setup_netns || vi_fail "netns setup"
	vi_start_charon right aes256gcm16-prfsha256-x25519 aes256gcm16 none ||
		vi_fail "charon"

	local ns spis
	ns=$(vi_ns right)
	cat >"$VI_RUN/bird.conf" <<-EOC
	log "$VI_RUN/bird.log" all;
	router id $VI_RIGHT_WAN;
	protocol device { scan time 10; }
	protocol static s4 {
	    ipv4;
	    route 172.16.0.0/16 blackhole;
	    route 172.17.0.0/16 blackhole;
}
	protocol bgp ours {
	    local $VI_RIGHT_WAN as 65050;
	    neighbor $VI_LEFT_WAN as 65010;
	    hold time 9;
	    connect delay time 1;
	    connect retry time 2;
	    error wait time 1, 4;
	    password "$EX_MD5";
	    ipv4 { import all; export where proto = "s4"; };
}
	EOC
	ip netns exec "$ns" bird -c "$VI_RUN/bird.conf" -s "$VI_RUN/bird.ctl" \
	    -P "$VI_RUN/bird.pid" || vi_fail "bird did not start"
	vi_wait_for 5 test -s "$VI_RUN/bird.pid" || vi_fail "no bird.pid"
	vi_record_pid bird "$(cat "$VI_RUN/bird.pid")"
	birdc_() { timeout 10 birdc -s "$VI_RUN/bird.ctl" "$@"; }
	bird_established() { birdc_ show protocols ours | grep -q Established; }
	bird_down() { ! bird_established; }
	swan_gone() { ! vi_swan_ike_established right; }
	bird_has_ours() { birdc_ show route 192.168.2.0/24 | grep -q 192.168.2.0/24; }

	# The example's command line: "$@" then the common options.
	vi_start_ours left ex "$@" \
	    ${dash}local $VI_LEFT_WAN ${dash}remote $VI_RIGHT_WAN ${dash}psk "$VI_PSK" \
	    ${dash}local-as 65010 ${dash}peer-as 65050 ${dash}advertise 192.168.2.0/24 \
	    ${dash}ike aes256gcm16-prfsha256-x25519 ${dash}esp aes256gcm16 \
	    ${dash}md5 "$EX_MD5" ${dash}min-routes 2 ${dash}linger || vi_fail "start example"
	vi_wait_for 60 vi_grep_out ex '^routes: ' || vi_fail "example learned no routes"
	vi_grep_out ex '^tunnel up 203\.0\.113\.1 -> 203\.0\.113\.2 ' || vi_fail "no tunnel line"
	vi_grep_out ex '^bgp established with 203\.0\.113\.2 AS65050' || vi_fail "no BGP line"
	vi_grep_out ex '^route 172\.16\.0\.0/16 via 203\.0\.113\.2 tunnel 1 if_id 1$' ||
		vi_fail "172.16/16 not learned into the tunnel"
	vi_grep_out ex '^route 172\.17\.0\.0/16 via ' || vi_fail "172.17/16 not learned"
	vi_swan_child_installed right || vi_fail "strongSwan has no CHILD_SA"
	# strongSwan's inbound SPI is the example's outbound one
	spis=$(vi_swan_child_spis right | head -n1)
	grep -q "spi in ${spis#* } out ${spis% *}" "$VI_RUN/ex.out" ||
		vi_fail "SPIs differ: strongSwan '$spis'"
	bird_established || vi_fail "BIRD not Established"
	vi_wait_for 10 bird_has_ours || vi_fail "BIRD lacks our prefix"
	cat "$VI_RUN/ex.out" >&2

	vi_stop ex || vi_fail "example exited with an error"
	grep -q '^done$' "$VI_RUN/ex.out" || vi_fail "example did not clean up"
	vi_wait_for 15 swan_gone ||
		vi_fail "strongSwan still has the IKE_SA after our DELETE"
	vi_wait_for 15 bird_down || vi_fail "BIRD session still Established after CEASE"
}
