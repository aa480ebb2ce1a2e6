//go:build asan

package vpnroute

// #include <sanitizer/lsan_interface.h>
import "C"

// LeakCheck runs LeakSanitizer now (go -asan builds only: a Go program
// exits without the atexit hook that would run it) and returns non-zero
// if the C side leaked.
func LeakCheck() int { return int(C.__lsan_do_recoverable_leak_check()) }
