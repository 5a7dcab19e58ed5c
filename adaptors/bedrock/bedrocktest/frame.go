package bedrocktest

import (
	"encoding/binary"
	"hash/crc32"
)

// Header is one event-stream message header with a string value (type 7),
// the only kind Bedrock's response streams use.
type Header struct {
	Name, Value string
}

// Frame encodes one AWS event-stream message
// (https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html):
// total length and headers length (uint32 big endian), the CRC-32 of
// those 8 bytes, the headers (name length, name, type 7, uint16 value
// length, value), the payload, and the CRC-32 of everything before it.
func Frame(headers []Header, payload []byte) []byte {
	hl := 0
	for _, h := range headers {
		hl += 1 + len(h.Name) + 1 + 2 + len(h.Value)
	}
	total := 12 + hl + len(payload) + 4
	b := make([]byte, 0, total)
	b = binary.BigEndian.AppendUint32(b, uint32(total))
	b = binary.BigEndian.AppendUint32(b, uint32(hl))
	b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
	for _, h := range headers {
		b = append(b, byte(len(h.Name)))
		b = append(b, h.Name...)
		b = append(b, 7)
		b = binary.BigEndian.AppendUint16(b, uint16(len(h.Value)))
		b = append(b, h.Value...)
	}
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

// EventFrame is an event message as Bedrock writes it: headers
// :event-type, :content-type application/json and :message-type event,
// in that order, then the JSON payload.
func EventFrame(eventType string, payload []byte) []byte {
	return Frame([]Header{
		{":event-type", eventType},
		{":content-type", "application/json"},
		{":message-type", "event"},
	}, payload)
}

// ExceptionFrame is an exception message: :exception-type names the error
// (the stream union's member name, e.g. throttlingException), the payload
// is {"message":…}.
func ExceptionFrame(exceptionType string, payload []byte) []byte {
	return Frame([]Header{
		{":exception-type", exceptionType},
		{":content-type", "application/json"},
		{":message-type", "exception"},
	}, payload)
}

// padding is the alphabet of the random-length "p" member Bedrock adds to
// every stream payload (so payload sizes do not reveal token lengths).
const padding = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// Pad returns the padding value of length n (taken cyclically from the
// alphabet, as the real service's padding reads).
func Pad(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = padding[i%len(padding)]
	}
	return string(b)
}
