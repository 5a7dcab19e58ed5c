// Package sse reads and writes server-sent events (the WHATWG "text/event-
// stream" format) for the relay path.
//
// Reader is a line reader tuned for LLM streams: one buffer reused for the
// whole stream, lines found with bytes.IndexByte (vectorised), no allocation
// per event once the buffer has grown to the largest event. It accepts LF,
// CRLF and bare CR line ends, `data:` with or without the space, multi-line
// data (joined with "\n" as the spec says), comments (`:` lines, used as
// keep-alives), `event:` lines, and a final event that the upstream did not
// terminate with a blank line (the spec would drop it; LLM upstreams that
// close the connection right after their last `data:` line mean it).
//
// The writer side is a set of Append functions so the transport can build
// its output in a reused buffer.
package sse
