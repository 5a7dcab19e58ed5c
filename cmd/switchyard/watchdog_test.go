package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"time"
)

// startWatchdog makes a hung test fail readably. Go's own -timeout panic
// prints every goroutine of every in-process gateway (thousands of
// frames) and CI keeps only the tail of the output, where the name of the
// hung test is not. Shortly before the -timeout, the watchdog prints only
// the goroutines that run a test function, last, and exits.
//
// It also bounds http.DefaultClient, which many tests use: a request that
// never gets an answer fails its test after a minute instead of holding
// the binary until the global timeout.
func startWatchdog() {
	http.DefaultClient.Timeout = time.Minute
	f := flag.Lookup("test.timeout")
	if f == nil {
		return
	}
	timeout, ok := f.Value.(flag.Getter).Get().(time.Duration)
	if !ok || timeout <= 0 {
		return
	}
	margin := min(timeout/10, time.Minute)
	time.AfterFunc(timeout-margin, func() {
		buf := make([]byte, 64<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var out bytes.Buffer
		for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
			if bytes.Contains(g, []byte("cmd/switchyard.Test")) {
				out.Write(g)
				out.WriteString("\n\n")
			}
		}
		fmt.Fprintf(os.Stderr, "\nWATCHDOG: the tests were still running %v after start; the goroutines of the running tests:\n\n%s", timeout-margin, out.Bytes())
		os.Exit(2)
	})
}
