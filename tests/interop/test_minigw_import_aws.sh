#!/bin/bash
# Interop, import round trip (issue 11): an AWS "Generic" configuration
# sample, written here for this run's namespaces (customer gateway
# 203.0.113.1, the two VGW endpoints 198.51.100.2 and 192.0.2.2 behind
# the WAN box of lib/wan.sh, inside /30s in 169.254/16, random PSKs that
# obey AWS-PSK-1, private ASNs, a 4-byte one on Amazon's side of the
# IKEv2 sample as AWS-ASN-1 allows), goes through `minigw import aws-generic`
# and `minigw --check`.  The two cloud gateways (strongSwan
# kernel-libipsec + BIRD, as in test_minigw_ha.sh) are configured from
# the SAME file, read back by aws_parse below (not by minigw's importer):
# outside addresses, PSKs, IKE version, proposals, lifetimes, DPD, inside
# /30s, ASNs, hold time.  minigw then runs the imported file with two
# lines added by hand, as its own comment asks (the networks to
# advertise, and a control socket of this run).  Asserted, for an IKEv2
# sample (newer layout, no indent) and an IKEv1 sample (older layout,
# indented, Main Mode; minigw must take ike_version 1 from it): both IKE
# SAs (of the sample's version) and both
# CHILD_SAs at strongSwan, both BGP sessions Established at BIRD with
# our LAN learned, both neighbours Established with a prefix in `minigw
# ctl show bgp summary`, the cloud's 172.16.0.0/16 in the kernel as BGP
# multipath over both tunnels, a ping and a 256 KiB TCP transfer from
# the host behind minigw to the host behind the cloud.  Exit 77 without
# root, strongSwan, BIRD or minigw.
set -u
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/minigw.sh"
. "$(dirname "$0")/lib/wan.sh"

VI_MAX_SECONDS=200
VI_PROG_TIMEOUT=200
mg_init minigw_import_aws nft ping
wan_setup_netns || vi_fail "namespaces"
wan_second_cloud "$WAN_HA_R2" || vi_fail "second cloud gateway"

# A PSK as AWS makes them: 32 of [A-Za-z0-9._], not starting with "0".
psk() { printf 'k%s' "$(tr -dc 'A-Za-z0-9._' </dev/urandom | head -c 31)"; }

