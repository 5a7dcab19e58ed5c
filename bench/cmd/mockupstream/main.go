// Command mockupstream runs the bench's fake OpenAI upstream on a loopback
// port: POST /v1/chat/completions (plain or SSE), POST /v1/embeddings,
// GET /v1/models and GET /_stats.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"

	"github.com/cloudwego/hertz/pkg/common/hlog"

	"switchyard/bench/mockupstream"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:18080", "loopback host:port to listen on")
	latency := flag.Duration("latency", 0, "fixed delay before every answer")
	chunkDelay := flag.Duration("chunk-delay", 0, "delay between two stream chunks")
	chunks := flag.Int("chunks", 20, "content chunks per streamed answer")
	flag.Parse()

	if err := checkLoopback(*listen); err != nil {
		fmt.Fprintln(os.Stderr, "mockupstream:", err)
		os.Exit(2)
	}
	hlog.SetLevel(hlog.LevelWarn)
	m := mockupstream.New(mockupstream.Config{Latency: *latency, ChunkDelay: *chunkDelay, Chunks: *chunks})
	h := m.NewServer(*listen)
	fmt.Fprintf(os.Stderr, "mockupstream listening on %s (latency %v, %d chunks, chunk delay %v)\n",
		*listen, *latency, *chunks, *chunkDelay)
	h.Spin()
}

func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("refusing to listen on non-loopback %q", addr)
	}
	return nil
}
