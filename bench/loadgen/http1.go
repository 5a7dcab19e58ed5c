package loadgen

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxBody caps how much of one response body is kept for validation; the
// rest is read and discarded.
const maxBody = 1 << 20

var errMalformed = errors.New("malformed HTTP response")

// response is one parsed HTTP/1.1 response. body aliases a reused buffer.
type response struct {
	status    int
	keepAlive bool
	body      []byte
}

// readResponse reads one HTTP/1.x response from r. buf is reused for the
// body (up to maxBody bytes are kept). It supports Content-Length, chunked
// transfer encoding and read-until-close bodies.
func readResponse(r *bufio.Reader, buf []byte) (response, []byte, error) {
	var res response
	line, err := r.ReadSlice('\n')
	if err != nil {
		return res, buf, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return res, buf, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	res.keepAlive = line[7] == '1'
	st, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return res, buf, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	res.status = st
	contentLength := int64(-1)
	chunked := false
	for {
		line, err = r.ReadSlice('\n')
		if err != nil {
			return res, buf, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return res, buf, fmt.Errorf("%w: header %q", errMalformed, line)
		}
		name, val := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(val), 10, 64)
			if err != nil || n < 0 {
				return res, buf, fmt.Errorf("%w: content-length %q", errMalformed, val)
			}
			contentLength = n
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(val), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Connection")):
			lv := bytes.ToLower(val)
			if bytes.Contains(lv, []byte("close")) {
				res.keepAlive = false
			} else if bytes.Contains(lv, []byte("keep-alive")) {
				res.keepAlive = true
			}
		}
	}
	buf = buf[:0]
	switch {
	case st == 204 || st == 304 || (st >= 100 && st < 200):
	case chunked:
		for {
			line, err = r.ReadSlice('\n')
			if err != nil {
				return res, buf, err
			}
			line = bytes.TrimRight(line, "\r\n")
			if i := bytes.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			size, err := strconv.ParseInt(string(bytes.TrimSpace(line)), 16, 64)
			if err != nil || size < 0 {
				return res, buf, fmt.Errorf("%w: chunk size %q", errMalformed, line)
			}
			if size == 0 {
				for { // trailers until the empty line
					line, err = r.ReadSlice('\n')
					if err != nil {
						return res, buf, err
					}
					if len(bytes.TrimRight(line, "\r\n")) == 0 {
						break
					}
				}
				break
			}
			if buf, err = readN(r, buf, size); err != nil {
				return res, buf, err
			}
			crlf, err := r.ReadSlice('\n')
			if err != nil {
				return res, buf, err
			}
			if len(bytes.TrimRight(crlf, "\r\n")) != 0 {
				return res, buf, fmt.Errorf("%w: no CRLF after chunk", errMalformed)
			}
		}
	case contentLength >= 0:
		if buf, err = readN(r, buf, contentLength); err != nil {
			return res, buf, err
		}
	default:
		res.keepAlive = false
		tmp := make([]byte, 4096)
		for {
			n, err := r.Read(tmp)
			buf = appendCapped(buf, tmp[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				return res, buf, err
			}
		}
	}
	res.body = buf
	return res, buf, nil
}

// readN reads exactly n bytes, keeping the first maxBody of them in buf.
func readN(r *bufio.Reader, buf []byte, n int64) ([]byte, error) {
	for n > 0 {
		if len(buf) >= maxBody {
			d, err := r.Discard(int(min(n, 1<<30)))
			n -= int64(d)
			if err != nil {
				return buf, err
			}
			continue
		}
		want := min(n, int64(maxBody-len(buf)))
		start := len(buf)
		buf = grow(buf, int(want))
		got, err := io.ReadFull(r, buf[start:start+int(want)])
		buf = buf[:start+got]
		n -= int64(got)
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return buf, err
		}
	}
	return buf, nil
}

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, 2*cap(b)+n)
	copy(nb, b)
	return nb
}

func appendCapped(buf, p []byte) []byte {
	if room := maxBody - len(buf); room < len(p) {
		p = p[:max(room, 0)]
	}
	return append(buf, p...)
}

// sseStats counts "data:" events in an SSE body and reports whether the
// last one is [DONE].
func sseStats(body []byte) (events int, done bool) {
	var last []byte
	for len(body) > 0 {
		i := bytes.IndexByte(body, '\n')
		line := body
		if i >= 0 {
			line, body = body[:i], body[i+1:]
		} else {
			body = nil
		}
		line = bytes.TrimRight(line, "\r")
		if bytes.HasPrefix(line, []byte("data:")) {
			events++
			last = bytes.TrimSpace(line[5:])
		}
	}
	return events, bytes.Equal(last, []byte("[DONE]"))
}
