package actors

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/asynkron/protoactor-go/actor"
)

// Messages of the channel actor.
type (
	// RecordOutcome reports how one upstream call on the channel ended.
	RecordOutcome struct {
		Success bool
		Latency time.Duration
		// Fatal marks errors that say the channel itself is broken (bad
		// key, no quota upstream) as opposed to a transient failure.
		Fatal bool
		// Disabling marks a failure that counts toward disabling the
		// channel (AutoDisable.Fatal); Reason says why (logged when the
		// channel is disabled).
		Disabling bool
		Reason    string
		// DisableAfter and Window: the channel is disabled when
		// DisableAfter of its last Window outcomes were fatal (0: never).
		DisableAfter, Window int
		// KeyNo is 1 + the index of the key used on a multi-key channel,
		// whose own window then decides (0: the channel's window).
		KeyNo int
	}
)

// Breaker states published in Health.
const (
	BreakerClosed   int32 = 0
	BreakerOpen     int32 = 1
	BreakerHalfOpen int32 = 2
)

// BreakerConfig tunes every channel's circuit breaker.
type BreakerConfig struct {
	// Failures is how many consecutive failures open the breaker.
	// Default 5.
	Failures int
	// Cooldown is how long an open breaker rejects traffic before letting
	// one probe through. Default 10 s.
	Cooldown time.Duration
}

func (c BreakerConfig) withDefaults() BreakerConfig {
	if c.Failures <= 0 {
		c.Failures = 5
	}
	if c.Cooldown <= 0 {
		c.Cooldown = 10 * time.Second
	}
	return c
}

// Health is a channel's live state, published by its channel actor and
// read lock-free by the router and the metrics. In-flight counting is a
// plain atomic because it changes twice per request and needs no ordering
// with anything else.
type Health struct {
	state     atomic.Int32
	openUntil atomic.Int64 // Unix ns; while open, traffic is refused until then
	probing   atomic.Bool  // a half-open probe is in flight
	inFlight  atomic.Int64
	ewmaNanos atomic.Int64
	failures  atomic.Int64 // consecutive
	successes atomic.Int64
	errors    atomic.Int64
	// fatalInWindow counts fatal outcomes in the auto-disable window; while
	// it is 0, successes need not reach the channel actor.
	fatalInWindow atomic.Int32

	// Models cooling down after a retryable failure: model → Unix ns until
	// which the router uses the channel for it only as a last resort.
	// cooling counts the entries so the router skips the lock when none.
	coolMu  sync.Mutex
	cool    map[string]int64
	cooling atomic.Int32
}

// CoolDown makes the router avoid the channel for model until until,
// unless nothing else is left (a retryable failure on this model: a rate
// limit, an overloaded or broken upstream deployment of it).
func (h *Health) CoolDown(model string, until time.Time) {
	h.coolMu.Lock()
	defer h.coolMu.Unlock()
	if h.cool == nil {
		h.cool = map[string]int64{}
	}
	if _, ok := h.cool[model]; !ok {
		h.cooling.Add(1)
	}
	h.cool[model] = until.UnixNano()
}

// Cooled reports whether model is cooling down on the channel at now (Unix
// ns); an expired entry is dropped.
func (h *Health) Cooled(model string, now int64) bool {
	if h.cooling.Load() == 0 {
		return false
	}
	h.coolMu.Lock()
	defer h.coolMu.Unlock()
	until, ok := h.cool[model]
	if !ok {
		return false
	}
	if now >= until {
		delete(h.cool, model)
		h.cooling.Add(-1)
		return false
	}
	return true
}

// State returns the breaker state.
func (h *Health) State() int32 { return h.state.Load() }

// InFlight is the number of requests currently on the channel.
func (h *Health) InFlight() int64 { return h.inFlight.Load() }

// LatencyEWMA is the smoothed latency of successful calls.
func (h *Health) LatencyEWMA() time.Duration { return time.Duration(h.ewmaNanos.Load()) }

// Begin counts a request starting on the channel; End must follow.
func (h *Health) Begin() { h.inFlight.Add(1) }

// End counts a request leaving the channel.
func (h *Health) End() { h.inFlight.Add(-1) }

// admits reports whether the router may send a request now. An open
// breaker whose cooldown passed admits exactly one probe (half-open).
func (h *Health) admits(now int64) bool {
	switch h.state.Load() {
	case BreakerClosed:
		return true
	case BreakerOpen:
		if now < h.openUntil.Load() {
			return false
		}
		return h.probing.CompareAndSwap(false, true)
	default: // half-open: the probe is out
		return false
	}
}

// HealthBoard owns the channel actors and their published Health. Channel
// actors live as long as the process (their state is small and is rebuilt
// from nothing after a restart: a restarted node starts with closed
// breakers and no latency history).
type HealthBoard struct {
	sys *actor.ActorSystem
	cfg BreakerConfig
	// disable is called (from a channel actor) when a channel's
	// auto-disable window fills with fatal outcomes.
	disable    func(id int64, reason string)
	disableKey func(id int64, key int, reason string)

	mu     sync.Mutex
	byID   map[int64]*channelRef
	closed bool
}

type channelRef struct {
	h   *Health
	pid *actor.PID
}

