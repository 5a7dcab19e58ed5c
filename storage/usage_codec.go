package storage

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/bytedance/sonic"
)

// Usage records are the bulk of what the gateway writes (twice to the
// outbox, once into the Raft log), so they get a compact binary form
// instead of JSON: varints and length-prefixed strings, led by a version
// byte so that fields can be added later.

const usageRecordV1 = 1

var errShortRecord = errors.New("truncated usage record")

// AppendBinary appends the binary form of r to b.
func (r *UsageRecord) AppendBinary(b []byte) []byte {
	b = append(b, usageRecordV1)
	b = binary.AppendUvarint(b, r.Seq)
	b = appendString(b, r.RequestID)
	b = binary.AppendVarint(b, r.UserID)
	b = binary.AppendVarint(b, r.TokenID)
	b = appendString(b, r.TokenName)
	b = binary.AppendVarint(b, r.ChannelID)
	b = appendString(b, r.Model)
	b = binary.AppendVarint(b, int64(r.PromptTokens))
	b = binary.AppendVarint(b, int64(r.CompletionTokens))
	b = binary.AppendVarint(b, r.Quota)
	b = binary.AppendVarint(b, r.ElapsedMs)
	b = binary.AppendVarint(b, r.Time)
	b = appendString(b, r.Content)
	var flags byte
	if r.IsStream {
		flags |= 1
	}
	if r.Abandoned {
		flags |= 2
	}
	return append(b, flags)
}

// decodeBinary reads one record from b and returns the rest.
func (r *UsageRecord) decodeBinary(b []byte) ([]byte, error) {
	d := decoder{b: b}
	if v := d.byte(); v != usageRecordV1 {
		if d.err != nil {
			return nil, d.err
		}
		return nil, fmt.Errorf("usage record version %d unknown", v)
	}
	r.Seq = d.uvarint()
	r.RequestID = d.string()
	r.UserID = d.varint()
	r.TokenID = d.varint()
	r.TokenName = d.string()
	r.ChannelID = d.varint()
	r.Model = d.string()
	r.PromptTokens = int(d.varint())
	r.CompletionTokens = int(d.varint())
	r.Quota = d.varint()
	r.ElapsedMs = d.varint()
	r.Time = d.varint()
	r.Content = d.string()
	flags := d.byte()
	r.IsStream, r.Abandoned = flags&1 != 0, flags&2 != 0
	return d.b, d.err
}

// UnmarshalBinary decodes exactly one record.
func (r *UsageRecord) UnmarshalBinary(b []byte) error {
	rest, err := r.decodeBinary(b)
	if err == nil && len(rest) != 0 {
		err = fmt.Errorf("%d trailing bytes after a usage record", len(rest))
	}
	return err
}

// encodeUsageBatch is the payload of a UsageBatch command: the node, the
// record count, then the records.
func encodeUsageBatch(c *UsageBatch, b []byte) []byte {
	b = appendString(b, c.Node)
	b = binary.AppendUvarint(b, uint64(len(c.Records)))
	for i := range c.Records {
		b = c.Records[i].AppendBinary(b)
	}
	return b
}

func decodeUsageBatch(b []byte) (*UsageBatch, error) {
	d := decoder{b: b}
	c := &UsageBatch{Node: d.string()}
	n := d.uvarint()
	if d.err != nil {
		return nil, d.err
	}
	if n > uint64(len(d.b)) { // every record takes at least one byte
		return nil, errShortRecord
	}
	c.Records = make([]UsageRecord, n)
	rest := d.b
	for i := range c.Records {
		var err error
		if rest, err = c.Records[i].decodeBinary(rest); err != nil {
			return nil, err
		}
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%d trailing bytes after a usage batch", len(rest))
	}
	return c, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads varints and strings, remembering the first error.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errShortRecord
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) < 1 {
		d.fail()
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.fail()
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

const openRecordV1 = 1

// AppendBinary appends the binary form of r to b (same conventions as a
// usage record; the leading version byte is never '{', which tells it
// apart from the JSON that older versions wrote).
func (r *OpenRecord) AppendBinary(b []byte) []byte {
	b = append(b, openRecordV1)
	b = appendString(b, r.RequestID)
	b = binary.AppendVarint(b, r.UserID)
	b = binary.AppendVarint(b, r.TokenID)
	b = appendString(b, r.TokenName)
	b = binary.AppendVarint(b, r.ChannelID)
	b = appendString(b, r.Model)
	b = binary.AppendVarint(b, r.Estimate)
	b = binary.AppendVarint(b, r.Time)
	var flags byte
	if r.IsStream {
		flags |= 1
	}
	return append(b, flags)
}

// UnmarshalBinary decodes exactly one Open record, binary or JSON.
func (r *OpenRecord) UnmarshalBinary(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		return sonic.Unmarshal(b, r)
	}
	d := decoder{b: b}
	if v := d.byte(); v != openRecordV1 {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("open record version %d unknown", v)
	}
	r.RequestID = d.string()
	r.UserID = d.varint()
	r.TokenID = d.varint()
	r.TokenName = d.string()
	r.ChannelID = d.varint()
	r.Model = d.string()
	r.Estimate = d.varint()
	r.Time = d.varint()
	r.IsStream = d.byte()&1 != 0
	if d.err == nil && len(d.b) != 0 {
		return fmt.Errorf("%d trailing bytes after an open record", len(d.b))
	}
	return d.err
}
