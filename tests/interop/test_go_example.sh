#!/bin/bash
# The Go binding's example (examples/go/cmd/vpnr-example: NetDriver on
# Go's net package, built-in ESP) against strongSwan and BIRD; the
# checks are in lib/example.sh.
set -uo pipefail
. "$(dirname "$0")/lib/common.sh"
. "$(dirname "$0")/lib/example.sh"
vi_init go_example bird birdc
bin=$VPNR_BUILD_DIR/examples/go/vpnr-go-example
[ -x "$bin" ] || vi_skip "go binding not built ($bin)"
ex_run - "$bin"
vi_pass
