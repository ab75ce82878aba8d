// Package line plugs LINE official accounts into the collector. LINE has
// no hidden link parameter: links https://line.me/R/oaMessage/@ID/?TEXT
// prefill the message, so the code is a visible one in the text, found as
// in WhatsApp messages. Webhooks are signed with x-line-signature, the
// base64 HMAC-SHA256 of the body keyed by the channel secret; the
// console's Verify request (no events) is answered 200.
package line

import (
	"fmt"
	"regexp"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/config"
)

// Key is the site key, channel name and chat key prefix.
const Key = "line"

// Messenger is LINE's plug.
type Messenger struct{}

// Hook is the webhook's path segment.
func (Messenger) Hook() string { return Key }

// idRE is an account's basic or premium ID without its "@".
var idRE = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

type account struct{ id, secret string }

type site struct{ accounts []account }

// Open reads line: {accounts: [{id: "@ID", secret}]}.
func (Messenger) Open(s *config.Site) (messengers.Site, error) {
	m := s.Messenger(Key)
	if m == nil {
		return nil, nil
	}
	at := "sites." + s.Name + "." + Key + ".accounts"
	if len(m.Accounts) == 0 {
		return nil, fmt.Errorf("%s: list the official accounts, each {id: \"@ID\", secret}", at)
	}
	st := &site{}
	for i, a := range m.Accounts {
		id := messengers.Name(a.ID)
		if !idRE.MatchString(id) {
			return nil, fmt.Errorf("%s[%d].id: %q is not an account's ID as in line.me/R/oaMessage/@ID", at, i, a.ID)
		}
		if a.Secret == "" {
			return nil, fmt.Errorf("%s[%d].secret: the channel secret, which signs its webhooks", at, i)
		}
		st.accounts = append(st.accounts, account{id: id, secret: a.Secret})
	}
	return st, nil
}

func (s *site) Targets() map[string]string {
	out := make(map[string]string, len(s.accounts))
	for _, x := range s.accounts {
		out[Key+":"+x.id] = "text"
	}
	return out
}

// Handle finds the account whose channel secret signed the request and
// reads it.
func (s *site) Handle(r *messengers.Request) (*messengers.Result, error) {
	if r.Method != "POST" {
		return nil, messengers.BadInput("the LINE webhook takes POST")
	}
	sig := r.Header("X-Line-Signature")
	for _, a := range s.accounts {
		if messengers.HMACBase64(sig, r.Body, a.secret) {
			return Read(r.Body, a.id, r.Received)
		}
	}
	return nil, messengers.Forbidden("missing x-line-signature, or signed by no account of this site")
}

type webhook struct {
	Destination string   `json:"destination"`
	Events      *[]event `json:"events"`
}

type event struct {
	Type           string `json:"type"`
	Mode           string `json:"mode"`
	Timestamp      int64  `json:"timestamp"`
	WebhookEventID string `json:"webhookEventId"`
	Source         struct {
		Type   string `json:"type"`
		UserID string `json:"userId"`
	} `json:"source"`
	Message *struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"message"`
}

// userRE is a LINE user ID.
var userRE = regexp.MustCompile(`^U[0-9a-f]{32}$`)

// maxEvents bounds the events one request may carry.
const maxEvents = 1000

// Read reads one webhook request of the account with the given ID: each
// person's message in a one-to-one chat is a Message (its text may hold a
// visible code); other events are ignored; no events at all is the
// console's Verify request. It checks no signature: Handle does.
func Read(body []byte, account string, received time.Time) (*messengers.Result, error) {
	var w webhook
	if err := messengers.ReadJSON(body, &w, "LINE webhook body"); err != nil {
		return nil, err
	}
	if w.Events == nil {
		return nil, messengers.BadInput("the body has no events")
	}
	if len(*w.Events) > maxEvents {
		return nil, messengers.BadInput("more than %d events in one request", maxEvents)
	}
	res := &messengers.Result{}
	for _, e := range *w.Events {
		if e.Type != "message" || e.Source.Type != "user" || !userRE.MatchString(e.Source.UserID) ||
			e.Message == nil || (e.WebhookEventID == "" && e.Message.ID == "") {
			res.Ignored++
			continue
		}
		id := e.WebhookEventID
		if id == "" {
			id = "msg:" + e.Message.ID
		}
		in := &inbound.Message{Messenger: Key, Chat: Key + ":" + e.Source.UserID, Text: e.Message.Text,
			Target: Key + ":" + account, MessageID: "line:" + id}
		in.Time, in.PlatformTime = inbound.Time(messengers.Millis(e.Timestamp), received)
		res.Messages = append(res.Messages, in)
	}
	return res, nil
}
