package admin

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/bytedance/sonic"
	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/storage"
)

// channelView hides the key, as One API's channel list does.
func channelView(ch storage.Channel) storage.Channel {
	ch.Key = ""
	return ch
}

func (a *API) channels(c *app.RequestContext, keyword string) {
	chs, err := a.d.Store.Channels()
	if err != nil {
		fail(c, err.Error())
		return
	}
	offset, limit := page(c)
	out := []storage.Channel{}
	seen := 0
	for i := len(chs) - 1; i >= 0; i-- {
		ch := chs[i]
		if keyword != "" && strconv.FormatInt(ch.ID, 10) != keyword && !strings.HasPrefix(ch.Name, keyword) {
			continue
		}
		if seen++; seen <= offset {
			continue
		}
		out = append(out, channelView(ch))
		if len(out) == limit {
			break
		}
	}
	ok(c, out)
}

func (a *API) listChannels(_ context.Context, c *app.RequestContext) { a.channels(c, "") }

func (a *API) searchChannels(_ context.Context, c *app.RequestContext) {
	a.channels(c, strings.TrimSpace(c.Query("keyword")))
}

func (a *API) getChannel(_ context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	ch, err := a.d.Store.Channel(id)
	if err != nil {
		fail(c, "not found")
		return
	}
	ok(c, channelView(*ch))
}

// validateChannel checks what would break routing: a known type and
// well-formed JSON in model_mapping and config.
func (a *API) validateChannel(ch *storage.Channel) string {
	if a.d.KnownType != nil && !a.d.KnownType(ch.Type) {
		return "unknown or unsupported channel type " + strconv.Itoa(ch.Type)
	}
	for name, v := range map[string]string{"model_mapping": ch.ModelMapping, "config": ch.Config,
		"param_override": ch.ParamOverride, "header_override": ch.HeaderOverride} {
		if strings.TrimSpace(v) == "" {
			continue
		}
		var m map[string]any
		if err := sonic.UnmarshalString(v, &m); err != nil {
			return name + " must be a JSON object: " + err.Error()
		}
		if name == "header_override" {
			for k, hv := range m {
				if _, isString := hv.(string); !isString || strings.ContainsAny(k, " :\r\n") {
					return "header_override maps header names to string values"
				}
			}
		}
	}
	if ch.Weight < 0 {
		return "weight cannot be negative"
	}
	if ch.MultiKeyMode != "" && ch.MultiKeyMode != "polling" && ch.MultiKeyMode != "random" {
		return "multi_key_mode is polling, random or empty"
	}
	if ch.FirstByteTimeout < 0 {
		return "first_byte_timeout cannot be negative"
	}
	ch.Models = normList(ch.Models)
	ch.Group = normList(ch.Group)
	if ch.Group == "" {
		ch.Group = "default"
	}
	return ""
}

func normList(s string) string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return strings.Join(out, ",")
}

// createChannels adds a channel, or one channel per line of key (batch
// add).
func (a *API) createChannels(ctx context.Context, c *app.RequestContext) {
	var in storage.Channel
	if !bind(c, &in) {
		return
	}
	if msg := a.validateChannel(&in); msg != "" {
		fail(c, msg)
		return
	}
	keys := storage.SplitKeys(in.Key)
	if len(keys) == 0 {
		fail(c, "key is required")
		return
	}
	cmd := &storage.CreateChannels{}
	if in.MultiKeyMode != "" { // one channel that spreads over the keys
		keys = []string{strings.TrimSpace(in.Key)}
	}
	for _, k := range keys {
		ch := in
		ch.ID, ch.Key, ch.CreatedTime, ch.UsedQuota, ch.Balance = 0, k, now(), 0, 0
		if ch.Status == 0 {
			ch.Status = storage.ChannelEnabled
		}
		cmd.Channels = append(cmd.Channels, ch)
	}
	res, done := a.propose(ctx, c, cmd)
	if !done {
		return
	}
	// The created channel (one key) or channels (several), with their ids.
	var created []any
	for _, id := range res.IDs {
		if ch, err := a.d.Store.Channel(id); err == nil {
			created = append(created, channelView(*ch))
		}
	}
	if len(created) == 1 {
		ok(c, created[0])
		return
	}
	ok(c, created)
}

func (a *API) updateChannel(ctx context.Context, c *app.RequestContext) {
	var in storage.Channel
	if !bind(c, &in) {
		return
	}
	cur, err := a.d.Store.Channel(in.ID)
	if err != nil {
		fail(c, "not found")
		return
	}
	if strings.TrimSpace(in.Key) == "" {
		in.Key = cur.Key // the UI never sees keys; an empty key means "unchanged"
	}
	if msg := a.validateChannel(&in); msg != "" {
		fail(c, msg)
		return
	}
	if in.Status == 0 {
		in.Status = cur.Status
	}
	if _, done := a.propose(ctx, c, &storage.UpdateChannel{Channel: in}); !done {
		return
	}
	ch, _ := a.d.Store.Channel(in.ID)
	if ch == nil {
		ok(c, nil)
		return
	}
	ok(c, channelView(*ch))
}

func (a *API) deleteChannel(ctx context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	if _, done := a.propose(ctx, c, &storage.DeleteChannels{IDs: []int64{id}}); !done {
		return
	}
	ok(c, nil)
}

func (a *API) deleteDisabledChannels(ctx context.Context, c *app.RequestContext) {
	res, done := a.propose(ctx, c, &storage.DeleteChannels{Disabled: true})
	if !done {
		return
	}
	ok(c, len(res.IDs))
}

// testChannel runs a synchronous channel test and records the response
// time, answering One API's {success, message, time, modelName}.
func (a *API) testChannel(ctx context.Context, c *app.RequestContext) {
	id, good := paramID(c)
	if !good {
		return
	}
	if a.d.Tester == nil {
		fail(c, "channel tests are not available")
		return
	}
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	took, model, err := a.d.Tester.TestChannel(tctx, id, c.Query("model"))
	secs := took.Seconds()
	if err != nil {
		b, _ := sonic.Marshal(map[string]any{"success": false, "message": err.Error(), "time": secs, "modelName": model})
		c.Data(200, "application/json", b)
		return
	}
	if _, done := a.propose(ctx, c, &storage.ChannelTested{ID: id, ResponseTime: int(took.Milliseconds()), Time: now()}); !done {
		return
	}
	b, _ := sonic.Marshal(map[string]any{"success": true, "message": "", "time": secs, "modelName": model})
	c.Data(200, "application/json", b)
}
