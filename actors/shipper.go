package actors

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/bytedance/sonic"

	"switchyard/storage"
)

// ShipperConfig tunes the usage shipper.
type ShipperConfig struct {
	// SyncInterval is the outbox group-sync period: the most a power loss
	// can lose. Default 5 ms.
	SyncInterval time.Duration
	// BatchInterval is the longest a settled request waits before it is
	// shipped. Default 20 ms.
	BatchInterval time.Duration
	// BatchSize is the most records in one UsageBatch. Default 512.
	BatchSize int
	// ProposeTimeout bounds one UsageBatch proposal. Default 5 s.
	ProposeTimeout time.Duration
}

func (c ShipperConfig) withDefaults() ShipperConfig {
	if c.SyncInterval <= 0 {
		c.SyncInterval = 5 * time.Millisecond
	}
	if c.BatchInterval <= 0 {
		c.BatchInterval = 20 * time.Millisecond
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 512
	}
	if c.ProposeTimeout <= 0 {
		c.ProposeTimeout = 5 * time.Second
	}
	return c
}

// Shipper is the node's single usage shipper: it group-syncs the outbox and
// commits closed records through Raft in batches (by count and by time).
// Batches carry the records' close sequences; the state machine applies
// each sequence once, so re-shipping after a timeout or a crash is safe.
// After a batch commits, its records are deleted from the outbox.
type Shipper struct {
	cfg    ShipperConfig
	outbox *storage.Outbox
	prop   storage.Proposer
	node   string
	log    *slog.Logger

	publish    func(subject string, data []byte) error
	subscribed func(subject string) bool
	// hw reads the state machine's high-water mark for this node.
	hw func() (uint64, error)

	mu      sync.Mutex
	shipped uint64 // highest close sequence known committed
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// NewShipper creates a shipper; shipped is the state machine's high-water
// mark for this node (records at or below it are already applied).
func NewShipper(cfg ShipperConfig, outbox *storage.Outbox, prop storage.Proposer, node string, shipped uint64, log *slog.Logger) *Shipper {
	return &Shipper{
		cfg: cfg.withDefaults(), outbox: outbox, prop: prop, node: node, log: log, shipped: shipped,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
}

// raise skips close sequences the state machine already applied.
func (s *Shipper) raise(hw uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shipped < hw {
		s.shipped = hw
	}
}

// Start runs the shipper until Stop.
func (s *Shipper) Start() {
	go s.run()
}

// Kick asks for a shipment now (for example when a batch filled up).
func (s *Shipper) Kick() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Shipper) run() {
	defer close(s.done)
	syncT := time.NewTicker(s.cfg.SyncInterval)
	shipT := time.NewTicker(s.cfg.BatchInterval)
	defer syncT.Stop()
	defer shipT.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-syncT.C:
			if err := s.outbox.Sync(); err != nil {
				s.log.Error("outbox sync failed", "err", err)
			}
		case <-shipT.C:
			s.shipAll(context.Background())
		case <-s.kick:
			s.shipAll(context.Background())
		}
	}
}

// shipAll ships until the outbox has nothing closed left (or an error).
func (s *Shipper) shipAll(ctx context.Context) error {
	for {
		n, err := s.shipOnce(ctx)
		if err != nil {
			s.log.Warn("usage batch not committed, will retry", "err", err)
			return err
		}
		if n < s.cfg.BatchSize {
			return nil
		}
	}
}

func (s *Shipper) shipOnce(ctx context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs, err := s.outbox.Closed(s.shipped, s.cfg.BatchSize)
	if err != nil || len(recs) == 0 {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.ProposeTimeout)
	defer cancel()
	res, err := s.prop.Propose(pctx, &storage.UsageBatch{Node: s.node, Records: recs})
	if err == nil {
		err = res.Err
	}
	if errors.Is(err, storage.ErrUsageGap) || errors.Is(err, storage.ErrResultUnknown) {
		// The state is ahead of or apart from what we believed: restart
		// from its high-water mark (records at or below it are applied).
		if hw, herr := s.hw(); herr == nil && hw > s.shipped {
			_ = s.outbox.Shipped(s.shipped, hw)
			s.shipped = hw
		}
		return 0, err
	}
	if err != nil {
		return 0, err
	}
	last := recs[len(recs)-1].Seq
	prev := s.shipped
	s.shipped = last
	s.announce(recs)
	if err := s.outbox.Shipped(prev, last); err != nil {
		s.log.Error("outbox cleanup failed", "err", err)
	}
	return len(recs), nil
}

// UsageSubject is the NATS subject on which a node announces its committed
// usage (a JSON UsageEvent per batch). Delivery is best effort: the
// replicated logs are the record; the events feed live dashboards and
// external subscribers.
func UsageSubject(node string) string { return "sy.usage." + node }

// UsageEvent is the payload published on UsageSubject.
type UsageEvent struct {
	Node    string                `json:"node"`
	Records []storage.UsageRecord `json:"records"`
}

func (s *Shipper) announce(recs []storage.UsageRecord) {
	subject := UsageSubject(s.node)
	if s.publish == nil || (s.subscribed != nil && !s.subscribed(subject)) {
		return
	}
	b, err := sonic.Marshal(UsageEvent{Node: s.node, Records: recs})
	if err == nil {
		err = s.publish(subject, b)
	}
	if err != nil {
		s.log.Warn("usage event not published", "err", err)
	}
}

// Flush ships everything closed so far and syncs the outbox; used at
// shutdown after the last request finished.
func (s *Shipper) Flush(ctx context.Context) error {
	if err := s.outbox.Sync(); err != nil {
		return err
	}
	for {
		n, err := s.shipOnce(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			select {
			case <-ctx.Done():
				return err
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		if n == 0 {
			return nil
		}
	}
}

// Stop ends the background loop (call Flush afterwards to ship the rest).
func (s *Shipper) Stop() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}
