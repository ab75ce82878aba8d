package inbound

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// InputError is a payload the translators refuse; its text says why, is
// safe to show the sender, and never echoes the payload beyond a clipped
// field.
type InputError struct {
	Reason string
}

func (e *InputError) Error() string { return e.Reason }

func badInput(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}

// JSONProblem says briefly what is wrong with a JSON body, without echoing
// it; every webhook translator reports its malformed bodies with it.
func JSONProblem(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		if te.Field != "" {
			return "field " + strconv.Quote(clip(te.Field, 60)) + " has the wrong type"
		}
		return "a value has the wrong type"
	}
	return "invalid content"
}
