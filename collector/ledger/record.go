package ledger

import (
	"github.com/messtrack/messtrack/collector/score"
	"github.com/messtrack/messtrack/reports"
)

// Source is where a chat came from, as the chat record shows it; it is a
// snapshot taken at attribution, so it outlives the visit.
type Source struct {
	Channel     string `json:"channel"`
	UTMSource   string `json:"utm_source"`
	UTMMedium   string `json:"utm_medium"`
	UTMCampaign string `json:"utm_campaign"`
	UTMContent  string `json:"utm_content"`
	UTMTerm     string `json:"utm_term"`
	Referrer    string `json:"referrer"`
	LandingPage string `json:"landing_page"`
	Page        string `json:"page"`
	AdID        string `json:"ad_id"`
	AdTitle     string `json:"ad_title"`
	ClickID     string `json:"click_id"`
	// AdType (ad/post) and OfflineSource (flyer, billboard) go beyond the
	// fixed keys; reports use them.
	AdType        string `json:"ad_type,omitempty"`
	OfflineSource string `json:"offline_source,omitempty"`
}

// Visitor is who the visitor was, as the chat record shows it.
type Visitor struct {
	Country  string `json:"country"`
	Region   string `json:"region"`
	City     string `json:"city"`
	OS       string `json:"os"`
	Browser  string `json:"browser"`
	Device   string `json:"device"`
	Screen   string `json:"screen"`
	Language string `json:"language"`
}

// Record is the stored record of a chat (field "rec" of store.Chat).
type Record struct {
	Chat      string `json:"chat"`
	Messenger string `json:"messenger"`
	Name      string `json:"name,omitempty"`
	Username  string `json:"username,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Language  string `json:"language,omitempty"`
	Target    string `json:"target,omitempty"`
	// First is the chat's first message time; ConvAt the current
	// conversation's (Unix ms, platform timestamps).
	First  int64 `json:"first"`
	ConvAt int64 `json:"conv_at"`
	// Conversations counts the chat's conversations (attributed or not).
	Conversations int     `json:"conversations"`
	Dialog        string  `json:"dialog"`
	Method        string  `json:"method"`
	Confidence    float64 `json:"confidence"`
	Confirmed     bool    `json:"confirmed,omitempty"`
	// VisitN and Visit identify the current conversation's visit.
	VisitN     uint64            `json:"visit_n,omitempty"`
	Visit      string            `json:"visit,omitempty"`
	Source     Source            `json:"source"`
	Visitor    Visitor           `json:"visitor"`
	Candidates []score.Candidate `json:"candidates,omitempty"`
	// Starts are the chat's conversation starts, oldest first (at most
	// MaxStarts): what decides whether a later message, or a late-delivered
	// earlier one, starts a conversation.
	Starts []Start `json:"starts,omitempty"`
	// ConvMsg names the message that began the current conversation (in
	// the form notices refer to it), so an edit of it can be told apart.
	ConvMsg string `json:"conv_msg,omitempty"`
	// Tags are the operators' free-form tags (collector/chattags).
	Tags []string `json:"tags,omitempty"`
}

// Start is one conversation start of a chat.
type Start struct {
	// At is the starting message's time (Unix ms).
	At int64 `json:"at"`
	// Reason is why the message started a conversation: StartFirst,
	// StartReferral or StartCode.
	Reason string `json:"reason"`
	Method string `json:"method"`
	VisitN uint64 `json:"visit_n,omitempty"`
	// Msg is the starting message's ID, when the platform gave one.
	Msg string `json:"msg,omitempty"`
}

// Reasons a message starts a conversation.
const (
	// StartFirst: it was the chat's earliest message.
	StartFirst = "first"
	// StartReferral: it came from a click-to-WhatsApp ad.
	StartReferral = "referral"
	// StartCode: it was the first message of the chat with a visit's code.
	StartCode = "code"
	// StartSendBack: the business's template to a number the visitor left
	// on the page; the person's answer continues it.
	StartSendBack = "send_back"
)

// MaxStarts bounds the starts a chat record keeps.
const MaxStarts = 200

// StartsOf returns a chat's conversation starts. A record written before
// starts were kept yields its current conversation.
func StartsOf(r *Record) []Start {
	if r == nil {
		return nil
	}
	if len(r.Starts) > 0 || r.ConvAt == 0 {
		return r.Starts
	}
	reason := StartFirst
	switch r.Method {
	case reports.MethodID:
		reason = StartCode
	case reports.MethodReferral:
		reason = StartReferral
	}
	return []Start{{At: r.ConvAt, Reason: reason, Method: r.Method, VisitN: r.VisitN}}
}

// StartOfVisit returns the start that a visit's code began, or nil.
func StartOfVisit(starts []Start, n uint64) *Start {
	for i := range starts {
		if starts[i].VisitN == n {
			return &starts[i]
		}
	}
	return nil
}

// SetStart returns starts with the one at "at" given a new method and
// visit.
func SetStart(starts []Start, at int64, method string, visit uint64) []Start {
	out := append([]Start(nil), starts...)
	for i := range out {
		if out[i].At == at {
			out[i].Method, out[i].VisitN = method, visit
		}
	}
	return out
}

// History kinds besides the notices' (inbound.NoticeReaction, …).
const (
	// KindConversation: a new conversation, attributed or not.
	KindConversation = "conversation"
	// KindMessage: a later message of the same conversation.
	KindMessage = "message"
	// KindContinued: a start a late-delivered earlier message showed was
	// no start.
	KindContinued = "continued"
	// KindConfirmed: an operator confirmed a candidate.
	KindConfirmed = "confirmed"
	// KindRevoked: a code proved the heuristic's visit belonged to another
	// chat.
	KindRevoked = "revoked"
)

// HistoryEntry is one conversation or contact of a chat.
type HistoryEntry struct {
	Time string `json:"time"`
	// Kind is one of the Kind constants, or a notice about an earlier
	// message: "reaction", "edited", "deleted".
	Kind       string   `json:"kind"`
	Method     string   `json:"method,omitempty"`
	Confidence *float64 `json:"confidence,omitempty"`
	Visit      string   `json:"visit,omitempty"`
	MessageID  string   `json:"message_id,omitempty"`
	// PlatformTime is the message's time as the platform gave it, when it
	// was too far ahead to be believed and Time is when it was received.
	PlatformTime string `json:"platform_time,omitempty"`
	// Text is the conversation's first message, kept for review, or an
	// edit's new text.
	Text string `json:"text,omitempty"`
	// Ref is the message a notice is about; Emoji a reaction's emoji
	// ("" in a reaction: the reaction was removed).
	Ref   string `json:"ref,omitempty"`
	Emoji string `json:"emoji,omitempty"`
}
