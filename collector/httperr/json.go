package httperr

import (
	"bytes"
	"encoding/json"
	"errors"
)

// BodyDecoder is a request that reads some shapes of its body itself (a
// positional array, a plain object without reflection). DecodeBody reports
// done when it has read the body, or an error for a body of its own shape
// that is wrong; otherwise, having changed nothing, it leaves the body to
// encoding/json.
type BodyDecoder interface {
	DecodeBody(body []byte) (done bool, err error)
}

// DecodeJSON decodes a small JSON object body of at most limit bytes into
// v, answering client errors for a body too large, empty or malformed, or
// of the wrong type.
func DecodeJSON(body []byte, limit int, v any) error {
	if len(body) > limit {
		return Fail(ErrTooLarge, "body of %d bytes exceeds the limit of %d", len(body), limit)
	}
	if len(body) == 0 {
		return Fail(ErrBadInput, "empty body: a JSON object is required")
	}
	if d, ok := v.(BodyDecoder); ok {
		if done, err := d.DecodeBody(body); done || err != nil {
			return err
		}
	}
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return Fail(ErrBadInput, "malformed JSON at byte %d", se.Offset)
		case errors.As(err, &te) && te.Field == "":
			// The body itself is an array, string or number.
			return Fail(ErrBadInput, "the body is a JSON %s; a JSON object is required", te.Value)
		case errors.As(err, &te):
			return Fail(ErrBadInput, "field %q must be a %s", te.Field, te.Type)
		default:
			return Fail(ErrBadInput, "malformed JSON")
		}
	}
	return nil
}

// DecodeStrictJSON decodes a JSON object body of at most limit bytes into
// v, refusing fields v does not have: for the endpoints whose callers are
// programs, where a misspelt field is a mistake to report, not to ignore.
// shape names the object in the error ("{\"site\",\"visit\",\"phone\"}").
func DecodeStrictJSON(body []byte, limit int, shape string, v any) error {
	if len(body) > limit {
		return Fail(ErrTooLarge, "the body is over %d bytes", limit)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return Fail(ErrBadInput, "the body is not %s: %s", shape, Clip(err.Error(), 120))
	}
	return nil
}
