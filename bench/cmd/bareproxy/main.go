// Command bareproxy runs the bench's bare Hertz reverse proxy: it forwards
// /v1/* to -upstream untouched and relays SSE streams with a flush per
// upstream read. It is the throughput limit of our HTTP stack, measured
// next to Switchyard in the same run.
package main

import (
	"flag"
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof"
	"net/url"
	"os"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"switchyard/bench/bareproxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18081", "loopback host:port to listen on")
	upstream := flag.String("upstream", "http://127.0.0.1:18080", "loopback upstream base URL (the mock)")
	pprofAddr := flag.String("pprof", "", "if set, serve net/http/pprof on this loopback host:port")
	flag.Parse()

	addrs := []string{*listen, hostOf(*upstream)}
	if *pprofAddr != "" {
		addrs = append(addrs, *pprofAddr)
	}
	for _, a := range addrs {
		if !loopback(a) {
			fmt.Fprintf(os.Stderr, "bareproxy: refusing non-loopback address %q\n", a)
			os.Exit(2)
		}
	}
	hlog.SetLevel(hlog.LevelWarn)
	p, err := bareproxy.New(*upstream)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bareproxy:", err)
		os.Exit(2)
	}
	if *pprofAddr != "" {
		go func() {
			// DefaultServeMux carries the net/http/pprof handlers.
			fmt.Fprintln(os.Stderr, "bareproxy pprof:", http.ListenAndServe(*pprofAddr, nil))
		}()
	}
	fmt.Fprintf(os.Stderr, "bareproxy listening on %s -> %s\n", *listen, *upstream)
	p.NewServer(*listen).Spin()
}

func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
