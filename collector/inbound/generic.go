package inbound

import (
	"regexp"
	"strings"
	"time"

	"github.com/messtrack/messtrack/config"
)

// The generic messages API: the first message (or any message) of a chat
// on any platform, or a notice about one, in the form README.md documents.

// Generic is the generic message's body.
type Generic struct {
	Channel string `json:"channel"`
	From    string `json:"from"`
	To      string `json:"to"`
	Text    string `json:"text"`
	Time    string `json:"time"`
	Name    string `json:"name"`
	// Kind is message (the default) or reaction, edit, delete.
	Kind string `json:"kind"`
	// ID is this message's or notice's own ID, so a redelivery counts
	// once.
	ID string `json:"id"`
	// Ref is the ID of the message a notice is about.
	Ref string `json:"ref"`
	// Emoji is a reaction's; empty: removed.
	Emoji string `json:"emoji"`
}

// Kinds of a generic message.
const (
	KindMessage  = "message"
	KindReaction = "reaction"
	KindEdit     = "edit"
	KindDelete   = "delete"
)

// ReadGeneric checks a generic body received at the given time and gives
// the message it is, or, for a kind other than message, the notice
// (Message is then nil). A body it refuses is an *InputError.
func ReadGeneric(req *Generic, received time.Time) (*Message, *Notice, error) {
	in, err := genericMessage(req, received)
	if err != nil {
		return nil, nil, err
	}
	kind, err := genericKind(req.Kind)
	if err != nil {
		return nil, nil, err
	}
	if in.MessageID, err = genericID("id", in.Messenger, strings.TrimSpace(req.ID)); err != nil {
		return nil, nil, err
	}
	if kind == KindMessage {
		return in, nil, nil
	}
	n, err := genericNotice(req, kind, in)
	if err != nil {
		return nil, nil, err
	}
	return nil, n, nil
}

var channelRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,31}$`)

// genericMessage checks a generic message and turns it into a Message.
func genericMessage(req *Generic, received time.Time) (*Message, error) {
	channel := strings.ToLower(strings.TrimSpace(req.Channel))
	if !channelRE.MatchString(channel) {
		return nil, badInput("channel %q is not a name like whatsapp, telegram or viber", clip(req.Channel, 40))
	}
	from := strings.TrimSpace(req.From)
	in := &Message{Messenger: channel, Name: req.Name, Text: req.Text, Time: received.UTC()}
	// A phone number as people write it becomes its digits; any other
	// sender ID is taken as it is, if it is one token.
	if d, err := config.Digits(from); err == nil && channel != "telegram" {
		from, in.Phone = d, d
	}
	if from == "" || len(from) > 128 || CleanName(from) != from || strings.ContainsAny(from, " /") {
		return nil, badInput("from is required: the sender's ID on the channel, without spaces or control characters")
	}
	if req.Time != "" {
		t, err := time.Parse(time.RFC3339, req.Time)
		if err != nil {
			return nil, badInput("time %q is not an RFC 3339 time", clip(req.Time, 40))
		}
		in.Time, in.PlatformTime = Time(t, in.Time)
	}
	in.Chat = channel + ":" + from
	to := strings.TrimSpace(req.To)
	switch {
	case to == "":
	case channel == "whatsapp" || channel == "telegram":
		in.Target = NormalizeTarget(channel + ":" + to)
		if in.Target == "" {
			return nil, badInput("to %q is not a %s number or username", clip(to, 40), channel)
		}
	default:
		if len(to) > 128 || CleanName(to) != to {
			return nil, badInput("to is longer than 128 bytes or holds control characters")
		}
		if d, err := config.Digits(to); err == nil {
			to = d
		}
		in.Target = channel + ":" + strings.ToLower(to)
	}
	if channel == "telegram" {
		bot := strings.TrimPrefix(in.Target, "telegram:")
		in.Start, in.HasStart = StartPayload(in.Text, bot)
	}
	return in, nil
}

// genericID checks a generic id or ref and gives its stored form, scoped
// to the channel so that two platforms' IDs never meet.
func genericID(field, channel, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if len(id) > 128 || CleanName(id) != id {
		return "", badInput("%s must be at most 128 bytes on one line, without control characters", field)
	}
	return "msg:" + channel + ":" + id, nil
}

// genericKind checks a generic message's kind: "" or message is a person
// writing, otherwise one of the notice kinds.
func genericKind(kind string) (string, error) {
	switch k := strings.ToLower(strings.TrimSpace(kind)); k {
	case "", KindMessage:
		return KindMessage, nil
	case KindReaction, KindEdit, KindDelete:
		return k, nil
	}
	return "", badInput("kind %q is not one of message, reaction, edit, delete", clip(kind, 40))
}

// genericNotice is the notice (kind reaction, edit or delete) of the
// message in already read.
func genericNotice(req *Generic, kind string, in *Message) (*Notice, error) {
	ref, err := genericID("ref", in.Messenger, strings.TrimSpace(req.Ref))
	if err != nil {
		return nil, err
	}
	if ref == "" {
		return nil, badInput("ref is required for kind %s: the id of the message it is about", kind)
	}
	n := &Notice{Chat: in.Chat, ID: in.MessageID, Ref: ref, Time: in.Time}
	switch kind {
	case KindReaction:
		n.Kind, n.Emoji = NoticeReaction, req.Emoji
	case KindEdit:
		n.Kind, n.Text = NoticeEdited, req.Text
	default:
		n.Kind = NoticeDeleted
	}
	return n, nil
}
