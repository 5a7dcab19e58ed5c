// Command benchrun runs the whole Switchyard benchmark in one go: it builds
// and starts the mock upstream, the bare Hertz proxy and Switchyard as
// separate processes on free loopback ports, configures Switchyard through
// its admin API, runs the load generator against each target for each
// scenario in interleaved rounds, samples CPU and memory of the processes
// from /proc, and writes a Markdown (and JSON) report to bench/results/.
//
//	go run ./bench/cmd/benchrun -duration 10s -rounds 3
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"switchyard/bench/loadgen"
)

type options struct {
	duration, warmup, settle time.Duration
	rounds                   int
	scenarios, targets       string
	switchyardBin            string
	switchyardEnv            string
	chunks                   int
	latency, chunkDelay      time.Duration
	maxRequests              int64
	cpuProfile               bool
	profileScenario          string
	noisyPct                 float64
	noisyRetries             int
	profileSeconds           int
	outDir                   string
	keepWork                 bool
}

type scenario struct {
	Name   string `json:"name"`
	Conns  int    `json:"conns"`
	Stream bool   `json:"stream"`
}

const (
	tDirect     = "direct"
	tBare       = "bareproxy"
	tSwitchyard = "switchyard"
)

type target struct {
	name    string
	url     string // chat completions URL
	auth    string
	proc    *proc // the process whose CPU/RSS is charged (mock for direct)
	pprof   string
	idleRSS float64
	idleThr int
}

type runRec struct {
	Round           int            `json:"round"`
	Scenario        string         `json:"scenario"`
	Target          string         `json:"target"`
	Result          loadgen.Result `json:"loadgen"`
	TargetCPUS      float64        `json:"target_cpu_s"`
	CPUUsPerReq     float64        `json:"cpu_us_per_req"`
	MockCPUUsPerReq float64        `json:"mock_cpu_us_per_req"`
	ClientCPUUs     float64        `json:"loadgen_cpu_us_per_req"`
	UpstreamReqs    uint64         `json:"upstream_requests"`
	UpstreamRatio   float64        `json:"upstream_per_client_request"`
	MachineBusyPct  float64        `json:"machine_busy_pct"`
	OtherCPUPct     float64        `json:"other_cpu_pct"` // machine CPU not used by loadgen, mock or target
	Attempts        int            `json:"attempts"`      // > 1 when noisy attempts were rerun`
	RSSMB           float64        `json:"rss_mb"`
	HWMMB           float64        `json:"peak_rss_mb"`
	Threads         int            `json:"threads"`
}

func main() {
	var o options
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of each load run")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "warmup at the start of each run (load sent, latency not recorded)")
	flag.IntVar(&o.rounds, "rounds", 3, "interleaved rounds (each round runs every scenario on every target)")
	flag.StringVar(&o.scenarios, "scenarios", "c8,c50,c200,stream50", "comma list: cN = non-streamed chat at N connections, streamN = streamed chat at N")
	flag.StringVar(&o.targets, "targets", "direct,bareproxy,switchyard", "comma list of targets; drop switchyard to run without the gateway")
	flag.StringVar(&o.switchyardBin, "switchyard-bin", "", "prebuilt Switchyard binary (default: go build ./cmd/switchyard)")
	flag.StringVar(&o.switchyardEnv, "switchyard-env", "", "extra KEY=VALUE,... environment for Switchyard")
	flag.IntVar(&o.chunks, "chunks", 20, "content chunks per streamed answer (the mock adds a usage chunk and [DONE])")
	flag.DurationVar(&o.latency, "latency", 0, "mock upstream fixed latency")
	flag.DurationVar(&o.chunkDelay, "chunk-delay", 0, "mock upstream delay between stream chunks")
	flag.Int64Var(&o.maxRequests, "max-requests", 5_000_000, "hard cap on requests per load run")
	flag.DurationVar(&o.settle, "settle", 250*time.Millisecond, "pause after each run before sampling CPU (lets batched writers flush)")
	flag.Float64Var(&o.noisyPct, "noisy-pct", 20, "a run where processes outside the benchmark used more than this % of the machine is noisy")
	flag.IntVar(&o.noisyRetries, "noisy-retries", 1, "rerun a noisy run up to this many times and keep the quietest attempt")
	flag.BoolVar(&o.cpuProfile, "cpuprofile", false, "after the rounds, profile Switchyard (and the bare proxy) during an extra run of -profile-scenario")
	flag.StringVar(&o.profileScenario, "profile-scenario", "c50", "the scenario of the -cpuprofile run")
	flag.IntVar(&o.profileSeconds, "profile-seconds", 0, "CPU profile length (default: -duration)")
	flag.StringVar(&o.outDir, "out", "", "report directory (default: <repo>/bench/results)")
	flag.BoolVar(&o.keepWork, "keep-workdir", false, "keep the temporary directory with binaries, logs and data")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, o)
	stop()
	stopAll()
	if err != nil {
		logf("error: %v", err)
		os.Exit(1)
	}
}

