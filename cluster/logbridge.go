package cluster

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogBridge sends hashicorp/raft's hclog output to slog. Raft's default
// level is DEBUG and very chatty; the bridge drops everything below its
// level (WARN) before formatting anything.
type hclogBridge struct {
	l     *slog.Logger
	name  string
	level hclog.Level
	args  []any
}

func newHclogBridge(l *slog.Logger, name string) hclog.Logger {
	return &hclogBridge{l: l, name: name, level: hclog.Warn}
}

func slogLevel(l hclog.Level) slog.Level {
	switch {
	case l <= hclog.Debug:
		return slog.LevelDebug
	case l == hclog.Info:
		return slog.LevelInfo
	case l == hclog.Warn:
		return slog.LevelWarn
	default:
		return slog.LevelError
	}
}

func (b *hclogBridge) enabled(l hclog.Level) bool {
	return l >= b.level && b.l.Enabled(context.Background(), slogLevel(l))
}

func (b *hclogBridge) Log(level hclog.Level, msg string, args ...any) {
	if !b.enabled(level) {
		return
	}
	all := make([]any, 0, len(b.args)+len(args)+2)
	all = append(all, "component", b.name)
	all = append(all, b.args...)
	all = append(all, args...)
	b.l.Log(context.Background(), slogLevel(level), msg, all...)
}

func (b *hclogBridge) Trace(msg string, args ...any) { b.Log(hclog.Trace, msg, args...) }
func (b *hclogBridge) Debug(msg string, args ...any) { b.Log(hclog.Debug, msg, args...) }
func (b *hclogBridge) Info(msg string, args ...any)  { b.Log(hclog.Info, msg, args...) }
func (b *hclogBridge) Warn(msg string, args ...any)  { b.Log(hclog.Warn, msg, args...) }
func (b *hclogBridge) Error(msg string, args ...any) { b.Log(hclog.Error, msg, args...) }
func (b *hclogBridge) IsTrace() bool                 { return b.enabled(hclog.Trace) }
func (b *hclogBridge) IsDebug() bool                 { return b.enabled(hclog.Debug) }
func (b *hclogBridge) IsInfo() bool                  { return b.enabled(hclog.Info) }
func (b *hclogBridge) IsWarn() bool                  { return b.enabled(hclog.Warn) }
func (b *hclogBridge) IsError() bool                 { return b.enabled(hclog.Error) }
func (b *hclogBridge) ImpliedArgs() []any            { return b.args }
func (b *hclogBridge) Name() string                  { return b.name }
func (b *hclogBridge) GetLevel() hclog.Level         { return b.level }

// SetLevel is ignored: the level is fixed when the bridge is built, so that
// the bridge can be shared between goroutines without locking.
func (b *hclogBridge) SetLevel(hclog.Level) {}

func (b *hclogBridge) With(args ...any) hclog.Logger {
	c := *b
	c.args = append(append([]any(nil), b.args...), args...)
	return &c
}

func (b *hclogBridge) Named(name string) hclog.Logger {
	c := *b
	if c.name != "" {
		name = c.name + "." + name
	}
	c.name = name
	return &c
}

func (b *hclogBridge) ResetNamed(name string) hclog.Logger {
	c := *b
	c.name = name
	return &c
}

func (b *hclogBridge) StandardLogger(*hclog.StandardLoggerOptions) *log.Logger {
	return slog.NewLogLogger(b.l.With("component", b.name).Handler(), slog.LevelWarn)
}

func (b *hclogBridge) StandardWriter(o *hclog.StandardLoggerOptions) io.Writer {
	return b.StandardLogger(o).Writer()
}

// natsLogger sends nats-server's warnings and errors to slog; notices,
// debug and trace output are dropped.
type natsLogger struct{ l *slog.Logger }

func (n natsLogger) Noticef(string, ...any) {}
func (n natsLogger) Debugf(string, ...any)  {}
func (n natsLogger) Tracef(string, ...any)  {}
func (n natsLogger) Warnf(format string, v ...any) {
	n.l.Warn(fmt.Sprintf(format, v...), "component", "nats")
}
func (n natsLogger) Errorf(format string, v ...any) {
	n.l.Error(fmt.Sprintf(format, v...), "component", "nats")
}
func (n natsLogger) Fatalf(format string, v ...any) {
	n.l.Error(fmt.Sprintf(format, v...), "component", "nats", "fatal", true)
}
