// Package messengers is where a messenger beyond WhatsApp and Telegram
// plugs into the collector. Each one is a folder below this one (max, vk,
// meta, viber, line) that implements Messenger: it reads its site settings,
// checks its webhook's signature or handshake, and translates the
// platform's payload into inbound.Message, purely; it names the chat
// targets its links open. The collector composes the list of messengers
// (one line each), serves their webhooks at /hooks/<Hook>/{site}, keeps
// what they hold and runs every message through the one matcher.
package messengers

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strings"
	"time"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/config"
)

// Messenger is one messenger's plug.
type Messenger interface {
	// Hook is the webhook's path segment: /hooks/<Hook>/{site}. Messengers
	// that share one webhook (Messenger and Instagram) are one Messenger.
	Hook() string
	// Open makes the messenger ready for a site, or gives nil, nil when the
	// site configures none of it. Its errors name the config key.
	Open(site *config.Site) (Site, error)
}

// Site is a messenger ready for one site.
type Site interface {
	// Targets are the chat targets its links open, in the click index's
	// form ("vk:demoshop"), as the snippet reports clicks on them, each
	// with the link's query parameter that carries the hidden code
	// ("start", "ref", "context"), or "text" where only the prefilled text
	// can carry a code.
	Targets() map[string]string
	// Handle checks one webhook request and reads it. Its errors are
	// httperr's kinds: forbidden for a wrong secret or signature, bad input
	// for a body that is no payload of the platform.
	Handle(r *Request) (*Result, error)
}

// Holder is a Site whose webhook gives Holds (Viber's): only its messages
// are looked up for a held code, which costs the others no Redis call.
type Holder interface {
	Site
	HoldsCodes()
}

// Checker is a Site that can say what leaves its webhook off (a missing
// secret), for `messtrack check`.
type Checker interface {
	Site
	Problems() []string
}

// Request is a webhook request as a messenger sees it.
type Request struct {
	Method string
	// Header and Query read one header or query parameter ("" if absent).
	Header func(string) string
	Query  func(string) string
	Body   []byte
	// Received is when the collector got it: the time of messages whose
	// platform time is missing (inbound.Time).
	Received time.Time
}

// Result is what a webhook request brought.
type Result struct {
	// Messages are people writing (or opening a chat through a link that
	// carries a hidden code), each with its platform ID for idempotency.
	Messages []*inbound.Message
	// Holds are hidden codes that arrived before a chat's first message
	// (Viber's conversation_started): the collector keeps each, durably,
	// for that chat's next message.
	Holds []Hold
	// Ignored counts events that are nobody writing.
	Ignored int
	// Answer is the body to answer once everything is kept (VK's "ok", a
	// verification challenge), as text/plain; "" answers the counts as
	// JSON.
	Answer string
}

// Hold is a hidden code waiting for its chat's first message.
type Hold struct {
	Chat string
	Code string
	At   time.Time
}

// Forbidden is the error of a wrong secret or signature.
func Forbidden(format string, args ...any) error {
	return httperr.Fail(httperr.ErrForbidden, format, args...)
}

// BadInput is the error of a body that is no payload of the platform.
func BadInput(format string, args ...any) error {
	return httperr.Fail(httperr.ErrBadInput, format, args...)
}

// ReadJSON decodes a platform's body into v; what names the payload in the
// error ("MAX update"). Numbers that may exceed 2^53 must be json.Number
// or integer fields.
func ReadJSON(body []byte, v any, what string) error {
	if len(body) == 0 {
		return BadInput("empty body: a %s is required", what)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return BadInput("malformed %s: %s", what, inbound.JSONProblem(err))
	}
	return nil
}

// Equal compares a secret a request carries with the configured one in
// constant time; an empty configured secret never matches.
func Equal(got, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// HMACHex tells whether sig is the hex HMAC-SHA256 of body under key
// (a "sha256=" prefix, as Meta writes it, is the caller's to strip).
func HMACHex(sig string, body []byte, key string) bool {
	want, err := hex.DecodeString(strings.TrimSpace(sig))
	return err == nil && key != "" && hmac.Equal(want, mac(body, key))
}

// HMACBase64 tells whether sig is the base64 HMAC-SHA256 of body under key.
func HMACBase64(sig string, body []byte, key string) bool {
	want, err := base64.StdEncoding.DecodeString(strings.TrimSpace(sig))
	return err == nil && key != "" && hmac.Equal(want, mac(body, key))
}

func mac(body []byte, key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return m.Sum(nil)
}

// Millis is a platform's time in Unix milliseconds, zero when missing.
func Millis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Name is an account name as targets and settings compare it: trimmed,
// lower case, without a leading "@".
func Name(s string) string {
	return strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@"))
}

// Pick resolves a webhook's ?bot= among the configured names: the named
// one, else the first; false when the name is not configured.
func Pick(query string, names []string) (string, bool) {
	q := Name(query)
	if q == "" {
		if len(names) == 0 {
			return "", false
		}
		return names[0], true
	}
	for _, n := range names {
		if n == q {
			return n, true
		}
	}
	return "", false
}
