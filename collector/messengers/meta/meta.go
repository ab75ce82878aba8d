// Package meta plugs Facebook Messenger pages and Instagram accounts into
// the collector; both arrive at one webhook (object page or instagram) in
// the same shape. Links https://m.me/PAGE?ref=CODE and
// https://ig.me/m/ACCOUNT?ref=CODE bring their ref back in a referral: on
// the Get Started postback of a new thread (postback.referral), in a
// messaging_referrals event for an existing thread, or on a message.
// Click-to-Messenger and click-to-Instagram ads arrive as referrals with
// source ADS and the ad's ID. Requests are signed with X-Hub-Signature-256
// under the app secret; the subscription handshake answers hub.challenge
// when hub.verify_token matches.
package meta

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/collector/messengers"
	"github.com/messtrack/messtrack/config"
)

// The site keys, channel names and chat key prefixes.
const (
	Messenger = "messenger"
	Instagram = "instagram"
)

// Hook is the plug of both: Messenger pages and Instagram accounts share
// one webhook.
type Hook struct{}

// Hook is the webhook's path segment.
func (Hook) Hook() string { return "meta" }

var (
	// nameRE is a page's or account's name as in m.me/NAME, ig.me/m/NAME.
	nameRE = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)
	idRE   = regexp.MustCompile(`^[0-9]{1,32}$`)
)

// account is a page or an Instagram account of the site.
type account struct {
	channel, name string
}

type site struct {
	secret, verify string
	// byID are the accounts by their ID (the webhook's entry[].id and
	// recipient.id), per object ("page", "instagram").
	byID    map[string]account
	targets map[string]string
}

// Open reads messenger: {pages: [{name, id}]} and instagram: {accounts:
// [{name, id}]}, with meta_app_secret and meta_verify_token (WhatsApp's
// when empty).
func (Hook) Open(s *config.Site) (messengers.Site, error) {
	st := &site{byID: map[string]account{}, targets: map[string]string{}, secret: s.MetaAppSecret, verify: s.MetaVerifyToken}
	if st.secret == "" {
		st.secret = s.WhatsAppAppSecret
	}
	if st.verify == "" {
		st.verify = s.WhatsAppVerifyToken
	}
	for _, l := range []struct{ key, list string }{{Messenger, "pages"}, {Instagram, "accounts"}} {
		m := s.Messenger(l.key)
		if m == nil {
			continue
		}
		at := "sites." + s.Name + "." + l.key + "." + l.list
		key, list := m.List()
		if key != l.list || len(list) == 0 {
			return nil, fmt.Errorf("%s: list the %s whose links the snippet rewrites, each {name, id}", at, l.list)
		}
		for i, a := range list {
			name := messengers.Name(a.Name)
			if !nameRE.MatchString(name) {
				return nil, fmt.Errorf("%s[%d].name: %q is not a name as in its link", at, i, a.Name)
			}
			if !idRE.MatchString(a.ID) {
				return nil, fmt.Errorf("%s[%d].id: %q is not a numeric ID (the webhook's entry id)", at, i, a.ID)
			}
			if _, dup := st.byID[a.ID]; dup {
				return nil, fmt.Errorf("%s[%d].id: %s is listed twice", at, i, a.ID)
			}
			st.byID[a.ID] = account{channel: l.key, name: name}
			st.targets[l.key+":"+name] = "ref"
		}
	}
	if len(st.byID) == 0 {
		return nil, nil
	}
	return st, nil
}

func (s *site) Targets() map[string]string { return s.targets }

// Problems says what leaves the webhook off.
func (s *site) Problems() []string {
	var out []string
	if s.secret == "" {
		out = append(out, "Messenger or Instagram accounts but no meta_app_secret (nor whatsapp_app_secret): their webhook answers 403 to every notification; set the Meta app's App Secret")
	}
	if s.verify == "" {
		out = append(out, "Messenger or Instagram accounts but no meta_verify_token (nor whatsapp_verify_token): Meta cannot verify the webhook URL; set a random token and enter it in the app's webhook settings")
	}
	return out
}

// Handle answers the subscription handshake (GET) and reads signed
// notifications (POST).
func (s *site) Handle(r *messengers.Request) (*messengers.Result, error) {
	if r.Method == "GET" {
		if r.Query("hub.mode") != "subscribe" || !messengers.Equal(r.Query("hub.verify_token"), s.verify) {
			return nil, messengers.Forbidden("hub.mode must be subscribe and hub.verify_token this site's meta_verify_token")
		}
		challenge := r.Query("hub.challenge")
		if challenge == "" || len(challenge) > 256 {
			return nil, messengers.BadInput("hub.challenge is missing or too long")
		}
		return &messengers.Result{Answer: challenge}, nil
	}
	if s.secret == "" {
		return nil, messengers.Forbidden("this site has no meta_app_secret (or whatsapp_app_secret): its Messenger and Instagram webhook is off")
	}
	sig, ok := strings.CutPrefix(r.Header("X-Hub-Signature-256"), "sha256=")
	if !ok || !messengers.HMACHex(sig, r.Body, s.secret) {
		return nil, messengers.Forbidden("missing or wrong X-Hub-Signature-256")
	}
	return s.read(r.Body, r.Received)
}

// Accounts names the pages and Instagram accounts by ID for Read.
type Accounts map[string]string

