package storage

import (
	"encoding/binary"
	"fmt"
)

// Log rows are written once per request and read only by the admin API,
// so they are stored in a compact binary form (a version byte, varints and
// length-prefixed strings) rather than JSON: a third of the bytes to flush
// and compact, which is most of the storage cost of logging.

const logRowV1 = 1

func appendLogRow(b []byte, l *Log) []byte {
	b = append(b, logRowV1)
	b = binary.AppendVarint(b, l.ID)
	b = binary.AppendVarint(b, l.UserID)
	b = binary.AppendVarint(b, l.CreatedAt)
	b = binary.AppendVarint(b, int64(l.Type))
	b = appendString(b, l.Content)
	b = appendString(b, l.Username)
	b = appendString(b, l.TokenName)
	b = binary.AppendVarint(b, l.TokenID)
	b = appendString(b, l.ModelName)
	b = binary.AppendVarint(b, l.Quota)
	b = binary.AppendVarint(b, int64(l.PromptTokens))
	b = binary.AppendVarint(b, int64(l.CompletionTokens))
	b = binary.AppendVarint(b, l.ChannelID)
	b = appendString(b, l.RequestID)
	b = binary.AppendVarint(b, l.ElapsedTime)
	var flags byte
	if l.IsStream {
		flags |= 1
	}
	b = append(b, flags)
	return appendString(b, l.Node)
}

func decodeLogRow(b []byte, l *Log) error {
	d := decoder{b: b}
	if v := d.byte(); v != logRowV1 {
		if d.err != nil {
			return d.err
		}
		return fmt.Errorf("log row version %d unknown", v)
	}
	l.ID = d.varint()
	l.UserID = d.varint()
	l.CreatedAt = d.varint()
	l.Type = int(d.varint())
	l.Content = d.string()
	l.Username = d.string()
	l.TokenName = d.string()
	l.TokenID = d.varint()
	l.ModelName = d.string()
	l.Quota = d.varint()
	l.PromptTokens = int(d.varint())
	l.CompletionTokens = int(d.varint())
	l.ChannelID = d.varint()
	l.RequestID = d.string()
	l.ElapsedTime = d.varint()
	l.IsStream = d.byte()&1 != 0
	l.Node = d.string()
	if d.err == nil && len(d.b) != 0 {
		return fmt.Errorf("%d trailing bytes after a log row", len(d.b))
	}
	return d.err
}
