package vpnroute

import (
	"fmt"
	"os"
	"testing"
)

// Under -asan, LeakSanitizer runs after every test: a C allocation the
// binding or the library forgot fails the run.
func TestMain(m *testing.M) {
	rc := m.Run()
	if LeakCheck() != 0 {
		fmt.Fprintln(os.Stderr, "LeakSanitizer found leaks")
		rc = 1
	}
	os.Exit(rc)
}
