package bedrock

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchyard/adaptors"
	"switchyard/adaptors/bedrock/bedrocktest"
)

// rawFrame encodes a message from a raw header block, so tests can use
// every header value type.
func rawFrame(headers, payload []byte) []byte {
	total := 12 + len(headers) + len(payload) + 4
	b := binary.BigEndian.AppendUint32(nil, uint32(total))
	b = binary.BigEndian.AppendUint32(b, uint32(len(headers)))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	b = append(b, headers...)
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func header(name string, typ byte, value []byte) []byte {
	b := append([]byte{byte(len(name))}, name...)
	b = append(b, typ)
	return append(b, value...)
}

func strValue(s string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, uint16(len(s))), s...)
}

// TestFrameReaderHeaderTypes: every header value type is skipped by its
// size, and the string headers around them are still read.
func TestFrameReaderHeaderTypes(t *testing.T) {
	var h []byte
	h = append(h, header(":message-type", hvString, strValue("event"))...)
	h = append(h, header("t", hvTrue, nil)...)
	h = append(h, header("f", hvFalse, nil)...)
	h = append(h, header("b", hvByte, []byte{0x7f})...)
	h = append(h, header("s", hvInt16, []byte{1, 2})...)
	h = append(h, header("i", hvInt32, []byte{1, 2, 3, 4})...)
	h = append(h, header("l", hvInt64, []byte{1, 2, 3, 4, 5, 6, 7, 8})...)
	h = append(h, header("y", hvBytes, strValue("\x00\x01:event-type"))...)
	h = append(h, header(":date", hvTimestamp, []byte{0, 0, 1, 0x45, 0x2c, 0x7c, 0x3a, 0x58})...)
	h = append(h, header("u", hvUUID, bytes.Repeat([]byte{0xab}, 16))...)
	h = append(h, header(":event-type", hvString, strValue("messageStart"))...)
	h = append(h, header(":content-type", hvString, strValue("application/json"))...)
	msg := rawFrame(h, []byte(`{"role":"assistant"}`))

	fr := newFrameReader(bytes.NewReader(append(msg, msg...)))
	for range 2 {
		f, err := fr.next()
		if err != nil {
			t.Fatal(err)
		}
		got := []string{string(f.MessageType), string(f.EventType), string(f.ContentType), string(f.Payload)}
		if diff := cmp.Diff([]string{"event", "messageStart", "application/json", `{"role":"assistant"}`}, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
	if _, err := fr.next(); err != io.EOF {
		t.Errorf("after the last message: %v, want io.EOF", err)
	}
}

func TestFrameReaderRejects(t *testing.T) {
	good := bedrocktest.EventFrame("messageStart", []byte(`{"role":"assistant"}`))
	withPrelude := func(total, headers uint32) []byte {
		b := binary.BigEndian.AppendUint32(nil, total)
		b = binary.BigEndian.AppendUint32(b, headers)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	}
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"truncated_prelude", good[:7], io.ErrUnexpectedEOF},
		{"truncated_body", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"prelude_crc", append([]byte{good[0] ^ 1}, good[1:]...), errFrame},
		{"message_crc", append(bytes.Clone(good[:len(good)-1]), good[len(good)-1]^1), errFrame},
		{"too_short", withPrelude(15, 0), errFrame},
		{"headers_longer_than_message", withPrelude(20, 5), errFrame},
		{"headers_too_long", withPrelude(200<<10, 129<<10), errFrame},
		{"payload_too_long", withPrelude(17<<20, 0), errFrame},
		// A plausible length whose bytes never arrive: an error once the
		// input ends, without allocating the announced size up front.
		{"length_lies", withPrelude(15<<20, 0), io.ErrUnexpectedEOF},
		{"unknown_header_type", rawFrame(header("x", 10, nil), nil), errFrame},
		{"empty_header_name", rawFrame([]byte{0, hvTrue}, nil), errFrame},
		{"header_value_cut", rawFrame(header("x", hvInt64, []byte{1, 2}), nil), errFrame},
		{"string_length_cut", rawFrame(header("x", hvString, []byte{0, 9, 'a'}), nil), errFrame},
		{"string_without_length", rawFrame(header("x", hvString, []byte{0}), nil), errFrame},
		{"name_cut", rawFrame([]byte{5, 'a', 'b'}, nil), errFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newFrameReader(bytes.NewReader(tt.in)).next()
			if !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestFrameReaderReusesBuffer: reading messages of a stream allocates
// nothing once the buffer has grown.
func TestFrameReaderReusesBuffer(t *testing.T) {
	stream := readStream(t, "converse_tool")
	r := bytes.NewReader(stream)
	fr := newFrameReader(r)
	allocs := testing.AllocsPerRun(50, func() {
		r.Reset(stream)
		for {
			if _, err := fr.next(); err != nil {
				break
			}
		}
	})
	if allocs > 0 {
		t.Errorf("%v allocations per stream", allocs)
	}
}

// FuzzEventStream: the frame reader never panics, never hangs, and
// accepts exactly the messages whose CRCs check.
func FuzzEventStream(f *testing.F) {
	for _, name := range []string{"converse_text", "converse_tool", "claude_text", "converse_throttled"} {
		f.Add(readStream(f, name))
	}
	f.Add(rawFrame(header("l", hvInt64, []byte{1, 2, 3, 4, 5, 6, 7, 8}), nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		fr := newFrameReader(bytes.NewReader(in))
		read := 0
		for range len(in)/minMessageLen + 2 {
			f, err := fr.next()
			if err != nil {
				return
			}
			read += len(f.Raw)
			if read > len(in) {
				t.Fatalf("read %d bytes of a %d-byte input", read, len(in))
			}
			if crc := crc32.ChecksumIEEE(f.Raw[:len(f.Raw)-4]); crc != binary.BigEndian.Uint32(f.Raw[len(f.Raw)-4:]) {
				t.Fatal("accepted a message with a bad CRC")
			}
		}
		t.Fatal("reader did not end")
	})
}

// FuzzStreamDecoder: neither stream decoder panics or hangs on any input;
// every stream ends with an error (io.EOF only after its end event).
func FuzzStreamDecoder(f *testing.F) {
	for _, c := range streamCases() {
		f.Add(readStream(f, c.file), strings.HasPrefix(c.file, "claude"))
	}
	a := New(Options{})
	f.Fuzz(func(t *testing.T, in []byte, claude bool) {
		model := "amazon.nova-lite-v1:0"
		if claude {
			model = "claude-3-haiku-20240307"
		}
		d := a.NewStreamDecoder(streamRequest(model, true), bytes.NewReader(in))
		for range len(in) + 16 {
			ev, err := d.Next()
			if err != nil {
				if _, again := d.Next(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				if err != io.EOF && errors.Is(err, adaptors.ErrInvalidBody) {
					t.Fatalf("stream error wraps ErrInvalidBody: %v", err)
				}
				return
			}
			if ev.TextBytes < 0 {
				t.Fatal("negative TextBytes")
			}
		}
		t.Fatal("decoder did not end")
	})
}
