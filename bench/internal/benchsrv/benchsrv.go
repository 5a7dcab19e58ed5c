// Package benchsrv builds the Hertz servers of the bench processes (mock
// upstream, bare proxy) with the same settings as the gateway's server, so
// that the comparison measures the handlers, not server options.
package benchsrv

import (
	"time"

	"github.com/cloudwego/hertz/pkg/app/server"
	"github.com/cloudwego/hertz/pkg/common/config"
)

// New returns a Hertz server on addr (host:port); extra options are
// appended to the shared defaults.
func New(addr string, opts ...config.Option) *server.Hertz {
	base := []config.Option{
		server.WithHostPorts(addr),
		server.WithDisablePrintRoute(true),
		server.WithSenseClientDisconnection(true),
		server.WithMaxRequestBodySize(64 << 20),
		server.WithExitWaitTime(time.Second),
	}
	return server.New(append(base, opts...)...)
}