# sample_tunnel N IND PSK VGW_OUT NET VGW_ASN CGW_ASN V IKE_ENC IKE_AUTH
#   IKE_DH ESP_ENC ESP_AUTH PFS: one "IPsec Tunnel #N" section, bullets
# indented by IND; NET is the inside /30's first three octets and last
# network octet ("169.254.44 8": VGW .9, customer .10, AWS-IN-3).
# Lifetimes: $life1 / $life2 of the caller.
sample_tunnel() {
	local n=$1 i=$2 net=${5% *} o=${5#* }
	cat <<EOF
IPsec Tunnel #$n
================================================
#1: Internet Key Exchange Configuration

Configure the IKE SA as follows:
$i- IKE version              : IKEv$8
$i- Authentication Method    : Pre-Shared Key
$i- Pre-Shared Key           : $3
$i- Authentication Algorithm : ${10}
$i- Encryption Algorithm     : $9
$i- Lifetime                 : $life1 seconds
$([ "$8" = 1 ] && echo "$i- Phase 1 Negotiation Mode : main")
$i- Diffie-Hellman           : Group ${11}

#2: IPsec Configuration

$i- Protocol                 : esp
$i- Authentication Algorithm : ${13}
$i- Encryption Algorithm     : ${12}
$i- Lifetime                 : $life2 seconds
$i- Mode                     : tunnel
$i- Perfect Forward Secrecy  : Diffie-Hellman Group ${14}

IPsec Dead Peer Detection (DPD) will be enabled on the AWS Endpoint.
$i- DPD Interval             : 10
$i- DPD Retries              : 3
$i- TCP MSS Adjustment       : 1382 bytes

#3: Tunnel Interface Configuration

Outside IP Addresses:
$i- Customer Gateway:        : $VI_LEFT_WAN
$i- Virtual Private Gateway  : $4

Inside IP Addresses
$i- Customer Gateway         : $net.$((o + 2))/30
$i- Virtual Private Gateway  : $net.$((o + 1))/30

$i- Tunnel interface MTU     : 1422 bytes

#4: Border Gateway Protocol (BGP) Configuration:

$i- Customer Gateway ASN        : $7
$i- Virtual Private Gateway ASN : $6
$i- Neighbor IP Address         : $net.$((o + 1))
$i- Neighbor Hold Time          : 30

EOF
}

# aws_sample V FILE: the file AWS would hand out for IKEv1 (its defaults
# and AWS-IKE-7's minimum suite; 2020 layout, indented) or IKEv2 (AES-256,
# SHA2-256, group 14, GCM for ESP, shorter lifetimes, a 4-byte VGW ASN;
# newer layout, no indent; tests/fuzz/corpus/fuzz_minigw_import/
# aws_generic_ikev2_bgp.txt is one with fixed keys).
aws_sample() {
	local life1=28800 life2=3600
	[ "$1" = 2 ] && life1=14400 life2=1800
	{
		printf 'Amazon Web Services\nVirtual Private Cloud\n\n'
		printf 'VPN Connection Configuration\n'
		printf 'Your VPN Connection ID           : vpn-0000000%s\n\n' "$1"
		if [ "$1" = 1 ]; then
			sample_tunnel 1 "  " "$(psk)" $VI_RIGHT_WAN "169.254.44 8" 64620 65020 1 \
				aes-128-cbc sha1 2 aes-128-cbc hmac-sha1-96 2
			sample_tunnel 2 "  " "$(psk)" $WAN_R2_WAN "169.254.45 12" 64620 65020 1 \
				aes-128-cbc sha1 2 aes-128-cbc hmac-sha1-96 2
		else
			sample_tunnel 1 "" "$(psk)" $VI_RIGHT_WAN "169.254.21 12" 4200000100 65030 2 \
				aes-256-cbc sha2-256 14 aes-256-gcm-16 hmac-sha2-256-128 14
			sample_tunnel 2 "" "$(psk)" $WAN_R2_WAN "169.254.22 12" 4200000100 65030 2 \
				aes-256-cbc sha2-256 14 aes-256-gcm-16 hmac-sha2-256-128 14
		fi
	} >"$2"
}

# aws_parse FILE: "N key value" for every value of tunnel N the cloud
# side needs, read from the sample's "- Key : value" bullets.
aws_parse() {
	awk '
	function out(k, v) { print t, k, v; got[t, k] = 1 }
	/IPsec Tunnel #[0-9]/ { t = $0; sub(/.*#/, "", t); t += 0; sec = 0; where = ""; next }
	/^ *#[1-4]:/ { sec = substr($0, index($0, "#") + 1, 1); where = ""; next }
	/Outside IP Addresses/ { where = "out" }
	/Inside IP Addresses/ { where = "in" }
	t > 0 && /^ *- / && (i = index($0, " : ")) > 0 {
		k = substr($0, 1, i - 1); v = substr($0, i + 3)
		sub(/^ *- */, "", k); sub(/[ :]+$/, "", k); gsub(/^ +| +$/, "", v)
		n = split(v, w, " ")
		if (k == "IKE version") out("version", substr(v, length(v)))
		else if (k == "Pre-Shared Key") out("psk", v)
		else if (k == "Encryption Algorithm") out(sec == 1 ? "ike_enc" : "esp_enc", v)
		else if (k == "Authentication Algorithm") out(sec == 1 ? "ike_auth" : "esp_auth", v)
		else if (k == "Diffie-Hellman") out("ike_dh", w[n])
		else if (k == "Perfect Forward Secrecy") out("esp_dh", w[n])
		else if (k == "Lifetime") out(sec == 1 ? "ike_life" : "esp_life", w[1])
		else if (k == "DPD Interval") out("dpd", v)
		else if (k == "DPD Retries") out("dpd_retries", v)
		else if (k == "Customer Gateway" && where != "") out("cgw_" where, v)
		else if (k == "Virtual Private Gateway" && where != "") out("vgw_" where, v)
		else if (k == "Customer Gateway ASN") out("cgw_asn", v)
		else if (k == "Virtual Private Gateway ASN") out("vgw_asn", v)
		else if (k == "Neighbor Hold Time") out("hold", v)
	}' "$1"
}

# strongSwan's names for the sample's algorithms (our own mapping, not
# the importer's): ss_alg enc|auth|dh VALUE.
ss_alg() {
	local a
	case $1 in
	enc) case $2 in
		aes-128-cbc) echo aes128 ;;
		aes-256-cbc) echo aes256 ;;
		aes-128-gcm-16) echo aes128gcm16 ;;
		aes-256-gcm-16) echo aes256gcm16 ;;
		*) return 1 ;;
		esac ;;
	auth) # sha1, hmac-sha1-96, sha2-256, hmac-sha2-256-128 ...
		a=${2#hmac-}
		a=${a/sha2-/sha}
		echo "${a%-*}" ;;
	dh) case $2 in
		2) echo modp1024 ;;
		14) echo modp2048 ;;
		15) echo modp3072 ;;
		19) echo ecp256 ;;
		20) echo ecp384 ;;
		*) return 1 ;;
		esac ;;
	esac
}

