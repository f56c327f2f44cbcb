//go:build unix

package runlock

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockRefusesASecondHolderAndHeldSeesIt(t *testing.T) {
	dir := t.TempDir()
	if Held(dir) {
		t.Fatal("Held on a folder never locked")
	}
	if _, err := os.Stat(filepath.Join(dir, ".lock")); err == nil {
		t.Fatal("Held created the lock file")
	}
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !Held(dir) {
		t.Error("Held is false while the lock is taken")
	}
	// A second Lock opens its own file description, as another process
	// would, so flock refuses it.
	if _, err := Lock(dir); err == nil || !strings.Contains(err.Error(), "pid "+strconv.Itoa(os.Getpid())) {
		t.Errorf("second Lock: %v, want a refusal naming pid %d", err, os.Getpid())
	}
	unlock()
	if Held(dir) {
		t.Error("Held is true after unlock")
	}
	again, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock after unlock: %v", err)
	}
	again()
}
