package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"
)

type idleInfo struct {
	Target  string  `json:"target"`
	RSSMB   float64 `json:"rss_mb"`
	HWMMB   float64 `json:"peak_rss_mb,omitempty"`
	Threads int     `json:"threads"`
}

type report struct {
	opts              options
	scenarios         []scenario
	targets           []string
	runs              []runRec
	profiles          []profile
	idle, final       []idleInfo
	started, finished time.Time
	root              string
	backgroundPct     float64
}

// summary is the median over rounds of one scenario × target.
type summary struct {
	Scenario, Target        string
	RPS, P50, P99, CPU, Mok float64
	PeakRSS                 float64
	Non2xx, TErr, Bad       uint64
	UpMin, UpMax            float64
	N                       int
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *report) summarize() map[[2]string]*summary {
	out := map[[2]string]*summary{}
	vals := map[[2]string]map[string][]float64{}
	for _, x := range r.runs {
		k := [2]string{x.Scenario, x.Target}
		s := out[k]
		if s == nil {
			s = &summary{Scenario: x.Scenario, Target: x.Target, UpMin: math.Inf(1), UpMax: math.Inf(-1)}
			out[k] = s
			vals[k] = map[string][]float64{}
		}
		v := vals[k]
		v["rps"] = append(v["rps"], x.Result.RPS)
		v["p50"] = append(v["p50"], x.Result.LatencyMS.P50)
		v["p99"] = append(v["p99"], x.Result.LatencyMS.P99)
		v["cpu"] = append(v["cpu"], x.CPUUsPerReq)
		v["mock"] = append(v["mock"], x.MockCPUUsPerReq)
		s.PeakRSS = math.Max(s.PeakRSS, x.HWMMB)
		s.Non2xx += x.Result.Non2xx
		s.TErr += x.Result.TransportErrors
		s.Bad += x.Result.BadBody
		s.UpMin = math.Min(s.UpMin, x.UpstreamRatio)
		s.UpMax = math.Max(s.UpMax, x.UpstreamRatio)
		s.N++
	}
	for k, s := range out {
		v := vals[k]
		s.RPS, s.P50, s.P99, s.CPU, s.Mok = median(v["rps"]), median(v["p50"]), median(v["p99"]), median(v["cpu"]), median(v["mock"])
	}
	return out
}

func gitInfo(root string) (short string, dirty bool) {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	short = strings.TrimSpace(string(out))
	if err != nil || short == "" {
		short = "nocommit"
	}
	st, err := exec.Command("git", "-C", root, "status", "--porcelain", "--", ".", ":!bench/results").Output()
	dirty = err == nil && len(strings.TrimSpace(string(st))) > 0
	return short, dirty
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func goVersion() string {
	out, err := exec.Command("go", "version").Output()
	if err != nil {
		return runtime.Version()
	}
	return strings.TrimSpace(string(out))
}

func f1(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.1f", v)
}

func f2(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f", v)
}

func signed2(v float64) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%+.2f", v)
}

func passFail(ok bool) string {
	if ok {
		return "**PASS**"
	}
	return "**FAIL**"
}