# ss_proposal N ike|esp: tunnel N's proposal in strongSwan's syntax.
ss_proposal() {
	local n=$1 p=$2 enc auth dh
	enc=$(ss_alg enc "${S[$n.${p}_enc]}") && auth=$(ss_alg auth "${S[$n.${p}_auth]}") &&
		dh=$(ss_alg dh "${S[$n.${p}_dh]}") || return 1
	case $enc in
	*gcm*) [ "$p" = ike ] && echo "$enc-prf$auth-$dh" || echo "$enc-$dh" ;;
	*) echo "$enc-$auth-$dh" ;;
	esac
}

# cloud_gw N: the gateway whose WAN address is tunnel N's VGW outside
# address: charon (responder, the tunnel's PSK, version, proposals,
# lifetimes and DPD), the VGW inside address on its ipsec0, the left LAN
# into it, and BIRD (VGW ASN and address, the customer's as neighbour,
# the sample's hold time) sending the cloud's 172.16.0.0/16.
cloud_gw() {
	local n=$1 side ns ike esp extra
	case ${S[$n.vgw_out]} in
	"$VI_RIGHT_WAN") side=right ;;
	"$WAN_R2_WAN") side=$WAN_HA_R2 ;;
	*) vi_log "tunnel $n: VGW ${S[$n.vgw_out]} is none of this run's gateways"; return 1 ;;
	esac
	SIDE[$n]=$side
	ns=$(vi_ns "$side")
	ike=$(ss_proposal "$n" ike) && esp=$(ss_proposal "$n" esp) ||
		{ vi_log "tunnel $n: an algorithm the test does not map"; return 1; }
	if [ "${S[$n.version]}" = 1 ]; then
		extra="reauth_time = ${S[$n.ike_life]}s
        dpd_timeout = $((${S[$n.dpd]} * ${S[$n.dpd_retries]}))s"
	else
		extra="rekey_time = ${S[$n.ike_life]}s"
	fi
	vi_log "gateway $n ($side): IKEv${S[$n.version]} $ike / $esp, $extra"
	MG_SS_VERSION=${S[$n.version]} MG_SS_PSK=${S[$n.psk]} MG_SS_DPD=${S[$n.dpd]}s \
		MG_SS_CONN_EXTRA=$extra mg_charon "$side" "${S[$n.vgw_out]}" "${S[$n.cgw_out]}" \
		"$ike" "$esp" "rekey_time = ${S[$n.esp_life]}s" || return 1
	ip -n "$ns" addr add "${S[$n.vgw_in]}" dev ipsec0 &&
		ip -n "$ns" route add $VI_LEFT_LAN dev ipsec0 || return 1
	mg_bird_conf "$VI_RUN/$side/bird.conf" "${S[$n.vgw_in]%/*}" "${S[$n.vgw_asn]}" \
		"${S[$n.vgw_in]%/*}" "${S[$n.cgw_in]%/*}" "${S[$n.cgw_asn]}" 1 $VI_RIGHT_LAN \
		"${S[$n.hold]}"
	mg_bird "$side" "$VI_RUN/$side/bird.conf"
}

# tun_if N: minigw's interface holding tunnel N's customer inside address.
tun_if() { ip -n "$VI_NS_LEFT" -o -4 addr show to "${S[$1.cgw_in]%/*}/32" | awk '{ print $2; exit }'; }

sas_up() {
	local n v
	for n in 1 2; do
		v=${S[$n.version]}
		vi_swan "${SIDE[$n]}" --list-sas 2>/dev/null | grep -q "^$VI_CONN: .*ESTABLISHED, IKEv$v," &&
			vi_swan_child_installed "${SIDE[$n]}" || return 1
	done
}
bgp_up() {
	local n
	for n in 1 2; do
		mg_bird_established "${SIDE[$n]}" && mg_bird_has "${SIDE[$n]}" $VI_LEFT_LAN || return 1
	done
}
# both neighbours Established (a prefix count in the last column)
summary_ok() {
	local n
	mg_ctl gw show bgp summary >"$VI_RUN/summary.txt" 2>&1 || return 1
	for n in 1 2; do
		awk -v a="${S[$n.vgw_in]%/*}" -v as="${S[$n.vgw_asn]}" \
			'$1 == a && $2 == as && $NF ~ /^[1-9][0-9]*$/ { f = 1 } END { exit !f }' \
			"$VI_RUN/summary.txt" || return 1
	done
}

