#!/bin/bash
# Interop, the Alibaba how-to (seed-scenarios.md §2): two IPsec
# connections between the same two gateways, one CIDR pair each:
#   192.168.0.0/16 <-> 172.16.0.0/12   and   192.168.0.0/16 <-> 10.0.0.0/8.
# minigw runs two tunnels to one peer (interfaces vpnr0/vpnr1, a route
# per remote network); strongSwan (kernel-libipsec) plays the other
# gateway with one connection and two children narrowed to those pairs.
# The host behind minigw pings a host in each remote network, and each
# ping must cross its own connection: the packet counters of that
# connection's CHILD_SA rise on both sides (swanctl --list-sas, minigw
# `show tunnels --json`) while the other's stay.
# Runs:
#   IKEv1, minigw initiates: one ISAKMP SA per tunnel (the second
#     without INITIAL-CONTACT, so that strongSwan keeps the first), and
#     after strongSwan merges them (it takes the second for a
#     reauthentication) both tunnels go on over the one left;
#   IKEv1, strongSwan initiates both children: one ISAKMP SA, two Quick
#     Modes; minigw picks the second tunnel by the Quick Mode IDs;
#   IKEv2, minigw initiates: two IKE SAs, each with a narrowed CHILD_SA
#     (strongSwan picks its child by our traffic selectors);
#   IKEv2, strongSwan initiates both children: one IKE SA, the first
#     child in IKE_AUTH, the second by CREATE_CHILD_SA inside it; minigw
#     puts that one on the sibling tunnel its selectors fit;
#   IKEv2, minigw initiates with share_ike: true on both tunnels: both
#     start at once, the second waits for the first's IKE SA and opens
#     its CHILD_SA inside it.
# In both shared runs strongSwan holds ONE IKE SA with both children and
# minigw's tunnels report its SPIs; then strongSwan rekeys the second
# connection's CHILD_SA (minigw's second tunnel counts the rekey, pings
# still cross it) and the IKE SA (both children stay, pings cross each).
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"

mg_init minigw_two_connections
vi_setup_netns --hosts || vi_fail "namespaces"
mg_psk
# The "US VPC" network behind the same gateway, reached through the
# second connection (strongSwan needs an address of its own in each
# local_ts to route from).
US_IP=10.1.0.10
ip -n "$VI_NS_RIGHT" addr add 10.1.0.1/24 dev lan0
ip -n "$VI_NS_RHOST" addr add $US_IP/24 dev eth0

