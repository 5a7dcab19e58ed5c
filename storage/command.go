package storage

import (
	"context"
	"errors"
	"fmt"

	"github.com/bytedance/sonic"
)

// CmdType identifies a command on the wire. Values are stable forever: a
// type is never reused for a different command.
type CmdType byte

// Command types.
const (
	CmdBootstrap        CmdType = 1
	CmdCreateUser       CmdType = 2
	CmdUpdateUser       CmdType = 3
	CmdAddQuota         CmdType = 4
	CmdCreateToken      CmdType = 5
	CmdUpdateToken      CmdType = 6
	CmdDeleteToken      CmdType = 7
	CmdCreateChannels   CmdType = 8
	CmdUpdateChannel    CmdType = 9
	CmdDeleteChannels   CmdType = 10
	CmdSetChannelStatus CmdType = 11
	CmdChannelTested    CmdType = 12
	CmdSetOptions       CmdType = 13
	CmdUsageBatch       CmdType = 14
	CmdLeaseRequest     CmdType = 15
	CmdLeaseRelease     CmdType = 16
	CmdExpireLeases     CmdType = 17
	CmdAppendLogs       CmdType = 18
	CmdDeleteLogs       CmdType = 19
	CmdBarrier          CmdType = 20
	CmdSetNode          CmdType = 21
	CmdRemoveNode       CmdType = 22
	CmdChannelBalance   CmdType = 23
	CmdSetChannelKey    CmdType = 24
)

// flagIgnorable marks a command that an older node may skip when it does
// not know its type (for rolling upgrades). Commands without it fail loudly.
const flagIgnorable = 1

// flagBinary marks a payload in the command's binary form instead of JSON
// (usage batches, the bulk of the log).
const flagBinary = 2

// Command is one typed change to the replicated state. Commands are built
// by proposers (who choose times and validate input) and applied by the
// state machine on every node. A command value must not be modified after
// it has been proposed.
type Command interface {
	Type() CmdType
}

// Result is the outcome of applying one command.
type Result struct {
	// Index is the Raft log index the command was committed at.
	Index uint64
	// ID is the id created by the command, when it creates one record.
	ID int64
	// IDs lists the ids created by a command that creates several.
	IDs []int64
	// Err is a business error (for example "username taken"); the command
	// was committed but changed nothing.
	Err error
}

// Proposer commits commands through consensus. Implemented by package
// cluster; safe for concurrent use.
type Proposer interface {
	// Propose commits cmd and returns once this node's state machine has
	// applied it (read-your-writes), with the command's result. An error
	// means the command may or may not have been committed (for example a
	// timeout or a lost leader).
	Propose(ctx context.Context, cmd Command) (Result, error)
}

// Business errors returned in Result.Err. Their text is shown to admins.
var (
	ErrNotFound     = errors.New("record not found")
	ErrNameTaken    = errors.New("username is already taken")
	ErrUnknownCmd   = errors.New("unknown command type")
	ErrBadCommand   = errors.New("malformed command")
	ErrBootstrapped = errors.New("already bootstrapped")
)

// Encode serialises a command for the Raft log: a type byte, a flag byte
// and a JSON payload.
func Encode(c Command) ([]byte, error) {
	if ub, ok := c.(*UsageBatch); ok {
		return encodeUsageBatch(ub, []byte{byte(CmdUsageBatch), flagBinary}), nil
	}
	payload, err := sonic.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode command %d: %w", c.Type(), err)
	}
	out := make([]byte, 0, len(payload)+2)
	out = append(out, byte(c.Type()), 0)
	return append(out, payload...), nil
}

