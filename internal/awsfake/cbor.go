package awsfake

import (
	"net/url"

	"github.com/aws/smithy-go/encoding/cbor"
)

// plain returns v as the Go values encoding/json would give: maps,
// slices, strings, float64 numbers, bools and nil; timestamps (tag 1) as
// time.Time.
func plain(v cbor.Value) any {
	switch v := v.(type) {
	case cbor.Map:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = plain(e)
		}
		return m
	case cbor.List:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = plain(e)
		}
		return l
	case cbor.String:
		return string(v)
	case cbor.Uint:
		return float64(v)
	case cbor.NegInt:
		return -float64(v)
	case cbor.Float32:
		return float64(v)
	case cbor.Float64:
		return float64(v)
	case cbor.Bool:
		return bool(v)
	case cbor.Slice:
		return []byte(v)
	case *cbor.Tag:
		if t, err := cbor.AsTime(v); err == nil {
			return t
		}
		return plain(v.Value)
	}
	return nil
}

// parseForm parses a Query request's body.
func parseForm(body []byte) (url.Values, error) {
	return url.ParseQuery(string(body))
}