# ss_conf VERSION START: one connection, two narrowed children.
ss_conf() {
	local ver=$1 start=$2 pair
	mkdir -p "$VI_RUN/right"
	{
		cat <<EOF
connections {
    $VI_CONN {
        version = $ver
        local_addrs = $VI_RIGHT_WAN
        remote_addrs = $VI_LEFT_WAN
        proposals = aes128-sha1-modp1024
        dpd_delay = 10s
        keyingtries = 0
        local {
            auth = psk
            id = $VI_RIGHT_WAN
        }
        remote {
            auth = psk
            id = $VI_LEFT_WAN
        }
        children {
EOF
		for pair in "net172 172.16.0.0/12" "net10 10.0.0.0/8"; do
			cat <<EOF
            ${pair% *} {
                local_ts = ${pair#* }
                remote_ts = 192.168.0.0/16
                esp_proposals = aes128-sha1
                mode = tunnel
                start_action = $start
            }
EOF
		done
		cat <<EOF
        }
    }
}
secrets {
    ike-$VI_CONN {
        id-l = $VI_RIGHT_WAN
        id-r = $VI_LEFT_WAN
        secret = "$VI_PSK"
    }
}
EOF
	} >"$VI_RUN/right/swanctl.conf"
}

# gw_conf FILE VERSION ROLE SHARE: a tunnel per remote network, one
# peer; SHARE is share_ike (true|false).
gw_conf() {
	local f=$1 ver=$2 role=$3 share=$4 t name ts oct ifn
	{
		printf 'global:\n  control_socket: %s\n  log_level: info\ntunnels:\n' "$VI_RUN/gw$N.sock"
		for t in "tokyo 172.16.0.0/12 1 0" "us 10.0.0.0/8 5 1"; do
			read -r name ts oct ifn <<<"$t"
			cat <<EOF
  - name: $name
    local: $VI_LEFT_WAN
    remote: $VI_RIGHT_WAN
    psk_file: psk
    ike_version: $ver
    share_ike: $share
    role: $role
    ike_proposals: [aes128-sha1-modp1024]
    esp_proposals: [aes128-sha1]
    local_ts: [192.168.0.0/16]
    remote_ts: [$ts]
    address: 169.254.30.$oct/30
    interface: vpnr$ifn
EOF
		done
		printf 'routes:\n  - prefix: 172.16.0.0/12\n    tunnel: tokyo\n'
		printf '  - prefix: 10.0.0.0/8\n    tunnel: us\n'
	} >"$f"
}

# Inbound packets of strongSwan's installed child NAME (the newest).
ss_in_packets() {
	vi_swan right --list-sas 2>/dev/null | awk -v c="$1" '
		$1 == c":" { inst = ($0 ~ /INSTALLED/); next }
		inst && $1 == "in" { for (i = 1; i < NF; i++) if ($(i + 1) ~ /^packets/) p = $i; inst = 0 }
		END { print p + 0 }'
}
one_ike() { [ "$(vi_swan right --list-sas 2>/dev/null | grep -c "^$VI_CONN: ")" = 1 ]; }
ss_both_installed() {
	local l
	l=$(vi_swan right --list-sas 2>/dev/null)
	grep -q "^ *net172: .*INSTALLED" <<<"$l" && grep -q "^ *net10: .*INSTALLED" <<<"$l"
}
# strongSwan's unique ids: of the IKE SA ("#3"); "#ID STATE" of each
# child NAME.
ss_ike_id() { vi_swan right --list-sas 2>/dev/null | awk -v c="$VI_CONN:" '$1 == c { sub(/,$/, "", $2); print $2 }'; }
ss_child_ids() { vi_swan right --list-sas 2>/dev/null | awk -v c="$1:" '$1 == c { print $2, $5 }' | tr -d ','; }
# ss_rekeyed_ike OLD: one IKE SA, not OLD, both children installed.
ss_rekeyed_ike() { one_ike && [ "$(ss_ike_id)" != "$1" ] && ss_both_installed; }
# ss_rekeyed_child NAME OLD: one INSTALLED child NAME, not OLD (the old
# one may linger a few seconds after its DELETE, no longer INSTALLED).
ss_rekeyed_child() {
	local l
	l=$(ss_child_ids "$1" | grep ' INSTALLED$')
	[ -n "$l" ] && [ "$(wc -l <<<"$l")" = 1 ] && [ "${l% *}" != "$2" ]
}
# gw_field NAME FIELD: FIELD of tunnel NAME in minigw's show tunnels --json.
gw_field() {
	mg_ctl gw$N show tunnels --json 2>/dev/null | python3 -c '
import json, sys
print([t for t in json.load(sys.stdin)["tunnels"] if t["name"] == sys.argv[1]][0][sys.argv[2]])' "$1" "$2"
}
gw_in_packets() { gw_field "$1" packets_in; }
gw_child_rekeys_above() { [ "$(gw_field "$2" child_rekeys)" -gt "$1" ]; }
# The IKE SPIs in minigw's newest UP event of tunnel NAME.
gw_ike_spi() {
	grep -E "^EVENT UP .* name=$1 " "$VI_RUN/gw$N.out" | tail -n1 | grep -oE 'ike_spi=[^ ]+'
}

# ping_through DST NAME OTHER OTHER_GW: DST answers, only child NAME's
# counters (and minigw's tunnel OTHER_GW's counterpart) move.
ping_through() {
	local dst=$1 child=$2 other=$3 gwt=$4 gwo=$5 a0 b0 c0 d0 a1 b1 c1 d1
	a0=$(ss_in_packets "$child")
	b0=$(ss_in_packets "$other")
	c0=$(gw_in_packets "$gwt")
	d0=$(gw_in_packets "$gwo")
	vi_wait_for 10 ip netns exec "$VI_NS_LHOST" ping -c1 -W1 -q "$dst" >/dev/null ||
		vi_fail "$RUN: no ping to $dst"
	ip netns exec "$VI_NS_LHOST" ping -c5 -i 0.2 -W2 -q "$dst" >/dev/null ||
		vi_fail "$RUN: pings to $dst lost"
	a1=$(ss_in_packets "$child")
	b1=$(ss_in_packets "$other")
	c1=$(gw_in_packets "$gwt")
	d1=$(gw_in_packets "$gwo")
	vi_log "$RUN: $dst: strongSwan $child in $a0 -> $a1, $other $b0 -> $b1; minigw $gwt in $c0 -> $c1, $gwo $d0 -> $d1"
	[ $((a1 - a0)) -ge 5 ] && [ "$b1" = "$b0" ] ||
		vi_fail "$RUN: $dst did not go through $child alone at strongSwan"
	[ $((c1 - c0)) -ge 5 ] && [ "$d1" = "$d0" ] ||
		vi_fail "$RUN: $dst's answers did not come through minigw's $gwt alone"
}

# shared_checks: strongSwan (IKEv2) carries both children in one IKE SA
# whose SPIs both minigw tunnels report; they survive strongSwan's rekey
# of net10's CHILD_SA and of the IKE SA, pings crossing each connection.
shared_checks() {
	local old r0 a b
	one_ike || vi_fail "$RUN: strongSwan holds $(vi_swan right --list-sas | grep -c "^$VI_CONN: ") IKE SAs, not one"
	a=$(gw_ike_spi tokyo)
	b=$(gw_ike_spi us)
	vi_log "$RUN: minigw UP events: tokyo $a, us $b"
	[ -n "$a" ] && [ "$a" = "$b" ] || vi_fail "$RUN: minigw's tunnels report different IKE SAs ('$a', '$b')"
	old=$(ss_child_ids net10)
	old=${old% *}
	r0=$(gw_field us child_rekeys)
	vi_swan right --rekey --child net10 >/dev/null || vi_fail "$RUN: swanctl --rekey --child net10"
	vi_wait_for 20 ss_rekeyed_child net10 "$old" ||
		vi_fail "$RUN: net10 $old not rekeyed: $(vi_swan right --list-sas)"
	vi_wait_for 10 gw_child_rekeys_above "$r0" us ||
		vi_fail "$RUN: minigw's us did not count net10's rekey (child_rekeys $r0)"
	vi_log "$RUN: net10 $old -> $(ss_child_ids net10 | paste -sd,); minigw us child_rekeys $r0 -> $(gw_field us child_rekeys)"
	ping_through $US_IP net10 net172 us tokyo
	old=$(ss_ike_id)
	vi_swan right --rekey --ike "$VI_CONN" >/dev/null || vi_fail "$RUN: swanctl --rekey --ike $VI_CONN"
	vi_wait_for 20 ss_rekeyed_ike "$old" ||
		vi_fail "$RUN: IKE SA $old not rekeyed with both children kept: $(vi_swan right --list-sas)"
	vi_log "$RUN: IKE SA $old -> $(ss_ike_id); net172 $(ss_child_ids net172 | paste -sd,), net10 $(ss_child_ids net10 | paste -sd,)"
	ping_through $VI_RHOST_IP net172 net10 tokyo us
	ping_through $US_IP net10 net172 us tokyo
	# The same from minigw's side: its second tunnel rekeys its CHILD_SA
	# and the IKE SA it rides.
	old=$(ss_child_ids net10 | awk '$2 == "INSTALLED" { print $1 }')
	mg_ctl gw$N tunnel rekey us >/dev/null || vi_fail "$RUN: ctl tunnel rekey us"
	vi_wait_for 20 ss_rekeyed_child net10 "$old" ||
		vi_fail "$RUN: our rekey of net10 $old: $(vi_swan right --list-sas)"
	old=$(ss_ike_id)
	mg_ctl gw$N tunnel rekey-ike us >/dev/null || vi_fail "$RUN: ctl tunnel rekey-ike us"
	vi_wait_for 20 ss_rekeyed_ike "$old" ||
		vi_fail "$RUN: our IKE rekey of $old: $(vi_swan right --list-sas)"
	vi_log "$RUN: after minigw's rekeys: IKE SA $(ss_ike_id), net10 $(ss_child_ids net10 | paste -sd,)"
	ping_through $VI_RHOST_IP net172 net10 tokyo us
	ping_through $US_IP net10 net172 us tokyo
	# Closing the second tunnel deletes its CHILD_SA only.
	mg_ctl gw$N tunnel down us >/dev/null || vi_fail "$RUN: ctl tunnel down us"
	vi_wait_for 20 ss_only net172 net10 ||
		vi_fail "$RUN: after closing us: $(vi_swan right --list-sas)"
	vi_log "$RUN: us closed: strongSwan keeps IKE SA $(ss_ike_id) with net172 $(ss_child_ids net172 | paste -sd,)"
	ping_through $VI_RHOST_IP net172 net10 tokyo us
}
# One IKE SA, child KEEP installed, no child GONE: ss_only KEEP GONE
ss_only() {
	local l
	l=$(vi_swan right --list-sas 2>/dev/null)
	one_ike && grep -q "^ *$1: .*INSTALLED" <<<"$l" && ! grep -q "^ *$2: .*INSTALLED" <<<"$l"
}

N=0
run() { # NAME VERSION WHO [SHARE]
	local start=none role=initiate share=${4:-false} bad
	RUN=$1
	N=$((N + 1))
	[ "$3" = theirs ] && start=start role=respond
	vi_log "$RUN: IKEv$2, $3 initiate, share_ike: $share"
	ss_conf "$2" $start
	mg_charon_run right || vi_fail "$RUN: charon"
	ip -n "$VI_NS_RIGHT" route replace 192.168.0.0/16 dev ipsec0 src $VI_RIGHT_LAN_GW
	gw_conf "$VI_RUN/gw$N.conf" "$2" $role "$share"
	mg_start gw$N "$VI_RUN/gw$N.conf" || vi_fail "$RUN: minigw start"
	vi_wait_for 30 ss_both_installed ||
		vi_fail "$RUN: strongSwan lacks a CHILD_SA: $(vi_swan right --list-sas)"
	vi_log "$RUN: strongSwan: $(vi_swan right --list-sas | grep -cE "^$VI_CONN: ") IKE SA(s), children $(vi_swan right --list-sas | grep -oE '^ *net[0-9]+: #[0-9]+, reqid [0-9]+, INSTALLED' | tr -s ' ' | tr '\n' ';')"
	ping_through $VI_RHOST_IP net172 net10 tokyo us
	ping_through $US_IP net10 net172 us tokyo
	if [ "$RUN" = ikev1-ours ]; then
		# Started together, our second connection waits for the
		# first's Phase 1 and rides its ISAKMP SA: two fresh ones of
		# one connection make strongSwan take each for the other's
		# reauthentication and delete both 10 s later.
		one_ike || vi_fail "$RUN: strongSwan has two ISAKMP SAs: $(vi_swan right --list-sas)"
		vi_log "$RUN: one ISAKMP SA carries both connections"
		# Closing tokyo, whose ISAKMP SA it is: the SA goes on with
		# us, so strongSwan keeps net10 (deleting an IKEv1 IKE_SA
		# takes its CHILD_SAs with it).
		mg_ctl gw$N tunnel down tokyo >/dev/null || vi_fail "$RUN: ctl tunnel down tokyo"
		vi_wait_for 20 ss_only net10 net172 ||
			vi_fail "$RUN: after closing tokyo: $(vi_swan right --list-sas)"
		vi_log "$RUN: tokyo closed: strongSwan keeps ISAKMP SA $(ss_ike_id) with net10 $(ss_child_ids net10 | paste -sd,)"
		ping_through $US_IP net10 net172 us tokyo
	fi
	case $RUN in ikev2-theirs | ikev2-shared) shared_checks ;; esac
	# Nothing failed or went down but the closes above.
	bad=$(grep -E '^EVENT (DOWN|FAILED) ' "$VI_RUN/gw$N.out" |
		grep -v '^EVENT DOWN .* reason=VPNR_ERR_LOCAL_CLOSE ')
	[ -z "$bad" ] || vi_fail "$RUN: $bad"
	vi_stop gw$N
	vi_stop_charon right
}

run ikev1-ours 1 ours
run ikev1-theirs 1 theirs
run ikev2-ours 2 ours
run ikev2-theirs 2 theirs
run ikev2-shared 2 ours true
vi_pass