// Decode parses bytes produced by Encode. A command of unknown type yields
// (nil, nil) when it is flagged ignorable and ErrUnknownCmd otherwise.
func Decode(b []byte) (Command, error) {
	if len(b) < 2 {
		return nil, ErrBadCommand
	}
	if b[1]&flagBinary != 0 {
		if CmdType(b[0]) != CmdUsageBatch {
			return nil, fmt.Errorf("%w: type %d has no binary form", ErrBadCommand, b[0])
		}
		c, err := decodeUsageBatch(b[2:])
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadCommand, err)
		}
		return c, nil
	}
	c := newCommand(CmdType(b[0]))
	if c == nil {
		if b[1]&flagIgnorable != 0 {
			return nil, nil
		}
		return nil, fmt.Errorf("%w %d", ErrUnknownCmd, b[0])
	}
	if err := sonic.Unmarshal(b[2:], c); err != nil {
		return nil, fmt.Errorf("%w: type %d: %v", ErrBadCommand, b[0], err)
	}
	return c, nil
}

func newCommand(t CmdType) Command {
	switch t {
	case CmdBootstrap:
		return &Bootstrap{}
	case CmdCreateUser:
		return &CreateUser{}
	case CmdUpdateUser:
		return &UpdateUser{}
	case CmdAddQuota:
		return &AddQuota{}
	case CmdCreateToken:
		return &CreateToken{}
	case CmdUpdateToken:
		return &UpdateToken{}
	case CmdDeleteToken:
		return &DeleteToken{}
	case CmdCreateChannels:
		return &CreateChannels{}
	case CmdUpdateChannel:
		return &UpdateChannel{}
	case CmdDeleteChannels:
		return &DeleteChannels{}
	case CmdSetChannelStatus:
		return &SetChannelStatus{}
	case CmdChannelTested:
		return &ChannelTested{}
	case CmdSetOptions:
		return &SetOptions{}
	case CmdUsageBatch:
		return &UsageBatch{}
	case CmdLeaseRequest:
		return &LeaseRequest{}
	case CmdLeaseRelease:
		return &LeaseRelease{}
	case CmdExpireLeases:
		return &ExpireLeases{}
	case CmdAppendLogs:
		return &AppendLogs{}
	case CmdDeleteLogs:
		return &DeleteLogs{}
	case CmdBarrier:
		return &Barrier{}
	case CmdSetNode:
		return &SetNode{}
	case CmdChannelBalance:
		return &ChannelBalance{}
	case CmdSetChannelKey:
		return &SetChannelKey{}
	case CmdRemoveNode:
		return &RemoveNode{}
	}
	return nil
}

// Bootstrap initialises an empty state: the root user and initial options.
// Applied once; later ones fail with ErrBootstrapped.
type Bootstrap struct {
	Root    User              `json:"root"`
	Options map[string]string `json:"options"`
}

// CreateUser adds a user. User.ID is ignored (assigned by the state
// machine); Password must already be a bcrypt hash.
type CreateUser struct {
	User User `json:"user"`
}

// UpdateUser changes the fields that are set. Quota, when set, replaces the
// balance (One API's admin edit) and writes a manage log.
type UpdateUser struct {
	ID          int64   `json:"id"`
	Username    *string `json:"username,omitempty"`
	Password    *string `json:"password,omitempty"`
	DisplayName *string `json:"display_name,omitempty"`
	Role        *int    `json:"role,omitempty"`
	Status      *int    `json:"status,omitempty"`
	Email       *string `json:"email,omitempty"`
	AccessToken *string `json:"access_token,omitempty"`
	Quota       *int64  `json:"quota,omitempty"`
	Group       *string `json:"group,omitempty"`
	Time        int64   `json:"time"`
}

// AddQuota credits (or, negative, debits) a user's balance and writes a log
// of LogType (top-up or manage). The balance never goes below zero.
type AddQuota struct {
	UserID  int64  `json:"user_id"`
	Delta   int64  `json:"delta"`
	LogType int    `json:"log_type"`
	Content string `json:"content"`
	Time    int64  `json:"time"`
}

// CreateToken adds an API key. Token.ID is assigned by the state machine.
type CreateToken struct {
	Token Token `json:"token"`
}

