// Command switchyard runs the Switchyard AI gateway.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	switch os.Args[1] {
	case "serve":
		os.Exit(serve(os.Args[2:]))
	case "restore":
		os.Exit(restoreCmd(os.Args[2:], os.Stdout, os.Stderr))
	case "admin":
		os.Exit(adminCmd(os.Args[2:], os.Getenv, os.Stdout, os.Stderr))
	case "version":
		fmt.Println(version)
	case "-h", "--help", "help":
		usage()
	default:
		usage()
		os.Exit(2)
	}
}

func serve(args []string) int {
	cfg, err := loadConfig(args, os.Getenv)
	if err != nil {
		if err.Error() == "flag: help requested" {
			return 0
		}
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		fmt.Fprintln(os.Stderr, "switchyard: bad --log-level:", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})).With("node", cfg.NodeID)
	if os.Getenv("GOGC") == "" {
		// The request path allocates little that lives long; collecting
		// half as often costs some memory and saves CPU on every request.
		debug.SetGCPercent(200)
	}
	quietHertz()
	log.Info("starting", "version", version, "config", cfg.String())
	n, err := startNode(cfg, nil, log, os.Stdout)
	if err != nil {
		log.Error("start failed", "err", err)
		return 1
	}
	log.Info("serving", "listen", cfg.Listen)
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info("shutting down: draining requests", "signal", s.String())
	case err := <-n.done:
		if err != nil {
			log.Error("server stopped", "err", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.Drain+30*time.Second)
	defer cancel()
	if err := n.stop(ctx); err != nil {
		log.Error("shutdown incomplete", "err", err)
		return 1
	}
	log.Info("stopped cleanly")
	return 0
}
