package gemini

import (
	"bytes"
	"encoding/json"
	"slices"

	"switchyard/adaptors/internal/openaiwire"
)

// buildTools converts tools (and the deprecated functions) into one
// functionDeclarations tool.
func buildTools(in *oaRequest) ([]upTool, error) {
	fns := make([]oaFunction, 0, len(in.Tools)+len(in.Functions))
	for i, t := range in.Tools {
		if t.Type != "function" {
			return nil, invalidBody("tools[%d].type: only function tools are supported, not %q", i, t.Type)
		}
		fns = append(fns, t.Function)
	}
	fns = append(fns, in.Functions...)
	if len(fns) == 0 {
		return nil, nil
	}
	decls := make([]upFunctionDecl, len(fns))
	for i, f := range fns {
		if f.Name == "" {
			return nil, invalidBody("tools[%d].function.name: field required", i)
		}
		d := upFunctionDecl{Name: f.Name, Description: f.Description}
		if isPresent(f.Parameters) {
			if !openaiwire.IsObject(f.Parameters) {
				return nil, invalidBody("tools[%d].function.parameters: must be a JSON Schema object", i)
			}
			d.ParametersJSONSchema = withoutSchemaURI(f.Parameters)
		}
		decls[i] = d
	}
	return []upTool{{FunctionDeclarations: decls}}, nil
}

// withoutSchemaURI drops a root "$schema" member: it only names the JSON
// Schema dialect, and Gemini's list of supported keywords does not have
// it. Everything else is sent as the client wrote it.
func withoutSchemaURI(schema json.RawMessage) json.RawMessage {
	if !bytes.Contains(schema, []byte(`"$schema"`)) {
		return schema
	}
	members, err := objectMembers(schema)
	if err != nil {
		return schema
	}
	members = slices.DeleteFunc(members, func(m member) bool { return m.key == "$schema" })
	return writeObject(members)
}

// buildToolConfig converts tool_choice (or the deprecated function_call).
// Without tools there is nothing to configure.
func buildToolConfig(in *oaRequest, haveTools bool) (*upToolConfig, error) {
	raw := bytes.TrimSpace(in.ToolChoice)
	if !isPresent(raw) {
		raw = bytes.TrimSpace(in.FunctionCall)
	}
	if !isPresent(raw) || !haveTools {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		_ = openaiwire.API.Unmarshal(raw, &s)
		mode := ""
		switch s {
		case "none":
			mode = "NONE"
		case "auto":
			mode = "AUTO"
		case "required":
			mode = "ANY"
		default:
			return nil, invalidBody("tool_choice: unknown value %q", s)
		}
		return &upToolConfig{FunctionCallingConfig: upFunctionCallingConfig{Mode: mode}}, nil
	}
	var named struct {
		Type     string `json:"type"`
		Name     string `json:"name"` // deprecated function_call: {"name":…}
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := openaiwire.API.Unmarshal(raw, &named); err != nil {
		return nil, invalidBody("tool_choice: %v", err)
	}
	name := named.Function.Name
	if name == "" {
		name = named.Name
	}
	if name == "" || (named.Type != "" && named.Type != "function") {
		return nil, invalidBody("tool_choice: expected none, auto, required or a function")
	}
	return &upToolConfig{FunctionCallingConfig: upFunctionCallingConfig{Mode: "ANY", AllowedFunctionNames: []string{name}}}, nil
}
