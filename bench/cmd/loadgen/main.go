// Command loadgen is a closed-loop HTTP/1.1 load generator for loopback
// targets. It prints one JSON object (see loadgen.Result) on stdout.
//
//	loadgen -url http://127.0.0.1:18080/v1/chat/completions -c 50 -duration 10s
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"switchyard/bench/loadgen"
)

func main() {
	var cfg loadgen.Config
	var bodyFile string
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:18080/v1/chat/completions", "target URL (loopback only)")
	flag.IntVar(&cfg.Conns, "c", 50, "concurrent keep-alive connections")
	flag.DurationVar(&cfg.Duration, "duration", 10*time.Second, "measured duration (after -warmup)")
	flag.DurationVar(&cfg.Warmup, "warmup", 0, "load sent before measuring, not recorded")
	flag.Int64Var(&cfg.MaxRequests, "requests", 5_000_000, "hard cap on requests sent (warmup included)")
	flag.BoolVar(&cfg.Stream, "stream", false, `send "stream":true and read each SSE body to data: [DONE]`)
	flag.StringVar(&cfg.Auth, "auth", "", "Authorization header value, e.g. 'Bearer sk-...'")
	flag.StringVar(&bodyFile, "body", "", "file with the request body (default: a ~210-byte chat request)")
	flag.StringVar(&cfg.Method, "method", "POST", "HTTP method")
	flag.StringVar(&cfg.Expect, "expect", "", `substring a 2xx non-stream body must contain (default "choices")`)
	flag.DurationVar(&cfg.Timeout, "timeout", 10*time.Second, "grace for in-flight requests after the end")
	flag.Parse()

	if bodyFile != "" {
		b, err := os.ReadFile(bodyFile)
		if err != nil {
			fail(err)
		}
		cfg.Body = b
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := loadgen.Run(ctx, cfg)
	if err != nil {
		fail(err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(res); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "loadgen:", err)
	os.Exit(2)
}
