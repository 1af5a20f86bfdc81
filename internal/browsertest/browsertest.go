// Package browsertest starts headless Chromium for the tests that look at
// the status pages as a person does.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Start starts headless Chromium (Debian's, which .ci/run installs) with
// the flags this machine needs, in the zone tz, for the test's life.
// Without Chromium the test is skipped, unless
// UPGRADEBOT_TEST_BROWSER=required (CI) makes it fail.
func Start(t testing.TB, tz string) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("UPGRADEBOT_TEST_BROWSER") == "required" {
			t.Fatal("chromium is required (UPGRADEBOT_TEST_BROWSER=required) but not installed")
		}
		t.Skip("no chromium on PATH (apt-get install -y chromium)")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Env("TZ=" + tz),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel3)
	return ctx
}
