package transport

import (
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/cloudwego/hertz/pkg/app"

	"switchyard/actors"
)

// apiKey is a parsed client key: the token key without "sk-" and an
// optional channel pin (sk-KEY-CHANNELID, admins only).
type apiKey struct {
	key       string
	channelID int64
}

// extractKey reads the key from Authorization (Bearer or bare), and on the
// native routes from x-api-key / x-goog-api-key / ?key=.
func extractKey(c *app.RequestContext) (apiKey, bool) {
	raw := c.Request.Header.Peek("Authorization")
	raw = bytes.TrimSpace(raw)
	if len(raw) > 7 && strings.EqualFold(string(raw[:7]), "bearer ") {
		raw = bytes.TrimSpace(raw[7:])
	}
	if len(raw) == 0 {
		raw = c.Request.Header.Peek("x-api-key")
	}
	if len(raw) == 0 {
		raw = c.Request.Header.Peek("x-goog-api-key")
	}
	if len(raw) == 0 && bytes.HasPrefix(c.Request.URI().Path(), []byte("/v1beta/")) {
		raw = c.QueryArgs().Peek("key") // Gemini clients may send ?key=
	}
	if len(raw) == 0 {
		return apiKey{}, false
	}
	s := string(raw)
	s = strings.TrimPrefix(s, "sk-")
	k := apiKey{key: s}
	if i := strings.IndexByte(s, '-'); i > 0 {
		k.key = s[:i]
		id, err := strconv.ParseInt(s[i+1:], 10, 64)
		if err != nil || id <= 0 {
			return apiKey{key: s}, true // not a pin: looked up whole, and fails
		}
		k.channelID = id
	}
	return k, true
}

// clientAddr is the peer address used for token IP allow-lists. It is the
// TCP peer, never X-Forwarded-For or X-Real-IP: those are set by the
// client and would let anyone pass an allow-list. (Trusting headers from a
// configured reverse proxy is future work.)
func clientAddr(c *app.RequestContext) netip.Addr {
	ra := c.RemoteAddr()
	if tcp, ok := ra.(*net.TCPAddr); ok {
		a, _ := netip.AddrFromSlice(tcp.IP)
		return a.Unmap()
	}
	ap, err := netip.ParseAddrPort(ra.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// authenticate resolves the key to a token and its owner.
func (s *Server) authenticate(c *app.RequestContext) (*actors.TokenInfo, *actors.UserInfo, apiKey, bool) {
	k, ok := extractKey(c)
	if !ok {
		return nil, nil, k, false
	}
	t, ok := s.cat.TokenByKey(k.key)
	if !ok {
		return nil, nil, k, false
	}
	u, _ := s.cat.User(t.UserID)
	return t, u, k, true
}
