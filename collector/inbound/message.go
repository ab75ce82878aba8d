package inbound

import "time"

// Message is one message from any messenger, in the form the matcher and
// the chat ledger take.
type Message struct {
	// Messenger is whatsapp, telegram, or the generic channel's name.
	Messenger string
	// Chat is the chat key ("whatsapp:16505551234", "telegram:1111111").
	Chat string
	// Phone is the sender's number in digits, when the platform gives it.
	Phone string
	// Country is a country hint when there is no phone: a WhatsApp
	// business-scoped user ID starts with the user's country code.
	Country  string
	Name     string
	Username string
	// Target is the chat target written to, in the click index's form
	// ("whatsapp:<digits>", "telegram:<bot or user>"); "" when unknown.
	Target string
	// Text is the message text or caption; it may hold a code.
	Text string
	// Start is the Telegram /start payload; HasStart tells a bare /start
	// from plain text.
	Start    string
	HasStart bool
	// Time is the platform's timestamp of the message, or the time it was
	// received when the platform's is missing or in the future (Time).
	Time time.Time
	// PlatformTime is the platform's timestamp when Time is not it.
	PlatformTime time.Time
	// MessageID makes a redelivered message count once; "" when the
	// source gives none (the generic API).
	MessageID string
	// Ref is how the platform's later notices (reactions, edits,
	// deletions) name this message; "" when it is MessageID.
	Ref string
	// Language is the Telegram user's language_code.
	Language string
	Referral *Referral
	// ReplyTo is the platform's ID of the business message this one
	// answers (WhatsApp's context.id), "" when it answers none;
	// ButtonReply tells a tapped button or list row from typed text.
	ReplyTo     string
	ButtonReply bool
}

// NoticeRef is how notices name the message: Ref, else its MessageID.
func (m *Message) NoticeRef() string {
	if m.Ref != "" {
		return m.Ref
	}
	return m.MessageID
}

// Referral is the click-to-WhatsApp ad a message came from.
type Referral struct {
	SourceURL  string `json:"source_url,omitempty"`
	SourceID   string `json:"source_id,omitempty"`
	SourceType string `json:"source_type,omitempty"`
	Headline   string `json:"headline,omitempty"`
	Body       string `json:"body,omitempty"`
	MediaType  string `json:"media_type,omitempty"`
	CtwaClid   string `json:"ctwa_clid,omitempty"`
}

// History kinds of notices.
const (
	NoticeReaction = "reaction"
	NoticeEdited   = "edited"
	NoticeDeleted  = "deleted"
)

// Notice is one platform event about an earlier message (a reaction, an
// edit, a deletion) rather than a person writing, in one form for every
// inbound path.
type Notice struct {
	// Kind is NoticeReaction, NoticeEdited or NoticeDeleted.
	Kind string
	Chat string
	// ID is the notice's own ID, which makes a redelivered notice count
	// once (the same seen mark as messages); "" when the source gives none.
	ID string
	// Ref names the message the notice is about, in the form
	// Message.NoticeRef gives that message; "" when the platform does not
	// say.
	Ref string
	// Emoji is a reaction's emoji, "" when the reaction was removed.
	Emoji string
	// Text is an edit's new text.
	Text string
	Time time.Time
}