// UpdateToken replaces a token's editable fields (everything but id, user,
// key, created time and used quota).
type UpdateToken struct {
	Token Token `json:"token"`
}

// DeleteToken removes a token (only if it belongs to UserID, unless UserID
// is 0).
type DeleteToken struct {
	ID     int64 `json:"id"`
	UserID int64 `json:"user_id"`
}

// CreateChannels adds channels (one per key for batch add).
type CreateChannels struct {
	Channels []Channel `json:"channels"`
}

// UpdateChannel replaces a channel's configuration, keeping its counters
// (used quota, balance, test results).
type UpdateChannel struct {
	Channel Channel `json:"channel"`
}

// DeleteChannels removes the listed channels; with Disabled set it removes
// every channel that is not enabled instead.
type DeleteChannels struct {
	IDs      []int64 `json:"ids"`
	Disabled bool    `json:"disabled"`
}

// SetChannelStatus enables or disables a channel; Reason is logged. With
// OnlyFrom set, the change applies only to a channel in that status (the
// gateway disables only enabled channels and re-enables only channels it
// disabled itself, never one an administrator disabled).
type SetChannelStatus struct {
	ID       int64  `json:"id"`
	Status   int    `json:"status"`
	Reason   string `json:"reason"`
	Time     int64  `json:"time"`
	OnlyFrom int    `json:"only_from,omitempty"`
}

// ChannelTested records a channel test: response time and test time.
type ChannelTested struct {
	ID           int64 `json:"id"`
	ResponseTime int   `json:"response_time"`
	Time         int64 `json:"time"`
}

// SetChannelKey disables (or re-enables) one key of a multi-key channel.
// Disabling the last enabled key disables the channel automatically
// (status 3, if it was enabled); Reason is logged.
type SetChannelKey struct {
	ID       int64  `json:"id"`
	Index    int    `json:"index"`
	Disabled bool   `json:"disabled"`
	Reason   string `json:"reason"`
	Time     int64  `json:"time"`
}

// ChannelBalance records a channel's upstream balance (in the provider's
// currency, as queried) and when it was queried.
type ChannelBalance struct {
	ID      int64   `json:"id"`
	Balance float64 `json:"balance"`
	Time    int64   `json:"time"`
}

// SetOptions sets run-time options (values are strings, as in One API).
type SetOptions struct {
	Options map[string]string `json:"options"`
}