// NewHealthBoard creates the board; channel actors are spawned on first use.
func NewHealthBoard(sys *actor.ActorSystem, cfg BreakerConfig) *HealthBoard {
	return &HealthBoard{sys: sys, cfg: cfg.withDefaults(), byID: map[int64]*channelRef{}}
}

func (b *HealthBoard) ref(id int64) *channelRef {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.byID[id]
	if ok {
		return r
	}
	r = &channelRef{h: &Health{}}
	if !b.closed {
		h, cfg := r.h, b.cfg
		props := actor.PropsFromProducer(func() actor.Actor {
			return &channelActor{h: h, cfg: cfg, id: id, disable: b.disable, disableKey: b.disableKey}
		},
			actor.WithMailbox(actor.Bounded(4096)))
		r.pid = b.sys.Root.Spawn(props)
	}
	b.byID[id] = r
	return r
}

// Health returns the published health of channel id.
func (b *HealthBoard) Health(id int64) *Health { return b.ref(id).h }

// Record reports an outcome. A success on a healthy channel (breaker
// closed, no failure streak) changes no breaker state, so it is folded into
// the counters and the latency average right here; everything else goes to
// the channel's actor (one-way; dropping one under overload only delays the
// breaker), which owns the state transitions.
func (b *HealthBoard) Record(id int64, o RecordOutcome) {
	r := b.ref(id)
	if o.Success && r.h.state.Load() == BreakerClosed && r.h.failures.Load() == 0 && r.h.fatalInWindow.Load() == 0 {
		r.h.successes.Add(1)
		r.h.observe(o.Latency)
		return
	}
	if r.pid != nil {
		b.sys.Root.Send(r.pid, &o)
	}
}

// observe folds a successful call's latency into the moving average.
func (h *Health) observe(d time.Duration) {
	for {
		old := h.ewmaNanos.Load()
		next := int64(d)
		if old != 0 {
			next = int64(math.Round(float64(old) + ewmaAlpha*(float64(d)-float64(old))))
		}
		if h.ewmaNanos.CompareAndSwap(old, next) {
			return
		}
	}
}

// Stop stops every channel actor.
func (b *HealthBoard) Stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for _, r := range b.byID {
		if r.pid != nil {
			b.sys.Root.Stop(r.pid)
		}
	}
}

// channelActor owns one channel's breaker and latency average. It is the
// only writer of its Health (except the in-flight counter and the probe
// flag, which the request path flips atomically).
type channelActor struct {
	h   *Health
	cfg BreakerConfig
	id  int64
	// The auto-disable windows: the channel's, and each key's of a
	// multi-key channel.
	win  strikes
	keys map[int]*strikes
	// disable and disableKey ask the cluster to disable the channel or
	// one of its keys (nil: never).
	disable    func(id int64, reason string)
	disableKey func(id int64, key int, reason string)
}

func (a *channelActor) Receive(ctx actor.Context) {
	switch m := ctx.Message().(type) {
	case *RecordOutcome:
		a.record(m)
	}
}

const ewmaAlpha = 0.2

// strikes is an auto-disable window: the last outcomes, true when fatal.
type strikes struct {
	window []bool
	pos    int
	fatal  int
}

// add records an outcome and reports whether the window filled with
// after fatal ones (then it starts afresh).
func (w *strikes) add(fatal bool, size, after int) bool {
	if len(w.window) != size {
		*w = strikes{window: make([]bool, size)}
	}
	if w.window[w.pos] {
		w.fatal--
	}
	w.window[w.pos] = fatal
	if fatal {
		w.fatal++
	}
	w.pos = (w.pos + 1) % size
	if w.fatal >= after {
		*w = strikes{window: make([]bool, size)}
		return true
	}
	return false
}

// judge keeps the auto-disable windows: the channel's, or for a multi-key
// channel the key's. When DisableAfter of the last Window outcomes were
// fatal it disables the channel (or the key).
func (a *channelActor) judge(m *RecordOutcome) {
	if m.DisableAfter <= 0 || m.Window <= 0 || a.disable == nil {
		return
	}
	if m.KeyNo > 0 {
		if a.keys == nil {
			a.keys = map[int]*strikes{}
		}
		w := a.keys[m.KeyNo-1]
		if w == nil {
			w = &strikes{}
			a.keys[m.KeyNo-1] = w
		}
		if w.add(m.Disabling, m.Window, m.DisableAfter) && a.disableKey != nil {
			a.disableKey(a.id, m.KeyNo-1, m.Reason)
		}
	} else if a.win.add(m.Disabling, m.Window, m.DisableAfter) {
		a.disable(a.id, m.Reason)
	}
	n := a.win.fatal
	for _, w := range a.keys {
		n += w.fatal
	}
	a.h.fatalInWindow.Store(int32(n))
}

func (a *channelActor) record(m *RecordOutcome) {
	a.judge(m)
	h := a.h
	if m.Success {
		h.successes.Add(1)
		h.failures.Store(0)
		h.observe(m.Latency)
		h.state.Store(BreakerClosed)
		h.probing.Store(false)
		return
	}
	h.errors.Add(1)
	f := h.failures.Add(1)
	wasProbe := h.probing.Load()
	if m.Fatal || wasProbe || f >= int64(a.cfg.Failures) {
		h.openUntil.Store(time.Now().Add(a.cfg.Cooldown).UnixNano())
		h.state.Store(BreakerOpen)
		h.probing.Store(false)
	}
}