# round_trip V: the whole trip for an IKEvV sample, then everything of
# it stopped (the namespaces stay for the next).
round_trip() {
	local v=$1 f=$VI_RUN/aws-v$1.txt conf=$VI_RUN/imported-v$1.yaml n k rest i1 i2 t0
	t0=$(wan_now)
	aws_sample "$v" "$f"
	declare -gA S=() SIDE=()
	while read -r n k rest; do S[$n.$k]=$rest; done < <(aws_parse "$f")
	for n in 1 2; do
		for k in version psk ike_enc ike_auth ike_dh ike_life esp_enc esp_auth esp_dh \
			esp_life dpd dpd_retries cgw_out vgw_out cgw_in vgw_in cgw_asn vgw_asn hold; do
			[ -n "${S[$n.$k]:-}" ] || vi_fail "IKEv$v sample: no $k for tunnel $n"
		done
	done

	"$MINIGW" import aws-generic "$f" >"$conf" 2>"$VI_RUN/import-v$v.err" ||
		vi_fail "IKEv$v: import refused: $(cat "$VI_RUN/import-v$v.err")"
	"$MINIGW" -c "$conf" --check >"$VI_RUN/check-v$v.out" 2>&1 ||
		vi_fail "IKEv$v: --check refuses the import: $(cat "$VI_RUN/check-v$v.out")"
	vi_log "IKEv$v: imported, --check: $(cat "$VI_RUN/check-v$v.out")"
	# What the imported file leaves to the user: the networks to send
	# (its comment says so) and, here, a control socket of this run.
	awk -v sock="$VI_RUN/gw.sock" -v net="$VI_LEFT_LAN" '
		/^  # networks:/ { print "  networks: [" net "]"; next }
		{ print }
		/^global:$/ { print "  control_socket: " sock }' "$conf" >"$conf.run"
	[ "$(grep -c -e '^  networks: ' -e '^  control_socket: ' "$conf.run")" = 2 ] ||
		vi_fail "IKEv$v: the import has no global: or no networks comment: $(cat "$conf")"

	for n in 1 2; do
		cloud_gw $n || vi_fail "IKEv$v: cloud gateway $n"
	done
	mg_start gw "$conf.run" || vi_fail "IKEv$v: minigw start"

	vi_wait_for 30 sas_up || vi_fail "IKEv$v: not both IKE SAs (IKEv$v) and CHILD_SAs at strongSwan"
	vi_wait_for 60 bgp_up || vi_fail "IKEv$v: not both BGP sessions Established with $VI_LEFT_LAN at BIRD"
	vi_wait_for 10 summary_ok || vi_fail "IKEv$v: minigw's bgp summary: $(cat "$VI_RUN/summary.txt")"
	i1=$(tun_if 1) && i2=$(tun_if 2) && [ -n "$i1" ] && [ -n "$i2" ] && [ "$i1" != "$i2" ] ||
		vi_fail "IKEv$v: no two interfaces with the inside addresses: $(ip -n "$VI_NS_LEFT" -o -4 addr)"
	vi_wait_for 20 mg_ecmp "$i1" "$i2" ||
		vi_fail "IKEv$v: no BGP multipath over $i1 and $i2: $(cat "$VI_RUN/route.txt")"
	vi_wait_for 10 wan_ping || vi_fail "IKEv$v: no ping lhost -> rhost"
	mg_tcp_check "$VI_NS_LHOST" "$VI_NS_RHOST" $VI_RHOST_IP $((5000 + v)) 262144 ||
		vi_fail "IKEv$v: TCP transfer lhost -> rhost"
	vi_log "IKEv$v: up in $(wan_since "$t0")s; IKE $(vi_swan_ike_algs right) ESP $(vi_swan_esp_algs right);" \
		"route: $(tr -s '\n\t ' ' ' <"$VI_RUN/route.txt")"

	vi_stop gw || vi_fail "IKEv$v: minigw exit status $?"
	for n in 1 2; do
		mg_bird_stop "${SIDE[$n]}" && vi_stop_charon "${SIDE[$n]}" &&
			vi_wait_for 10 wan_no_ipsec0 "${SIDE[$n]}" || vi_fail "IKEv$v: stopping gateway $n"
	done
}

round_trip 2
round_trip 1
vi_pass
