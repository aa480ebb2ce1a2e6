//go:build !race

package vpnroute

const raceEnabled = false
