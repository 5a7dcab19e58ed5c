package storage

// Records are stored as JSON (sonic) under the keys of keys.go. Field names
// follow One API's JSON so that the admin API and an importer can use them
// directly.

// Roles, as One API numbers them.
const (
	RoleGuest  = 0
	RoleCommon = 1
	RoleAdmin  = 10
	RoleRoot   = 100
)

// User statuses.
const (
	UserEnabled  = 1
	UserDisabled = 2
	UserDeleted  = 3
)

// User is an account. Quota is the wallet balance in quota units
// (500,000 = 1 USD); UsedQuota is lifetime consumption.
type User struct {
	ID           int64  `json:"id"`
	Username     string `json:"username"`
	Password     string `json:"password,omitempty"` // bcrypt hash; never sent to clients
	DisplayName  string `json:"display_name"`
	Role         int    `json:"role"`
	Status       int    `json:"status"`
	Email        string `json:"email"`
	AccessToken  string `json:"access_token,omitempty"`
	Quota        int64  `json:"quota"`
	UsedQuota    int64  `json:"used_quota"`
	RequestCount int64  `json:"request_count"`
	Group        string `json:"group"`
	AffCode      string `json:"aff_code"`
	InviterID    int64  `json:"inviter_id"`
	CreatedTime  int64  `json:"created_time"`
}

// Token statuses.
const (
	TokenEnabled   = 1
	TokenDisabled  = 2
	TokenExpired   = 3
	TokenExhausted = 4
)

// Token is an API key. Key is the 48-character secret without the "sk-"
// prefix. RemainQuota is only enforced when UnlimitedQuota is false.
// ExpiredTime is Unix seconds, -1 for never.
type Token struct {
	ID             int64  `json:"id"`
	UserID         int64  `json:"user_id"`
	Key            string `json:"key"`
	Status         int    `json:"status"`
	Name           string `json:"name"`
	CreatedTime    int64  `json:"created_time"`
	AccessedTime   int64  `json:"accessed_time"`
	ExpiredTime    int64  `json:"expired_time"`
	RemainQuota    int64  `json:"remain_quota"`
	UnlimitedQuota bool   `json:"unlimited_quota"`
	UsedQuota      int64  `json:"used_quota"`
	Models         string `json:"models"` // comma list; empty = any model
	Subnet         string `json:"subnet"` // comma list of IPs/CIDRs; empty = any
	// Rate limits of the token (0: none): requests and tokens (prompt +
	// completion) per minute, and requests in flight at once.
	RPMLimit    int `json:"rpm_limit"`
	TPMLimit    int `json:"tpm_limit"`
	MaxParallel int `json:"max_parallel"`
	// Group, when set, replaces the owner's group for requests with this
	// token (routing and group ratio).
	Group string `json:"group"`
	// ResponseCache opts the token in to the exact-match response cache.
	ResponseCache bool `json:"response_cache"`
}

// Channel statuses.
const (
	ChannelEnabled      = 1
	ChannelDisabled     = 2 // manually
	ChannelAutoDisabled = 3
)

// Channel is an upstream account.
type Channel struct {
	ID                 int64   `json:"id"`
	Type               int     `json:"type"`
	Key                string  `json:"key"`
	Status             int     `json:"status"`
	Name               string  `json:"name"`
	Weight             int     `json:"weight"`
	CreatedTime        int64   `json:"created_time"`
	TestTime           int64   `json:"test_time"`
	ResponseTime       int     `json:"response_time"` // ms
	BaseURL            string  `json:"base_url"`
	Other              string  `json:"other"`
	Balance            float64 `json:"balance"`
	BalanceUpdatedTime int64   `json:"balance_updated_time"`
	Models             string  `json:"models"` // comma list
	Group              string  `json:"group"`  // comma list
	UsedQuota          int64   `json:"used_quota"`
	ModelMapping       string  `json:"model_mapping"` // JSON object
	Priority           int64   `json:"priority"`
	Config             string  `json:"config"` // JSON object
	SystemPrompt       string  `json:"system_prompt"`
	// ParamOverride is a JSON object whose members replace (or add) the
	// request body's top-level members on this channel; HeaderOverride a
	// JSON object of header → value added to (or replacing) the upstream
	// request's headers (new-api's param_override / header_override).
	ParamOverride  string `json:"param_override"`
	HeaderOverride string `json:"header_override"`
	// FirstByteTimeout is how many seconds the upstream may take to start
	// answering before the request is tried on another channel (0: no
	// limit but the relay's own).
	FirstByteTimeout float64 `json:"first_byte_timeout"`
	// MultiKeyMode makes a channel whose key has several lines one channel
	// that spreads its requests over the keys: "polling" (round robin) or
	// "random". Empty: one key (a multi-line key creates one channel per
	// line).
	MultiKeyMode string `json:"multi_key_mode"`
	// DisabledKeys lists the (0-based) lines of a multi-key channel's key
	// that were disabled one by one (comma-separated).
	DisabledKeys string `json:"disabled_keys"`
}

// Log types, as One API numbers them.
const (
	LogTopup   = 1
	LogConsume = 2
	LogManage  = 3
	LogSystem  = 4
	LogTest    = 5
)

// Log is one row of the request/billing/audit log.
type Log struct {
	ID               int64  `json:"id"`
	UserID           int64  `json:"user_id"`
	CreatedAt        int64  `json:"created_at"`
	Type             int    `json:"type"`
	Content          string `json:"content"`
	Username         string `json:"username"`
	TokenName        string `json:"token_name"`
	TokenID          int64  `json:"token_id"`
	ModelName        string `json:"model_name"`
	Quota            int64  `json:"quota"`
	PromptTokens     int    `json:"prompt_tokens"`
	CompletionTokens int    `json:"completion_tokens"`
	ChannelID        int64  `json:"channel"`
	RequestID        string `json:"request_id"`
	ElapsedTime      int64  `json:"elapsed_time"` // ms
	IsStream         bool   `json:"is_stream"`
	Node             string `json:"node,omitempty"`
}

// Lease is the part of an account's balance that one node may spend
// without asking the cluster. Remaining shrinks as the node's usage is
// applied; ExpiresAt (Unix ms, stamped by the proposer) bounds how long a
// vanished node can hold it.
type Lease struct {
	Kind      LeaseKind `json:"kind"`
	ID        int64     `json:"id"`
	Node      string    `json:"node"`
	Remaining int64     `json:"remaining"`
	ExpiresAt int64     `json:"expires_at"`
}

// DayAggregate sums one user's usage of one model on one UTC day.
type DayAggregate struct {
	Requests         int64 `json:"requests"`
	PromptTokens     int64 `json:"prompt_tokens"`
	CompletionTokens int64 `json:"completion_tokens"`
	Quota            int64 `json:"quota"`
}

// NodeInfo is how to reach one cluster member (replicated, so that every
// node can list the cluster and a joining node can find the NATS routes).
type NodeInfo struct {
	ID       string `json:"id"`
	HTTPAddr string `json:"http_addr"`
	RaftAddr string `json:"raft_addr"`
	NATSAddr string `json:"nats_addr"`
	// UpdatedAt is when the node last announced itself (Unix seconds).
	UpdatedAt int64 `json:"updated_at"`
}
