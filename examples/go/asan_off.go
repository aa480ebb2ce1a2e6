//go:build !asan

package vpnroute

// LeakCheck is a no-op without -asan (see asan_on.go).
func LeakCheck() int { return 0 }
