package actors

import (
	"errors"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// ErrNoChannel means no enabled channel serves the model for the group.
var ErrNoChannel = errors.New("no available channel")

// tier is the channels of one priority for one (group, model).
type tier struct {
	priority int64
	chans    []*ChannelInfo
	weights  []int // effective weights (0 → 1 smoothing)
	total    int
}

// Router chooses channels from an immutable snapshot of the enabled
// channels: (group, model) → priority tiers, highest first; weighted random
// inside a tier; channels whose breaker is open are skipped. A Router is
// rebuilt whenever channels change and is safe for concurrent use.
type Router struct {
	byGroup  map[string]map[string][]*tier
	byID     map[int64]*ChannelInfo
	models   map[string][]string // group → sorted models
	channels []*ChannelInfo
	// intN draws the weighted pick (rand.IntN; tests seed their own).
	intN func(n int) int
}

// NewRouter indexes channels. Disabled channels are reachable by id (for
// pinning and tests) but never routed to.
func NewRouter(chans []*ChannelInfo, board *HealthBoard) *Router {
	r := &Router{byGroup: map[string]map[string][]*tier{}, byID: map[int64]*ChannelInfo{}, models: map[string][]string{}, intN: rand.IntN}
	for _, c := range chans {
		if board != nil {
			c.Health = board.Health(c.ID)
		} else if c.Health == nil {
			c.Health = &Health{}
		}
		if c.Active == nil { // built without NewChannelInfo: every key is active
			for i := range c.Keys {
				c.Active = append(c.Active, i)
			}
		}
		r.byID[c.ID] = c
		r.channels = append(r.channels, c)
		if c.Status != 1 || len(c.Active) == 0 {
			continue
		}
		for _, g := range c.Groups {
			gm := r.byGroup[g]
			if gm == nil {
				gm = map[string][]*tier{}
				r.byGroup[g] = gm
			}
			for _, m := range c.Models {
				gm[m] = addToTier(gm[m], c)
			}
		}
	}
	for g, gm := range r.byGroup {
		ms := make([]string, 0, len(gm))
		for m, tiers := range gm {
			sort.Slice(tiers, func(i, j int) bool { return tiers[i].priority > tiers[j].priority })
			ms = append(ms, m)
		}
		sort.Strings(ms)
		r.models[g] = ms
	}
	return r
}

func addToTier(tiers []*tier, c *ChannelInfo) []*tier {
	var t *tier
	for _, x := range tiers {
		if x.priority == c.Priority {
			t = x
		}
	}
	if t == nil {
		t = &tier{priority: c.Priority}
		tiers = append(tiers, t)
	}
	w := c.Weight
	if w <= 0 {
		w = 1
	}
	t.chans = append(t.chans, c)
	t.weights = append(t.weights, w)
	t.total += w
	return tiers
}

// Channel returns a channel by id (enabled or not).
func (r *Router) Channel(id int64) (*ChannelInfo, bool) {
	c, ok := r.byID[id]
	return c, ok
}

// Channels returns every channel in the snapshot.
func (r *Router) Channels() []*ChannelInfo { return r.channels }

// Models lists the models routable for a group, sorted.
func (r *Router) Models(group string) []string { return r.models[group] }

// HasModel reports whether any enabled channel serves model for group.
func (r *Router) HasModel(group, model string) bool { return len(r.byGroup[group][model]) > 0 }

// Pick chooses a channel for (group, model), skipping the ids in exclude
// (channels that already failed this request). It walks tiers from the
// highest priority down, picking by weight among the channels whose
// breaker admits traffic. A channel cooling down for the model (see
// Health.CoolDown) is chosen only when no other channel of any tier is
// left.
func (r *Router) Pick(group, model string, exclude []int64) (*ChannelInfo, error) {
	tiers := r.byGroup[group][model]
	if len(tiers) == 0 {
		return nil, ErrNoChannel
	}
	now := time.Now().UnixNano()
	for _, lastResort := range []bool{false, true} {
		for _, t := range tiers {
			if c := t.pick(r.intN, now, model, exclude, lastResort); c != nil {
				return c, nil
			}
		}
	}
	return nil, ErrNoChannel
}

// pick draws by weight among the tier's channels that are not excluded,
// whose breaker is not open and, unless cooled is allowed, that are not
// cooling down for model.
func (t *tier) pick(intN func(int) int, now int64, model string, exclude []int64, cooled bool) *ChannelInfo {
	var buf [32]bool
	skip := buf[:0]
	if len(t.chans) > len(buf) {
		skip = make([]bool, 0, len(t.chans))
	}
	total := 0
	for i, c := range t.chans {
		h := c.Health
		bad := slices.Contains(exclude, c.ID) || h.State() == BreakerOpen && now < h.openUntil.Load() ||
			!cooled && h.Cooled(model, now)
		skip = append(skip, bad)
		if !bad {
			total += t.weights[i]
		}
	}
	for total > 0 {
		n := intN(total)
		for i, c := range t.chans {
			if skip[i] {
				continue
			}
			if n < t.weights[i] {
				if c.Health.admits(now) {
					return c
				}
				// Lost the half-open probe race: drop it and draw again.
				skip[i] = true
				total -= t.weights[i]
				break
			}
			n -= t.weights[i]
		}
	}
	return nil
}