func (r *report) write() (mdPath, jsonPath string, err error) {
	short, dirty := gitInfo(r.root)
	if err := os.MkdirAll(r.opts.outDir, 0o755); err != nil {
		return "", "", err
	}
	stem := r.started.Format("2006-01-02") + "-" + short
	if _, err := os.Stat(filepath.Join(r.opts.outDir, stem+".md")); err == nil {
		stem += "-" + r.started.Format("150405")
	}
	mdPath = filepath.Join(r.opts.outDir, stem+".md")
	jsonPath = filepath.Join(r.opts.outDir, stem+".json")

	sum := r.summarize()
	get := func(sc, t string) *summary { return sum[[2]string{sc, t}] }
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }

	commit := short
	if dirty {
		commit += " (with uncommitted changes)"
	}
	w("# Switchyard benchmark — %s, commit %s\n\n", r.started.Format("2006-01-02 15:04 MST"), commit)
	w("- Machine: %d CPUs (%s), kernel %s, %s\n", runtime.NumCPU(), cpuModel(), strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")), goVersion())
	w("- Run: %s → %s (%v)\n", r.started.Format("15:04:05"), r.finished.Format("15:04:05"), r.finished.Sub(r.started).Round(time.Second))
	w("- Protocol: closed-loop HTTP/1.1 keep-alive load (`bench/cmd/loadgen`), %v warmup + %v measured per run, %d interleaved rounds "+
		"(every round runs every scenario on every target, target order rotated each round); numbers are medians over rounds. "+
		"Mock upstream: fixed ~570-byte chat.completion, or %d content chunks + usage chunk + `[DONE]` for streams; latency %v, chunk delay %v. "+
		"Load generator, mock and the target all share the same %d cores.\n",
		r.opts.warmup, r.opts.duration, r.opts.rounds, r.opts.chunks, r.opts.latency, r.opts.chunkDelay, runtime.NumCPU())
	maxOther := 0.0
	for _, x := range r.runs {
		maxOther = math.Max(maxOther, x.OtherCPUPct)
	}
	retried := 0
	for _, x := range r.runs {
		if x.Attempts > 1 {
			retried++
		}
	}
	w("- Background load: %.0f%% of the machine was busy with other processes just before the runs; during the kept runs, other processes used up to %.0f%% (column `other CPU %%`; "+
		"%d of %d runs were repeated because it exceeded %.0f%%, keeping the quietest of up to %d attempts).",
		r.backgroundPct, maxOther, retried, len(r.runs), r.opts.noisyPct, 1+r.opts.noisyRetries)
	if maxOther > r.opts.noisyPct {
		w(" **The machine was not quiet: absolute numbers from runs with high `other CPU %%` are depressed; prefer ratios within a round.**")
	}
	w("\n")
	w("- Targets: (a) `direct` = the mock itself; (b) `bareproxy` = bare Hertz server + Hertz client (standard dialer) that only forwards; " +
		"(c) `switchyard` = the gateway with auth, billing and logging on (defaults).\n")
	w("- CPU µs/req = target process utime+stime over the run ÷ requests sent (for `direct` that is the mock; for (b) and (c) the proxy process only). " +
		"Peak RSS = the process's VmHWM after the run (a high-water mark since start).\n\n")

	w("## Results (median of %d rounds)\n\n", r.opts.rounds)
	w("| scenario | target | req/s | × direct | p50 ms | p99 ms | added p50 / p99 vs direct (ms) | CPU µs/req | peak RSS MB | (c)/(b) req/s |\n")
	w("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, sc := range r.scenarios {
		d := get(sc.Name, tDirect)
		bp := get(sc.Name, tBare)
		for _, t := range r.targets {
			s := get(sc.Name, t)
			if s == nil {
				continue
			}
			xd, added, ratio := "—", "—", ""
			if d != nil && t != tDirect {
				xd = f2(s.RPS / d.RPS)
				added = signed2(s.P50-d.P50) + " / " + signed2(s.P99-d.P99)
			}
			if t == tSwitchyard && bp != nil {
				ratio = "**" + f2(s.RPS/bp.RPS) + "**"
			}
			w("| %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s |\n", sc.Name, t, s.RPS, xd, f2(s.P50), f2(s.P99), added, f1(s.CPU), f1(s.PeakRSS), ratio)
		}
	}

	w("\n## Acceptance checks\n\n")
	if !contains(r.targets, tSwitchyard) {
		w("Switchyard was not part of this run (`-targets %s`), so the (c)/(b) and added-latency targets are not measured here.\n", r.opts.targets)
	} else {
		for _, sc := range r.scenarios {
			c, bp := get(sc.Name, tSwitchyard), get(sc.Name, tBare)
			if c != nil && bp != nil {
				ratio := c.RPS / bp.RPS
				w("- %s: (c)/(b) requests/s = %.2f (target ≥ 0.70): %s\n", sc.Name, ratio, passFail(ratio >= 0.7))
			}
		}
		for _, sc := range r.scenarios {
			c, d := get(sc.Name, tSwitchyard), get(sc.Name, tDirect)
			if sc.Conns == 8 && !sc.Stream && c != nil && d != nil {
				add := c.P99 - d.P99
				w("- %s: added p99 vs direct = %.2f ms (target ≤ 2 ms): %s\n", sc.Name, add, passFail(add <= 2))
			}
		}
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, x := range r.runs {
			if x.Target == tSwitchyard {
				lo, hi = math.Min(lo, x.UpstreamRatio), math.Max(hi, x.UpstreamRatio)
			}
		}
		w("- upstream requests ÷ client requests, every Switchyard run: min %.4f, max %.4f (must be exactly 1): %s\n", lo, hi, passFail(lo == 1 && hi == 1))
	}
	w("\nErrors by target (all rounds, non-2xx / transport / bad body):")
	for _, t := range r.targets {
		var n, te, bb uint64
		for _, x := range r.runs {
			if x.Target == t {
				n, te, bb = n+x.Result.Non2xx, te+x.Result.TransportErrors, bb+x.Result.BadBody
			}
		}
		w(" %s %d/%d/%d;", t, n, te, bb)
	}
	w("\n\n## Processes\n\n| target | process | RSS after start MB | threads after start | RSS at end MB | peak RSS (VmHWM) MB | threads at end |\n|---|---|--:|--:|--:|--:|--:|\n")
	for i, id := range r.idle {
		_ = i
		fin := idleInfo{}
		for _, f := range r.final {
			if f.Target == id.Target {
				fin = f
			}
		}
		pname := id.Target
		if id.Target == tDirect {
			pname = "mockupstream"
		}
		w("| %s | %s | %s | %d | %s | %s | %d |\n", id.Target, pname, f1(id.RSSMB), id.Threads, f1(fin.RSSMB), f1(fin.HWMMB), fin.Threads)
	}

	w("\n## All runs\n\n| round | scenario | target | req/s | p50 | p90 | p99 | max ms | CPU µs/req | mock µs/req | loadgen µs/req | machine busy %% | other CPU %% | errors n/t/b | upstream ÷ client | events/stream |\n")
	w("|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|--:|--:|\n")
	for _, x := range r.runs {
		l := x.Result.LatencyMS
		ev := "—"
		if x.Result.Stream {
			ev = f2(x.Result.EventsPerStream)
		}
		w("| %d | %s | %s | %.0f | %s | %s | %s | %s | %s | %s | %s | %.0f | %.0f | %d/%d/%d | %.4f | %s |\n",
			x.Round, x.Scenario, x.Target, x.Result.RPS, f2(l.P50), f2(l.P90), f2(l.P99), f2(l.Max),
			f1(x.CPUUsPerReq), f1(x.MockCPUUsPerReq), f1(x.ClientCPUUs), x.MachineBusyPct, x.OtherCPUPct,
			x.Result.Non2xx, x.Result.TransportErrors, x.Result.BadBody, x.UpstreamRatio, ev)
		if x.Result.FirstError != "" {
			w("| | | first error: `%s` ||||||||||||||\n", strings.ReplaceAll(x.Result.FirstError, "|", "\\|"))
		}
	}

	if len(r.profiles) > 0 {
		w("\n## CPU profiles (extra c50 run, not part of the medians)\n")
		for i := range r.profiles {
			p := &r.profiles[i]
			w("\n### %s\n\n", p.Target)
			if p.Err != "" {
				w("Profile failed: `%s`\n", p.Err)
				continue
			}
			dst := filepath.Join(r.opts.outDir, stem+"-"+p.Target+".cpu.pprof")
			if data, err := os.ReadFile(p.File); err == nil && os.WriteFile(dst, data, 0o644) == nil {
				p.File = dst
				w("During this run: %.0f req/s, p99 %.2f ms. Profile saved as `%s`; top 30 by flat time (`go tool pprof -top`):\n\n", p.Run.RPS, p.Run.LatencyMS.P99, filepath.Base(dst))
			}
			w("```\n%s```\n", p.Top)
			if p.TopCum != "" {
				w("\nSame profile by cumulative time (`-top -cum`), to see which layer the time is spent under:\n\n```\n%s```\n", p.TopCum)
			}
		}
	}
	w("\n## Reading the numbers\n\n" +
		"- Absolute req/s on a 2-core box shared by the load generator, the mock and the target are pessimistic and noisy (±30%% between runs); compare ratios and CPU µs/req from the same run.\n" +
		"- `× direct` and `(c)/(b)` are ratios of median req/s. `added p50 / p99` subtract the direct target's median percentile.\n" +
		"- `upstream ÷ client` is the mock's request counter delta over the requests the load generator sent (warmup included); 1 means no retries and no lost requests.\n" +
		"- `machine busy %%` is the whole machine during the run; near 100 means the box was CPU-bound, so req/s is limited by CPU per request of all three processes together. `other CPU %%` is the part of it used by processes outside the benchmark (builds, tests): runs where it is high are not comparable.\n")

	if err := os.WriteFile(mdPath, []byte(b.String()), 0o644); err != nil {
		return "", "", err
	}
	raw := map[string]any{
		"started": r.started, "finished": r.finished, "commit": short, "dirty": dirty,
		"nproc": runtime.NumCPU(), "go": goVersion(),
		"options": map[string]any{
			"duration": r.opts.duration.String(), "warmup": r.opts.warmup.String(), "rounds": r.opts.rounds,
			"scenarios": r.scenarios, "targets": r.targets, "chunks": r.opts.chunks,
			"latency": r.opts.latency.String(), "chunk_delay": r.opts.chunkDelay.String(),
		},
		"runs": r.runs, "idle": r.idle, "final": r.final, "profiles": r.profiles,
	}
	js, _ := json.MarshalIndent(raw, "", "  ")
	if err := os.WriteFile(jsonPath, js, 0o644); err != nil {
		return "", "", err
	}
	return mdPath, jsonPath, nil
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}
