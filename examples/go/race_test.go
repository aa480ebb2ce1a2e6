//go:build race

package vpnroute

// The race detector keeps memory for every goroutine ever started, so
// RSS is not flat under it: the RSS test runs without -race.
const raceEnabled = true
