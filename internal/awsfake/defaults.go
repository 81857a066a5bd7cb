package awsfake

import (
	"fmt"
	"strings"
)

// defaultHandler returns the answer of op when no Handler was set: a
// success, with the few fields the SDK or its callers expect.
func (s *Server) defaultHandler(op string) Handler {
	switch op {
	case "ssm:SendCommand":
		return func(Call) (any, *APIError) {
			return map[string]any{"Command": map[string]any{"CommandId": fmt.Sprintf("cmd-%d", s.ids.Add(1))}}, nil
		}
	case "events:PutRule":
		return func(c Call) (any, *APIError) {
			name, _ := c.Params["Name"].(string)
			return map[string]any{"RuleArn": "arn:aws:events:us-east-1:000000000000:rule/" + name}, nil
		}
	case "events:PutTargets", "events:RemoveTargets":
		return func(Call) (any, *APIError) {
			return map[string]any{"FailedEntryCount": 0, "FailedEntries": []any{}}, nil
		}
	case "sns:Publish":
		return func(Call) (any, *APIError) {
			return fmt.Sprintf("<MessageId>msg-%d</MessageId>", s.ids.Add(1)), nil
		}
	}
	return func(Call) (any, *APIError) { return nil, nil }
}

// Param returns the string parameter name of c, or "".
func (c Call) Param(name string) string {
	s, _ := c.Params[name].(string)
	return s
}

// Members returns the values of a Query list parameter, name.member.1,
// name.member.2, ... in order.
func (c Call) Members(name string) []string {
	var out []string
	for i := 1; ; i++ {
		v, ok := c.Params[fmt.Sprintf("%s.member.%d", name, i)].(string)
		if !ok {
			return out
		}
		out = append(out, v)
	}
}

// String returns the call as "service:Action" and its parameters, for
// failure messages.
func (c Call) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %v", c.Op(), c.Params)
	return b.String()
}
