// Package vk plugs VK communities into the collector: links
// https://vk.me/NAME?ref=CODE&ref_source=SOURCE, whose ref comes back on
// the person's message (message_new, object.message.ref); the Callback
// API's webhook, which first asks for the community's confirmation string
// and then carries the community's secret in every event's body.
package vk

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
const Key = "vk"

// Messenger is VK's plug.
type Messenger struct{}

// Hook is the webhook's path segment.
func (Messenger) Hook() string { return Key }

// nameRE is a community's short name as in vk.me/NAME (or clubN).
var nameRE = regexp.MustCompile(`^[a-z0-9_.]{2,64}$`)

type community struct {
	name, confirmation, secret string
}

type site struct {
	// byID are the communities by their group ID.
	byID map[int64]community
	// names are the communities' names, for targets, in the config's
	// order, and ids their IDs.
	names []string
	ids   []int64
}

// Open reads vk: {communities: [{name, id, confirmation, secret}]}.
func (Messenger) Open(s *config.Site) (messengers.Site, error) {
	m := s.Messenger(Key)
	if m == nil {
		return nil, nil
	}
	at := "sites." + s.Name + "." + Key + ".communities"
	if len(m.Communities) == 0 {
		return nil, fmt.Errorf("%s: list the communities whose vk.me links the snippet rewrites", at)
	}
	st := &site{byID: map[int64]community{}}
	for i, c := range m.Communities {
		cat := fmt.Sprintf("%s[%d]", at, i)
		name := messengers.Name(c.Name)
		if !nameRE.MatchString(name) {
			return nil, fmt.Errorf("%s.name: %q is not a community's short name as in vk.me/NAME", cat, c.Name)
		}
		id, err := strconv.ParseInt(c.ID, 10, 64)
		if err != nil || id <= 0 {
			return nil, fmt.Errorf("%s.id: %q is not a community's numeric ID (the group_id of its events)", cat, c.ID)
		}
		if _, dup := st.byID[id]; dup {
			return nil, fmt.Errorf("%s.id: %d is listed twice", cat, id)
		}
		if c.Confirmation == "" {
			return nil, fmt.Errorf("%s.confirmation: the string the Callback API settings show, which the webhook answers", cat)
		}
		st.byID[id] = community{name: name, confirmation: c.Confirmation, secret: c.Secret}
		st.names, st.ids = append(st.names, name), append(st.ids, id)
	}
	return st, nil
}

func (s *site) Targets() map[string]string {
	out := make(map[string]string, len(s.names))
	for _, x := range s.names {
		out[Key+":"+x] = "ref"
	}
	return out
}

// event is a Callback API event.
type event struct {
	Type    string  `json:"type"`
	GroupID int64   `json:"group_id"`
	EventID string  `json:"event_id"`
	Secret  *string `json:"secret"`
	Object  *struct {
		Message *message `json:"message"`
	} `json:"object"`
}

type message struct {
	ID        int64  `json:"id"`
	Date      int64  `json:"date"`
	FromID    int64  `json:"from_id"`
	PeerID    int64  `json:"peer_id"`
	Out       int    `json:"out"`
	Text      string `json:"text"`
	Ref       string `json:"ref"`
	RefSource string `json:"ref_source"`
}

// Problems says what leaves the webhook off.
func (s *site) Problems() []string {
	var out []string
	for _, id := range s.ids {
		if c := s.byID[id]; c.secret == "" {
			out = append(out, "VK community "+c.name+" has no secret: its Callback API events are answered 403; set the secret in the community's Callback API settings and here")
		}
	}
	return out
}

// Handle answers the confirmation event with the community's string;
// every other event must carry the community's secret and is answered ok.
func (s *site) Handle(r *messengers.Request) (*messengers.Result, error) {
	if r.Method != "POST" {
		return nil, messengers.BadInput("the VK Callback API webhook takes POST")
	}
	var e event
	if err := messengers.ReadJSON(r.Body, &e, "Callback API event"); err != nil {
		return nil, err
	}
	c, ok := s.byID[e.GroupID]
	if !ok {
		return nil, messengers.BadInput("group_id %d is not a community of this site", e.GroupID)
	}
	if e.Type == "confirmation" {
		return &messengers.Result{Answer: c.confirmation}, nil
	}
	if c.secret == "" {
		return nil, messengers.Forbidden("community %s has no secret: its webhook is off", c.name)
	}
	if e.Secret == nil || !messengers.Equal(*e.Secret, c.secret) {
		return nil, messengers.Forbidden("missing or wrong secret")
	}
	in, err := read(&e, c.name, r.Received)
	if err != nil {
		return nil, err
	}
	res := &messengers.Result{Answer: "ok"}
	if in == nil {
		res.Ignored = 1
	} else {
		res.Messages = []*inbound.Message{in}
	}
	return res, nil
}

// Read turns one Callback API event of the named community into a
// Message: a person writing to the community (message_new), the link's ref
// as the start code. Anything else is nil; a body that is no event is a
// bad-input error. Read checks no secret: Handle does.
func Read(body []byte, community string, received time.Time) (*inbound.Message, error) {
	var e event
	if err := messengers.ReadJSON(body, &e, "Callback API event"); err != nil {
		return nil, err
	}
	return read(&e, community, received)
}

// chatPeers are where group chats' peer IDs start.
const chatPeers = 2000000000

func read(e *event, community string, received time.Time) (*inbound.Message, error) {
	if e.Type == "" {
		return nil, messengers.BadInput("the event has no type")
	}
	if e.Type != "message_new" {
		return nil, nil
	}
	if e.Object == nil || e.Object.Message == nil {
		return nil, messengers.BadInput("message_new without object.message (the Callback API before version 5.103 is not read)")
	}
	m := e.Object.Message
	if m.FromID <= 0 || m.PeerID != m.FromID || m.PeerID >= chatPeers || m.Out != 0 || m.ID <= 0 {
		return nil, nil
	}
	in := &inbound.Message{Messenger: Key, Chat: Key + ":" + strconv.FormatInt(m.FromID, 10), Text: m.Text,
		Target:    Key + ":" + community,
		MessageID: "vk:" + strconv.FormatInt(e.GroupID, 10) + ":" + strconv.FormatInt(m.ID, 10)}
	if ref := strings.TrimSpace(m.Ref); ref != "" {
		in.Start, in.HasStart = ref, true
	}
	in.Time, in.PlatformTime = inbound.Time(time.Unix(m.Date, 0), received)
	return in, nil
}
