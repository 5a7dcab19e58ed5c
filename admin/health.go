package admin

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
	"switchyard/storage"
)

// Channel health: tests, balances and model lists, on demand and on a
// schedule. A test that fails with an error the AutoDisable policy calls
// fatal disables an enabled channel (as "automatically disabled"); a test
// that passes re-enables an automatically disabled channel when
// AutomaticEnableChannelEnabled is on. A channel an administrator
// disabled is never touched.

// checkTimeout bounds one gateway-made upstream call.
const checkTimeout = 60 * time.Second

// judgeTest applies the health policy to a test's outcome and records it.
func (a *API) judgeTest(ctx context.Context, ch *storage.Channel, took time.Duration, err error) {
	p := a.d.Catalog.Pricing()
	pctx, cancel := context.WithTimeout(ctx, ProposeTimeout)
	defer cancel()
	propose := func(cmd storage.Command) {
		if _, perr := a.d.Propose.Propose(pctx, cmd); perr != nil {
			a.d.Logger.Warn("channel check not committed", "channel_id", ch.ID, "err", perr)
		}
	}
	if err == nil {
		propose(&storage.ChannelTested{ID: ch.ID, ResponseTime: int(took.Milliseconds()), Time: now()})
		if p.AutoEnable && ch.Status == storage.ChannelAutoDisabled {
			// Its keys get another chance too; bad ones are disabled again.
			for _, k := range actors.SplitList(ch.DisabledKeys) {
				if i, err := strconv.Atoi(k); err == nil {
					propose(&storage.SetChannelKey{ID: ch.ID, Index: i, Time: now(), Reason: "the channel test passed"})
				}
			}
			propose(&storage.SetChannelStatus{ID: ch.ID, Status: storage.ChannelEnabled, Time: now(),
				Reason: "automatically enabled: the channel test passed", OnlyFrom: storage.ChannelAutoDisabled})
		}
		return
	}
	var ue *actors.UpstreamError
	if ch.Status != storage.ChannelEnabled || !errors.As(err, &ue) {
		return
	}
	if fatal, reason := p.AutoDisable.Fatal(ue.Status, ue.Code, ue.Message); fatal {
		propose(&storage.SetChannelStatus{ID: ch.ID, Status: storage.ChannelAutoDisabled, Time: now(),
			Reason: "automatically disabled by a channel test: " + reason, OnlyFrom: storage.ChannelEnabled})
	}
}

// testChannels tests each channel, a few at a time, applying the policy.
func (a *API) testChannels(ctx context.Context, chans []storage.Channel) {
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i := range chans {
		ch := &chans[i]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			tctx, cancel := context.WithTimeout(ctx, checkTimeout)
			took, _, err := a.d.Tester.TestChannel(tctx, ch.ID, "")
			cancel()
			a.judgeTest(ctx, ch, took, err)
		})
	}
	wg.Wait()
}

// testAllChannels (GET /api/channel/test) tests every channel that is not
// manually disabled, in the background, and answers at once (One API).
func (a *API) testAllChannels(_ context.Context, c *app.RequestContext) {
	if a.d.Tester == nil {
		fail(c, "channel tests are not available")
		return
	}
	chans, err := a.d.Store.Channels()
	if err != nil {
		fail(c, err.Error())
		return
	}
	var todo []storage.Channel
	for _, ch := range chans {
		if ch.Status != storage.ChannelDisabled {
			todo = append(todo, ch)
		}
	}
	go a.testChannels(context.Background(), todo)
	ok(c, map[string]any{"channels": len(todo)})
}

// updateBalance (GET /api/channel/update_balance/:id) queries and records
// one channel's upstream balance.
func (a *API) updateBalance(ctx context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	bal, err := a.queryBalance(ctx, id)
	if err != nil {
		fail(c, err.Error())
		return
	}
	ok(c, map[string]any{"balance": bal})
}

func (a *API) queryBalance(ctx context.Context, id int64) (float64, error) {
	if a.d.Tester == nil {
		return 0, errors.New("balance queries are not available")
	}
	qctx, cancel := context.WithTimeout(ctx, checkTimeout)
	amount, _, err := a.d.Tester.QueryBalance(qctx, id)
	cancel()
	if err != nil {
		return 0, err
	}
	pctx, cancel := context.WithTimeout(ctx, ProposeTimeout)
	defer cancel()
	if _, err := a.d.Propose.Propose(pctx, &storage.ChannelBalance{ID: id, Balance: amount, Time: now()}); err != nil {
		return 0, err
	}
	return amount, nil
}

// updateAllBalances (GET /api/channel/update_balance) refreshes every
// enabled channel's balance in the background and answers at once.
func (a *API) updateAllBalances(_ context.Context, c *app.RequestContext) {
	chans, err := a.d.Store.Channels()
	if err != nil {
		fail(c, err.Error())
		return
	}
	go a.refreshBalances(context.Background(), chans)
	ok(c, nil)
}

func (a *API) refreshBalances(ctx context.Context, chans []storage.Channel) {
	for _, ch := range chans {
		if ctx.Err() != nil {
			return
		}
		if ch.Status != storage.ChannelEnabled {
			continue
		}
		if _, err := a.queryBalance(ctx, ch.ID); err != nil {
			a.d.Logger.Debug("balance not updated", "channel_id", ch.ID, "err", err)
		}
	}
}

// fetchModels (GET /api/channel/fetch_models/:id) lists the models the
// channel's key can use, as the upstream reports them.
func (a *API) fetchModels(ctx context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	if a.d.Tester == nil {
		fail(c, "model lists are not available")
		return
	}
	fctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	models, err := a.d.Tester.FetchModels(fctx, id)
	if err != nil {
		fail(c, "fetching the model list of channel "+strconv.FormatInt(id, 10)+" failed: "+err.Error())
		return
	}
	ok(c, models)
}

// RunChecks runs the scheduled channel checks until stop is closed, on the
// leader only (one check per cluster): every ChannelTestFrequency minutes
// it tests the automatically disabled channels, which the policy
// re-enables when they pass; every ChannelBalanceFrequency minutes it
// refreshes the enabled channels' balances. Both frequencies are read at
// each round (0: off). Call it once per node, in its own goroutine.
func (a *API) RunChecks(stop <-chan struct{}) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-stop
		cancel() // ends a round in progress
	}()
	var nextTest, nextBalance time.Time
	t := time.NewTicker(time.Second)
	defer t.Stop()
	due := func(next *time.Time, every time.Duration, now time.Time) bool {
		switch {
		case every <= 0:
			*next = time.Time{}
			return false
		case next.IsZero() || next.Sub(now) > every: // first round, or the frequency was shortened
			*next = now.Add(every)
			return false
		case now.Before(*next):
			return false
		}
		*next = now.Add(every)
		return a.d.Tester != nil && (a.d.IsLeader == nil || a.d.IsLeader())
	}
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			p := a.d.Catalog.Pricing()
			testNow, balanceNow := due(&nextTest, p.TestEvery, now), due(&nextBalance, p.BalanceEvery, now)
			if !testNow && !balanceNow {
				continue
			}
			chans, err := a.d.Store.Channels()
			if err != nil {
				continue
			}
			if testNow {
				var todo []storage.Channel
				for _, ch := range chans {
					if ch.Status == storage.ChannelAutoDisabled {
						todo = append(todo, ch)
					}
				}
				a.testChannels(ctx, todo)
			}
			if balanceNow {
				a.refreshBalances(ctx, chans)
			}
		}
	}
}
