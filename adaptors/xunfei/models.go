package xunfei

import (
	"strings"
)

// route is where a model is served: the WebSocket path (which the URL
// signature covers) and the domain member of the request frame, with
// what the model accepts.
type route struct {
	path   string
	domain string
	// functions: the model takes payload.functions (iFLYTEK's Java SDK,
	// SparkModel.functionEnable: every chat model but Lite).
	functions bool
	// system: the model takes a system message (SparkModel.systemEnable:
	// every chat model but Lite). For Lite the system text is sent as the
	// first user message instead of being dropped.
	system bool
	// penalties: the model takes top_p, presence_penalty and
	// frequency_penalty (X1 only, per the X1 WebSocket document and the
	// Java SDK, which sends them for SPARK_X1 alone).
	penalties bool
}

// Routes of the Spark WebSocket API (https://www.xfyun.cn/doc/spark/Web.html
// §1.1, the X1 document https://www.xfyun.cn/doc/spark/X1ws.html, and the
// SparkModel table of iFLYTEK's Java SDK).
var (
	routeLite    = route{path: "/v1.1/chat", domain: "lite"}
	routePro     = route{path: "/v3.1/chat", domain: "generalv3", functions: true, system: true}
	routePro128K = route{path: "/chat/pro-128k", domain: "pro-128k", functions: true, system: true}
	routeMax     = route{path: "/v3.5/chat", domain: "generalv3.5", functions: true, system: true}
	routeMax32K  = route{path: "/chat/max-32k", domain: "max-32k", functions: true, system: true}
	routeUltra   = route{path: "/v4.0/chat", domain: "4.0Ultra", functions: true, system: true}
	routeX1      = route{path: "/v1/x1", domain: "x1", functions: true, system: true, penalties: true}
	// routeV2 is the retired Spark V2.0 (/v2.1/chat, domain generalv2),
	// reachable only through a channel's "other" version.
	routeV2 = route{path: "/v2.1/chat", domain: "generalv2", functions: true, system: true}
)

// modelRoutes maps the model names the gateway knows to their routes:
// One API's names (Spark-Lite … Spark-4.0-Ultra), One API's older
// SparkDesk-vX names, Spark X1, and the domains themselves (a channel's
// model mapping may name the domain directly). Keys are lower case;
// lookups fold case. Read-only.
var modelRoutes = map[string]route{
	"spark-lite":      routeLite,
	"spark-pro":       routePro,
	"spark-pro-128k":  routePro128K,
	"spark-max":       routeMax,
	"spark-max-32k":   routeMax32K,
	"spark-4.0-ultra": routeUltra,
	"spark-x1":        routeX1,

	"sparkdesk":           routeLite,
	"sparkdesk-v1.1":      routeLite,
	"sparkdesk-v2.1":      routeV2,
	"sparkdesk-v3.1":      routePro,
	"sparkdesk-v3.1-128k": routePro128K,
	"sparkdesk-v3.5":      routeMax,
	"sparkdesk-v3.5-32k":  routeMax32K,
	"sparkdesk-v4.0":      routeUltra,

	"lite":        routeLite,
	"general":     routeLite, // Lite's domain before it was renamed
	"generalv2":   routeV2,
	"generalv3":   routePro,
	"pro-128k":    routePro128K,
	"generalv3.5": routeMax,
	"max-32k":     routeMax32K,
	"4.0ultra":    routeUltra,
	"x1":          routeX1,
}

// versionRoutes maps the API versions a channel's "other" setting may
// name (One API's field for the Spark version) to routes, for models the
// table does not know. Keys are lower case.
var versionRoutes = map[string]route{
	"v1.1":      routeLite,
	"v2.1":      routeV2,
	"v3.1":      routePro,
	"v3.1-128k": routePro128K,
	"pro-128k":  routePro128K,
	"v3.5":      routeMax,
	"v3.5-32k":  routeMax32K,
	"max-32k":   routeMax32K,
	"v4.0":      routeUltra,
	"x1":        routeX1,
	"v1/x1":     routeX1,
}

// configOther is the channel config key naming the Spark version for
// models outside the table (One API's "other" channel field).
const configOther = "other"

// lookupRoute finds the route of model: the table first, then the
// channel's "other" version. ok is false when neither knows it.
func lookupRoute(model string, cfg map[string]string) (route, bool) {
	if r, ok := modelRoutes[strings.ToLower(strings.TrimSpace(model))]; ok {
		return r, true
	}
	v := strings.ToLower(strings.TrimSpace(cfg[configOther]))
	v = strings.TrimPrefix(v, "/")
	if r, ok := versionRoutes[v]; ok {
		return r, true
	}
	return route{}, false
}

// Models returns the default model list for new Xunfei channels: One
// API's names for the six Spark chat models of the WebSocket API, and
// Spark X1. A new slice on each call.
func Models() []string {
	return []string{
		"Spark-Lite", "Spark-Pro", "Spark-Pro-128K", "Spark-Max", "Spark-Max-32K", "Spark-4.0-Ultra", "Spark-X1",
	}
}
