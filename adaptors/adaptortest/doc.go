// Package adaptortest is the shared test kit of the adaptors: a
// conformance suite every provider row must pass (Run), the OpenAI-dialect
// fixtures that suite uses for OpenAI-compatible rows (OpenAIDialect), and
// golden-file helpers (Golden).
//
// It is imported only by tests. It holds no state: each test package
// declares its own -update flag and passes it to Golden.
package adaptortest
