// Package max plugs MAX bots into the collector: links
// https://max.ru/BOT?start=CODE, whose code comes back in the bot_started
// update's payload; webhooks checked by the X-Max-Bot-Api-Secret header
// (the secret given when subscribing); updates read by Read.
package max

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/config"
)

// Key is the site key, channel name and chat key prefix.
const Key = "max"

// Messenger is MAX's plug.
type Messenger struct{}

// Hook is the webhook's path segment.
func (Messenger) Hook() string { return Key }

// secretRE is what POST /subscriptions accepts as a secret.
var secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{5,256}$`)

// botRE is a MAX bot's link name.
var botRE = regexp.MustCompile(`^[a-z0-9_.]{2,64}$`)

// Open reads max: {bots: [NAME, …], secret: "…"}.
func (Messenger) Open(s *config.Site) (messengers.Site, error) {
	m := s.Messenger(Key)
	if m == nil {
		return nil, nil
	}
	at := "sites." + s.Name + "." + Key
	if len(m.Bots) == 0 {
		return nil, fmt.Errorf("%s.bots: list the bots whose max.ru links the snippet rewrites", at)
	}
	if m.Secret != "" && !secretRE.MatchString(m.Secret) {
		return nil, fmt.Errorf("%s.secret: MAX takes 5-256 of A-Z, a-z, 0-9, _ and -", at)
	}
	site := &site{secret: m.Secret}
	for i, b := range m.Bots {
		name := messengers.Name(b.Name)
		if !botRE.MatchString(name) {
			return nil, fmt.Errorf("%s.bots[%d]: %q is not a MAX bot's name as in max.ru/NAME", at, i, b.Name)
		}
		site.bots = append(site.bots, name)
	}
	return site, nil
}

type site struct {
	bots   []string
	secret string
}

func (s *site) Targets() map[string]string {
	out := make(map[string]string, len(s.bots))
	for _, x := range s.bots {
		out[Key+":"+x] = "start"
	}
	return out
}

// Problems says what leaves the webhook off.
func (s *site) Problems() []string {
	if s.secret == "" {
		return []string{"MAX bots but no max.secret: the MAX webhook answers 403 to every update; set one and pass it as secret to POST /subscriptions"}
	}
	return nil
}

// Handle checks the secret header, then reads the update for the bot the
// subscription's URL names (?bot=NAME; the first bot when left out).
func (s *site) Handle(r *messengers.Request) (*messengers.Result, error) {
	if r.Method != "POST" {
		return nil, messengers.BadInput("the MAX webhook takes POST")
	}
	if s.secret == "" {
		return nil, messengers.Forbidden("this site has no max.secret: its MAX webhook is off")
	}
	if !messengers.Equal(r.Header("X-Max-Bot-Api-Secret"), s.secret) {
		return nil, messengers.Forbidden("missing or wrong X-Max-Bot-Api-Secret")
	}
	bot, ok := messengers.Pick(r.Query("bot"), s.bots)
	if !ok {
		return nil, messengers.BadInput("bot %q is not configured for this site", clip(r.Query("bot")))
	}
	in, err := Read(r.Body, bot, r.Received)
	if err != nil {
		return nil, err
	}
	if in == nil {
		return &messengers.Result{Ignored: 1}, nil
	}
	return &messengers.Result{Messages: []*inbound.Message{in}}, nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// update is a MAX Update: only bot_started and message_created matter.
type update struct {
	UpdateType string   `json:"update_type"`
	Timestamp  int64    `json:"timestamp"`
	ChatID     int64    `json:"chat_id"`
	User       *user    `json:"user"`
	Payload    *string  `json:"payload"`
	UserLocale string   `json:"user_locale"`
	Message    *message `json:"message"`
}

type user struct {
	UserID    int64  `json:"user_id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Name      string `json:"name"`
	Username  string `json:"username"`
	IsBot     bool   `json:"is_bot"`
}

type message struct {
	Sender    *user `json:"sender"`
	Recipient struct {
		ChatID   int64  `json:"chat_id"`
		ChatType string `json:"chat_type"`
	} `json:"recipient"`
	Timestamp int64 `json:"timestamp"`
	Body      struct {
		Mid  string `json:"mid"`
		Text string `json:"text"`
	} `json:"body"`
}

// Read turns one update, delivered to bot at received, into a Message: a
// person pressing Start (bot_started, the link's payload as the start
// code) or writing in the bot's dialog (message_created). Anything else
// (groups, channels, bots, other updates) is nil. A body that is no update
// is a bad-input error.
func Read(body []byte, bot string, received time.Time) (*inbound.Message, error) {
	var u update
	if err := messengers.ReadJSON(body, &u, "MAX update"); err != nil {
		return nil, err
	}
	if u.UpdateType == "" {
		return nil, messengers.BadInput("the update has no update_type")
	}
	target := ""
	if bot != "" {
		target = Key + ":" + bot
	}
	switch u.UpdateType {
	case "bot_started":
		if u.User == nil || u.User.UserID == 0 || u.User.IsBot {
			return nil, nil
		}
		in := person(u.User, target, u.UserLocale)
		in.MessageID = "max:" + bot + ":started:" + strconv.FormatInt(u.User.UserID, 10) + ":" + strconv.FormatInt(u.Timestamp, 10)
		in.Time, in.PlatformTime = inbound.Time(messengers.Millis(u.Timestamp), received)
		if u.Payload != nil {
			in.Start, in.HasStart = strings.TrimSpace(*u.Payload), true
		}
		return in, nil
	case "message_created":
		m := u.Message
		if m == nil || m.Sender == nil || m.Sender.UserID == 0 || m.Sender.IsBot || m.Recipient.ChatType != "dialog" || m.Body.Mid == "" {
			return nil, nil
		}
		in := person(m.Sender, target, u.UserLocale)
		in.Text, in.MessageID = m.Body.Text, "max:"+m.Body.Mid
		at := m.Timestamp
		if at == 0 {
			at = u.Timestamp
		}
		in.Time, in.PlatformTime = inbound.Time(messengers.Millis(at), received)
		return in, nil
	}
	return nil, nil
}

func person(u *user, target, locale string) *inbound.Message {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if name == "" {
		name = u.Name
	}
	return &inbound.Message{Messenger: Key, Chat: Key + ":" + strconv.FormatInt(u.UserID, 10), Name: name,
		Username: u.Username, Target: target, Language: locale}
}