func parseScenarios(s string) ([]scenario, error) {
	var out []scenario
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		sc := scenario{Name: f}
		num := ""
		switch {
		case strings.HasPrefix(f, "stream"):
			sc.Stream, num = true, f[len("stream"):]
		case strings.HasPrefix(f, "c"):
			num = f[1:]
		default:
			return nil, fmt.Errorf("bad scenario %q (want cN or streamN)", f)
		}
		n, err := strconv.Atoi(num)
		if err != nil || n < 1 || n > loadgen.MaxConns {
			return nil, fmt.Errorf("bad scenario %q", f)
		}
		sc.Conns = n
		out = append(out, sc)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenarios")
	}
	return out, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), "module switchyard") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run benchrun from inside the switchyard repository")
		}
		dir = parent
	}
}

func goBuild(ctx context.Context, root, out, pkg string) error {
	logf("go build -o %s %s", out, pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

func run(ctx context.Context, o options) error {
	scenarios, err := parseScenarios(o.scenarios)
	if err != nil {
		return err
	}
	var targetNames []string
	for _, t := range strings.Split(o.targets, ",") {
		switch t = strings.TrimSpace(t); t {
		case tDirect, tBare, tSwitchyard:
			targetNames = append(targetNames, t)
		case "":
		default:
			return fmt.Errorf("unknown target %q", t)
		}
	}
	if len(targetNames) == 0 {
		return fmt.Errorf("no targets")
	}
	has := func(n string) bool {
		for _, t := range targetNames {
			if t == n {
				return true
			}
		}
		return false
	}
	if o.rounds < 1 || o.duration <= 0 {
		return fmt.Errorf("need -rounds >= 1 and -duration > 0")
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	if o.outDir == "" {
		o.outDir = filepath.Join(root, "bench", "results")
	}
	work, err := os.MkdirTemp("", "switchyard-bench-")
	if err != nil {
		return err
	}
	if o.keepWork {
		logf("work directory (kept): %s", work)
	} else {
		defer func() { stopAll(); os.RemoveAll(work) }()
	}

	// Build.
	bins := map[string]string{}
	for _, c := range []string{"mockupstream", "bareproxy", "loadgen"} {
		bins[c] = filepath.Join(work, c)
		if err := goBuild(ctx, root, bins[c], "./bench/cmd/"+c); err != nil {
			return fmt.Errorf("build %s: %w", c, err)
		}
	}
	if has(tSwitchyard) {
		if o.switchyardBin != "" {
			bins["switchyard"], _ = filepath.Abs(o.switchyardBin)
		} else {
			bins["switchyard"] = filepath.Join(work, "switchyard")
			if err := goBuild(ctx, root, bins["switchyard"], "./cmd/switchyard"); err != nil {
				return fmt.Errorf("build switchyard (use -targets direct,bareproxy to run without it): %w", err)
			}
		}
	}

	// Start the mock.
	mockPort, err := freePort()
	if err != nil {
		return err
	}
	mockBase := fmt.Sprintf("http://127.0.0.1:%d", mockPort)
	mock, err := startProc("mockupstream", work, nil, bins["mockupstream"], "-listen", fmt.Sprintf("127.0.0.1:%d", mockPort),
		"-chunks", strconv.Itoa(o.chunks), "-latency", o.latency.String(), "-chunk-delay", o.chunkDelay.String())
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, mock, mockBase+"/_stats", 15*time.Second); err != nil {
		return err
	}
	targets := map[string]*target{}
	if has(tDirect) {
		targets[tDirect] = &target{name: tDirect, url: mockBase + "/v1/chat/completions", auth: "Bearer sk-mock", proc: mock}
	}
	if has(tBare) {
		port, _ := freePort()
		pport, _ := freePort()
		p, err := startProc("bareproxy", work, nil, bins["bareproxy"], "-listen", fmt.Sprintf("127.0.0.1:%d", port),
			"-upstream", mockBase, "-pprof", fmt.Sprintf("127.0.0.1:%d", pport))
		if err != nil {
			return err
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		if err := waitHTTP(ctx, p, base+"/healthz", 15*time.Second); err != nil {
			return err
		}
		targets[tBare] = &target{name: tBare, url: base + "/v1/chat/completions", auth: "Bearer sk-mock", proc: p,
			pprof: fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile", pport)}
	}
	var rootToken string
	if has(tSwitchyard) {
		port, _ := freePort()
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		rootToken = "bench-root-" + randHex(24)
		env := []string{"SWITCHYARD_ROOT_PASSWORD=bench-" + randHex(8), "SWITCHYARD_ROOT_ACCESS_TOKEN=" + rootToken}
		if o.cpuProfile {
			env = append(env, "SWITCHYARD_PPROF=1")
		}
		for _, kv := range strings.Split(o.switchyardEnv, ",") {
			if kv = strings.TrimSpace(kv); kv != "" {
				env = append(env, kv)
			}
		}
		dataDir := filepath.Join(work, "switchyard-data")
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return err
		}
		p, err := startProc("switchyard", work, env, bins["switchyard"], "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port), "--data", dataDir)
		if err != nil {
			return err
		}
		if err := waitHTTP(ctx, p, base+"/healthz", 60*time.Second); err != nil {
			return err
		}
		auth, err := setupSwitchyard(ctx, base, rootToken, mockPort)
		if err != nil {
			return fmt.Errorf("configure switchyard: %w; log tail:\n%s", err, p.logTail(20))
		}
		targets[tSwitchyard] = &target{name: tSwitchyard, url: base + "/v1/chat/completions", auth: auth, proc: p,
			pprof: base + "/debug/pprof/profile"}
	}
	for _, n := range targetNames {
		t := targets[n]
		if err := sanityCheck(ctx, t.url, t.auth); err != nil {
			return fmt.Errorf("%s sanity check: %w", n, err)
		}
		st, _ := readStatus(t.proc.pid())
		t.idleRSS, t.idleThr = st.RSSMB, st.Threads
		logf("%s ready: %s (idle RSS %.1f MB, %d threads)", n, t.url, st.RSSMB, st.Threads)
	}

	rep := &report{opts: o, scenarios: scenarios, targets: targetNames, started: time.Now(), root: root}
	rep.backgroundPct = backgroundCPU(ctx, time.Second)
	logf("background CPU use before the runs (other processes): %.0f%% of the machine", rep.backgroundPct)
	for n, t := range targets {
		rep.idle = append(rep.idle, idleInfo{Target: n, RSSMB: t.idleRSS, Threads: t.idleThr})
	}
	total := o.rounds * len(scenarios) * len(targetNames)
	logf("%d runs of %v (+%v warmup) each, about %v in all", total, o.duration, o.warmup,
		time.Duration(total)*(o.duration+o.warmup+o.settle+500*time.Millisecond))
	k := 0
	for r := 0; r < o.rounds; r++ {
		for _, sc := range scenarios {
			order := rotate(targetNames, r)
			for _, tn := range order {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				k++
				var rec runRec
				for attempt := 1; attempt <= 1+max(o.noisyRetries, 0); attempt++ {
					x, err := runOne(ctx, o, bins["loadgen"], targets[tn], mock, mockBase, sc, o.duration, r+1)
					if err != nil {
						return err
					}
					if attempt == 1 || x.OtherCPUPct < rec.OtherCPUPct {
						rec = x
					}
					rec.Attempts = attempt
					if x.OtherCPUPct <= o.noisyPct {
						break
					}
					logf("%s %s: other processes used %.0f%% of the machine during the run (> %.0f%%)", sc.Name, tn, x.OtherCPUPct, o.noisyPct)
				}
				rep.runs = append(rep.runs, rec)
				res := rec.Result
				logf("[%d/%d] round %d %-8s %-10s %8.0f req/s  p50 %6.2f ms  p99 %6.2f ms  cpu %6.1f µs/req  errors %d/%d/%d  upstream/client %.4f  other %.0f%%",
					k, total, r+1, sc.Name, tn, res.RPS, res.LatencyMS.P50, res.LatencyMS.P99, rec.CPUUsPerReq,
					res.Non2xx, res.TransportErrors, res.BadBody, rec.UpstreamRatio, rec.OtherCPUPct)
			}
		}
	}

	if o.cpuProfile {
		secs := o.profileSeconds
		if secs <= 0 {
			secs = int(o.duration.Seconds())
		}
		secs = max(secs, 1)
		scs, err := parseScenarios(o.profileScenario)
		if err != nil || len(scs) != 1 {
			return fmt.Errorf("-profile-scenario %q: want one scenario", o.profileScenario)
		}
		sc := scs[0]
		for _, tn := range []string{tSwitchyard, tBare} {
			t := targets[tn]
			if t == nil || t.pprof == "" {
				continue
			}
			prof, err := profileRun(ctx, o, bins["loadgen"], t, mock, mockBase, sc, secs, rootToken, work)
			if err != nil {
				logf("profile of %s failed: %v", tn, err)
				rep.profiles = append(rep.profiles, profile{Target: tn, Err: err.Error()})
				continue
			}
			rep.profiles = append(rep.profiles, prof)
		}
	}

	for _, n := range targetNames {
		st, _ := readStatus(targets[n].proc.pid())
		rep.final = append(rep.final, idleInfo{Target: n, RSSMB: st.RSSMB, HWMMB: st.HWMMB, Threads: st.Threads})
	}
	rep.finished = time.Now()
	md, js, err := rep.write()
	if err != nil {
		return err
	}
	logf("report: %s", md)
	logf("raw data: %s", js)
	fmt.Println(md)
	return nil
}

// backgroundCPU measures the machine's busy share over d while our
// processes are idle: load from anything else on the box.
func backgroundCPU(ctx context.Context, d time.Duration) float64 {
	b0, t0 := machineCPU()
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
	b1, t1 := machineCPU()
	if t1 <= t0 {
		return 0
	}
	return (b1 - b0) / (t1 - t0) * 100
}

func rotate(s []string, r int) []string {
	out := make([]string, len(s))
	for i := range s {
		out[i] = s[(i+r)%len(s)]
	}
	return out
}

func mockRequests(base string) (uint64, error) {
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(base + "/_stats")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var s struct {
		Requests uint64 `json:"requests"`
	}
	err = json.NewDecoder(resp.Body).Decode(&s)
	return s.Requests, err
}

// runLoadgen executes the loadgen binary and parses its JSON.
func runLoadgen(ctx context.Context, o options, bin string, t *target, sc scenario, dur time.Duration) (loadgen.Result, error) {
	args := []string{"-url", t.url, "-c", strconv.Itoa(sc.Conns), "-duration", dur.String(),
		"-warmup", o.warmup.String(), "-requests", strconv.FormatInt(o.maxRequests, 10)}
	if sc.Stream {
		args = append(args, "-stream")
	}
	if t.auth != "" {
		args = append(args, "-auth", t.auth)
	}
	cctx, cancel := context.WithTimeout(ctx, dur+o.warmup+time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 15 * time.Second
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	var res loadgen.Result
	if jerr := json.Unmarshal(out, &res); jerr != nil {
		if err == nil {
			err = jerr
		}
		return res, fmt.Errorf("loadgen %s: %w", strings.Join(args, " "), err)
	}
	return res, ctx.Err()
}

func runOne(ctx context.Context, o options, lgBin string, t *target, mock *proc, mockBase string, sc scenario, dur time.Duration, round int) (runRec, error) {
	rec := runRec{Round: round, Scenario: sc.Name, Target: t.name}
	for _, p := range []*proc{t.proc, mock} {
		if p.exited() {
			return rec, fmt.Errorf("%s has exited (%v); log tail:\n%s", p.name, p.err, p.logTail(20))
		}
	}
	up0, err := mockRequests(mockBase)
	if err != nil {
		return rec, err
	}
	cpuT0, _ := procCPU(t.proc.pid())
	cpuM0, _ := procCPU(mock.pid())
	busy0, tot0 := machineCPU()

	res, err := runLoadgen(ctx, o, lgBin, t, sc, dur)
	if err != nil {
		return rec, err
	}
	busy1, tot1 := machineCPU()
	cpuTe, _ := procCPU(t.proc.pid())
	cpuMe, _ := procCPU(mock.pid())
	time.Sleep(o.settle)
	cpuT1, _ := procCPU(t.proc.pid())
	cpuM1, _ := procCPU(mock.pid())
	up1, err := mockRequests(mockBase)
	if err != nil {
		return rec, err
	}
	st, _ := readStatus(t.proc.pid())

	rec.Result = res
	rec.TargetCPUS = cpuT1 - cpuT0
	if n := float64(res.TotalRequests); n > 0 {
		rec.CPUUsPerReq = rec.TargetCPUS / n * 1e6
		rec.MockCPUUsPerReq = (cpuM1 - cpuM0) / n * 1e6
		rec.ClientCPUUs = res.ClientCPUS / n * 1e6
		rec.UpstreamRatio = float64(up1-up0) / n
	}
	rec.UpstreamReqs = up1 - up0
	if tot1 > tot0 {
		rec.MachineBusyPct = (busy1 - busy0) / (tot1 - tot0) * 100
		ours := res.ClientCPUS + (cpuTe - cpuT0)
		if t.proc != mock {
			ours += cpuMe - cpuM0
		}
		rec.OtherCPUPct = max(0, ((busy1-busy0)/clkTck-ours)/((tot1-tot0)/clkTck)*100)
	}
	rec.RSSMB, rec.HWMMB, rec.Threads = st.RSSMB, st.HWMMB, st.Threads
	return rec, nil
}

type profile struct {
	Target string         `json:"target"`
	File   string         `json:"file,omitempty"`
	Top    string         `json:"top,omitempty"`
	TopCum string         `json:"top_cum,omitempty"`
	Err    string         `json:"error,omitempty"`
	Run    loadgen.Result `json:"loadgen"`
}

// profileRun fetches a CPU profile from t while loadgen runs scenario sc.
func profileRun(ctx context.Context, o options, lgBin string, t *target, mock *proc, mockBase string, sc scenario, secs int, rootToken, work string) (profile, error) {
	pr := profile{Target: t.name}
	file := filepath.Join(work, t.name+".cpu.pprof")
	type fetched struct{ err error }
	ch := make(chan fetched, 1)
	go func() {
		// Give loadgen its warmup before the profile window opens.
		select {
		case <-time.After(o.warmup + 300*time.Millisecond):
		case <-ctx.Done():
			ch <- fetched{ctx.Err()}
			return
		}
		req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s?seconds=%d", t.pprof, secs), nil)
		req.Header.Set("Authorization", rootToken)
		resp, err := (&http.Client{Timeout: time.Duration(secs)*time.Second + 30*time.Second}).Do(req)
		if err != nil {
			ch <- fetched{err}
			return
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
			ch <- fetched{fmt.Errorf("GET %s: HTTP %d: %s (is SWITCHYARD_PPROF=1 supported?)", t.pprof, resp.StatusCode, b)}
			return
		}
		f, err := os.Create(file)
		if err == nil {
			_, err = io.Copy(f, resp.Body)
			f.Close()
		}
		ch <- fetched{err}
	}()
	rec, err := runOne(ctx, o, lgBin, t, mock, mockBase, sc, time.Duration(secs)*time.Second+time.Second, 0)
	if err != nil {
		return pr, err
	}
	pr.Run = rec.Result
	if f := <-ch; f.err != nil {
		return pr, f.err
	}
	out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=30", file).CombinedOutput()
	if err != nil {
		return pr, fmt.Errorf("go tool pprof: %v: %s", err, out)
	}
	pr.File = file
	pr.Top = string(out)
	if out, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=30", file).CombinedOutput(); err == nil {
		pr.TopCum = string(out)
	}
	return pr, nil
}
