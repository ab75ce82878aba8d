// Package viber plugs Viber bots into the collector: links
// viber://pa?chatURI=URI&context=CODE, whose context comes back in the
// conversation_started event when the person opens the chat, before any
// message; the collector holds it for the person's first message (later
// messages do not carry it). Callbacks are signed with
// X-Viber-Content-Signature, the hex HMAC-SHA256 of the body keyed by the
// bot's token.
package viber

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/config"
)

// Key is the site key, channel name and chat key prefix.
const Key = "viber"

// Messenger is Viber's plug.
type Messenger struct{}

// Hook is the webhook's path segment.
func (Messenger) Hook() string { return Key }

// uriRE is a bot's chat URI as in viber://pa?chatURI=URI.
var uriRE = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

type bot struct{ uri, token string }

type site struct{ bots []bot }

// Open reads viber: {bots: [{uri, token}]}.
func (Messenger) Open(s *config.Site) (messengers.Site, error) {
	m := s.Messenger(Key)
	if m == nil {
		return nil, nil
	}
	at := "sites." + s.Name + "." + Key + ".bots"
	if len(m.Bots) == 0 {
		return nil, fmt.Errorf("%s: list the bots, each {uri, token}", at)
	}
	st := &site{}
	for i, b := range m.Bots {
		uri := messengers.Name(b.URI)
		if !uriRE.MatchString(uri) {
			return nil, fmt.Errorf("%s[%d].uri: %q is not a bot's chat URI as in viber://pa?chatURI=URI", at, i, b.URI)
		}
		if b.Token == "" {
			return nil, fmt.Errorf("%s[%d].token: the bot's authentication token, which signs its callbacks", at, i)
		}
		st.bots = append(st.bots, bot{uri: uri, token: b.Token})
	}
	return st, nil
}

func (s *site) Targets() map[string]string {
	out := make(map[string]string, len(s.bots))
	for _, x := range s.bots {
		out[Key+":"+x.uri] = "context"
	}
	return out
}

// HoldsCodes marks the site a messengers.Holder: a conversation_started
// context waits for the person's first message.
func (s *site) HoldsCodes() {}

// Handle finds the bot whose token signed the callback and reads it.
func (s *site) Handle(r *messengers.Request) (*messengers.Result, error) {
	if r.Method != "POST" {
		return nil, messengers.BadInput("the Viber webhook takes POST")
	}
	sig := r.Header("X-Viber-Content-Signature")
	for _, b := range s.bots {
		if messengers.HMACHex(sig, r.Body, b.token) {
			return Read(r.Body, b.uri, r.Received)
		}
	}
	return nil, messengers.Forbidden("missing X-Viber-Content-Signature, or signed by no bot of this site")
}

type callback struct {
	Event        string      `json:"event"`
	Timestamp    int64       `json:"timestamp"`
	MessageToken json.Number `json:"message_token"`
	Context      string      `json:"context"`
	User         *user       `json:"user"`
	Sender       *user       `json:"sender"`
	Message      *struct {
		Type string `json:"type"`
		Text string `json:"text"`
	} `json:"message"`
}

type user struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Language string `json:"language"`
	Country  string `json:"country"`
}

// Read reads one callback of the bot with the given chat URI: a message
// from a person is a Message; a conversation_started with a context is a
// Hold of that code for the person's chat; anything else is ignored. It
// checks no signature: Handle does.
func Read(body []byte, uri string, received time.Time) (*messengers.Result, error) {
	var c callback
	if err := messengers.ReadJSON(body, &c, "Viber callback"); err != nil {
		return nil, err
	}
	if c.Event == "" {
		return nil, messengers.BadInput("the callback has no event")
	}
	at, _ := inbound.Time(messengers.Millis(c.Timestamp), received)
	switch c.Event {
	case "conversation_started":
		if c.User == nil || !validID(c.User.ID) {
			return nil, messengers.BadInput("conversation_started without user.id")
		}
		ctx := strings.TrimSpace(c.Context)
		if ctx == "" {
			return &messengers.Result{Ignored: 1}, nil
		}
		return &messengers.Result{Holds: []messengers.Hold{{Chat: Key + ":" + c.User.ID, Code: ctx, At: at}}}, nil
	case "message":
		if c.Sender == nil || !validID(c.Sender.ID) || c.Message == nil {
			return nil, messengers.BadInput("message without sender.id or message")
		}
		token := c.MessageToken.String()
		if token == "" {
			return nil, messengers.BadInput("message without message_token")
		}
		in := &inbound.Message{Messenger: Key, Chat: Key + ":" + c.Sender.ID, Name: c.Sender.Name, Text: c.Message.Text,
			Target: Key + ":" + uri, MessageID: "viber:" + uri + ":" + token, Language: c.Sender.Language,
			Country: strings.ToUpper(c.Sender.Country)}
		in.Time, in.PlatformTime = inbound.Time(messengers.Millis(c.Timestamp), received)
		return &messengers.Result{Messages: []*inbound.Message{in}}, nil
	}
	return &messengers.Result{Ignored: 1}, nil
}

// validID is a Viber user ID as a chat key takes it.
func validID(id string) bool {
	return id != "" && len(id) <= 64 && !strings.ContainsAny(id, " :\n\t")
}