// Read reads one notification: object page for the given pages (ID →
// name), object instagram for the given accounts. It checks no signature:
// the webhook does.
func Read(body []byte, pages, accounts Accounts, received time.Time) (*messengers.Result, error) {
	s := &site{byID: map[string]account{}}
	for id, n := range pages {
		s.byID[id] = account{channel: Messenger, name: n}
	}
	for id, n := range accounts {
		s.byID[id] = account{channel: Instagram, name: n}
	}
	return s.read(body, received)
}

type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID        string     `json:"id"`
		Messaging []event    `json:"messaging"`
		Time      flexMillis `json:"time"`
	} `json:"entry"`
}

type event struct {
	Sender    struct{ ID string } `json:"sender"`
	Recipient struct{ ID string } `json:"recipient"`
	Timestamp flexMillis          `json:"timestamp"`
	Message   *struct {
		Mid      string    `json:"mid"`
		Text     string    `json:"text"`
		IsEcho   bool      `json:"is_echo"`
		Referral *referral `json:"referral"`
	} `json:"message"`
	Postback *struct {
		Mid      string    `json:"mid"`
		Referral *referral `json:"referral"`
	} `json:"postback"`
	Referral *referral `json:"referral"`
}

type referral struct {
	Ref            string `json:"ref"`
	Source         string `json:"source"`
	Type           string `json:"type"`
	AdID           string `json:"ad_id"`
	AdsContextData *struct {
		AdTitle  string `json:"ad_title"`
		PhotoURL string `json:"photo_url"`
		VideoURL string `json:"video_url"`
		PostID   string `json:"post_id"`
	} `json:"ads_context_data"`
}

// flexMillis is a time in Unix milliseconds, written as a number or, as in
// some of Meta's samples, a string; a value below 10^12 is in seconds.
type flexMillis int64

func (f *flexMillis) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		*f = 0
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("not a time in milliseconds")
	}
	if n > 0 && n < 1e12 {
		n *= 1000
	}
	*f = flexMillis(n)
	return nil
}

// maxEvents bounds the events one notification may carry.
const maxEvents = 1000

func (s *site) read(body []byte, received time.Time) (*messengers.Result, error) {
	var n notification
	if err := messengers.ReadJSON(body, &n, "Messenger or Instagram notification"); err != nil {
		return nil, err
	}
	var channel, prefix string
	switch n.Object {
	case "page":
		channel, prefix = Messenger, "fb:"
	case "instagram":
		channel, prefix = Instagram, "ig:"
	default:
		return nil, messengers.BadInput("object %q is neither page nor instagram", clip(n.Object))
	}
	res := &messengers.Result{}
	count := 0
	for _, e := range n.Entry {
		acc, ok := s.byID[e.ID]
		if !ok || acc.channel != channel {
			return nil, messengers.BadInput("entry id %q is not a %s of this site", clip(e.ID), channel)
		}
		for i := range e.Messaging {
			if count++; count > maxEvents {
				return nil, messengers.BadInput("more than %d events in one notification", maxEvents)
			}
			in := readEvent(&e.Messaging[i], acc, prefix, e.ID, received)
			if in == nil {
				res.Ignored++
				continue
			}
			res.Messages = append(res.Messages, in)
		}
	}
	return res, nil
}

// readEvent is one messaging event as a Message, or nil when it is nobody
// writing (echoes of the business's own messages, reads, deliveries).
func readEvent(e *event, acc account, prefix, accountID string, received time.Time) *inbound.Message {
	psid := e.Sender.ID
	if psid == "" || psid == accountID || len(psid) > 64 || strings.ContainsAny(psid, " /:") {
		return nil
	}
	in := &inbound.Message{Messenger: acc.channel, Chat: acc.channel + ":" + psid, Target: acc.channel + ":" + acc.name}
	ts := strconv.FormatInt(int64(e.Timestamp), 10)
	var ref *referral
	switch {
	case e.Message != nil:
		if e.Message.IsEcho || e.Message.Mid == "" {
			return nil
		}
		in.Text, in.MessageID, ref = e.Message.Text, prefix+e.Message.Mid, e.Message.Referral
	case e.Postback != nil:
		// A Get Started tap; its referral is the link that opened the
		// thread. Postbacks without one are buttons in a conversation.
		if e.Postback.Referral == nil {
			return nil
		}
		in.MessageID, ref = prefix+"pb:"+psid+":"+ts, e.Postback.Referral
		if e.Postback.Mid != "" {
			in.MessageID = prefix + e.Postback.Mid
		}
	case e.Referral != nil:
		in.MessageID, ref = prefix+"ref:"+psid+":"+ts, e.Referral
	default:
		return nil
	}
	in.Time, in.PlatformTime = inbound.Time(messengers.Millis(int64(e.Timestamp)), received)
	if ref == nil {
		return in
	}
	if r := strings.TrimSpace(ref.Ref); r != "" {
		in.Start, in.HasStart = r, true
	}
	if ref.AdID != "" {
		in.Referral = &inbound.Referral{SourceID: ref.AdID, SourceType: "ad"}
		if c := ref.AdsContextData; c != nil {
			in.Referral.Headline = c.AdTitle
		}
	}
	return in
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

var _ json.Unmarshaler = (*flexMillis)(nil)