// UsageRecord is one settled request, as shipped from a node's outbox.
type UsageRecord struct {
	Seq              uint64 `json:"seq"` // the node's close sequence
	RequestID        string `json:"request_id"`
	UserID           int64  `json:"user_id"`
	TokenID          int64  `json:"token_id"`
	TokenName        string `json:"token_name"`
	ChannelID        int64  `json:"channel_id"`
	Model            string `json:"model"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	Quota            int64  `json:"quota"`
	ElapsedMs        int64  `json:"elapsed_ms"`
	IsStream         bool   `json:"is_stream"`
	Time             int64  `json:"time"`
	Content          string `json:"content"`
	// Abandoned marks an Open without a Close found after a crash: nothing
	// is charged, a system log records it.
	Abandoned bool `json:"abandoned,omitempty"`
}

// UsageBatch applies a run of a node's settled requests. The state machine
// remembers the highest Seq applied per node and skips records at or below
// it, so a batch re-shipped after a timeout or crash is applied once.
type UsageBatch struct {
	Node    string        `json:"node"`
	Records []UsageRecord `json:"records"`
}

// LeaseRequest asks for (more of) a user's and, for a limited token, the
// token's balance to be held by Node until ExpiresAt. The state machine
// grants min(want, available) and extends the expiry of existing leases.
type LeaseRequest struct {
	Node      string `json:"node"`
	UserID    int64  `json:"user_id"`
	TokenID   int64  `json:"token_id"` // 0: user lease only
	WantUser  int64  `json:"want_user"`
	WantToken int64  `json:"want_token"`
	ExpiresAt int64  `json:"expires_at"` // Unix ms
	// Nodes is the number of nodes that may want to serve the account;
	// above 1 a grant is capped at a fair share of what is free (1/Nodes,
	// but at least Need), so that small balances stay usable from every
	// node. 0 or 1: no cap.
	Nodes int `json:"nodes,omitempty"`
	// Need is the reservation that prompted the request; a share is
	// rounded up to whole multiples of it.
	Need int64 `json:"need,omitempty"`
}

// LeaseRelease returns a node's leases on an account.
type LeaseRelease struct {
	Node    string `json:"node"`
	UserID  int64  `json:"user_id"`
	TokenID int64  `json:"token_id"`
}

// ExpireLeases drops every lease whose expiry is before Now (Unix ms).
type ExpireLeases struct {
	Now int64 `json:"now"`
}

// AppendLogs writes log rows (manage, system, test). Ids are assigned.
type AppendLogs struct {
	Logs []Log `json:"logs"`
}

// DeleteLogs removes logs created before Before (Unix seconds).
type DeleteLogs struct {
	Before int64 `json:"before"`
}

// Barrier changes nothing. A node proposes one at startup: once it is
// applied, every entry before it is applied too, so the node's state has
// caught up with the log.
type Barrier struct{}

// SetNode records (or updates) a cluster member's addresses. Each node
// proposes its own at startup.
type SetNode struct {
	Node NodeInfo `json:"node"`
}

// RemoveNode forgets a member's addresses (after it left the Raft group).
type RemoveNode struct {
	ID string `json:"id"`
}

// Type implementations.
func (*Bootstrap) Type() CmdType        { return CmdBootstrap }
func (*CreateUser) Type() CmdType       { return CmdCreateUser }
func (*UpdateUser) Type() CmdType       { return CmdUpdateUser }
func (*AddQuota) Type() CmdType         { return CmdAddQuota }
func (*CreateToken) Type() CmdType      { return CmdCreateToken }
func (*UpdateToken) Type() CmdType      { return CmdUpdateToken }
func (*DeleteToken) Type() CmdType      { return CmdDeleteToken }
func (*CreateChannels) Type() CmdType   { return CmdCreateChannels }
func (*UpdateChannel) Type() CmdType    { return CmdUpdateChannel }
func (*DeleteChannels) Type() CmdType   { return CmdDeleteChannels }
func (*SetChannelStatus) Type() CmdType { return CmdSetChannelStatus }
func (*ChannelTested) Type() CmdType    { return CmdChannelTested }
func (*SetOptions) Type() CmdType       { return CmdSetOptions }
func (*UsageBatch) Type() CmdType       { return CmdUsageBatch }
func (*LeaseRequest) Type() CmdType     { return CmdLeaseRequest }
func (*LeaseRelease) Type() CmdType     { return CmdLeaseRelease }
func (*ExpireLeases) Type() CmdType     { return CmdExpireLeases }
func (*AppendLogs) Type() CmdType       { return CmdAppendLogs }
func (*DeleteLogs) Type() CmdType       { return CmdDeleteLogs }
func (*Barrier) Type() CmdType          { return CmdBarrier }
func (*SetNode) Type() CmdType          { return CmdSetNode }
func (*RemoveNode) Type() CmdType       { return CmdRemoveNode }
func (*ChannelBalance) Type() CmdType   { return CmdChannelBalance }
func (*SetChannelKey) Type() CmdType    { return CmdSetChannelKey }

// ErrUsageGap refuses a usage batch whose records skip sequences.
var ErrUsageGap = errors.New("usage batch does not continue the node's sequence")

// ErrResultUnknown means the command was applied but this node no longer
// knows its result (it was applied long ago, or arrived in a snapshot).
var ErrResultUnknown = errors.New("command applied; its result is no longer known")

// ErrDuplicate reports a unique key (API key, access token) already in use.
var ErrDuplicate = errors.New("duplicate key")
