package inbound

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/messtrack/messtrack/config"
)

// The WhatsApp Cloud API webhook's notifications, field names as in Meta's
// webhook reference.

// WhatsApp is a notification as read: its messages and notices in the
// order they came, and how many things in it were not a person's message
// in a one-to-one chat (statuses, other fields, system and group messages).
type WhatsApp struct {
	Events  []Event
	Ignored int
	// NoSender are the IDs of messages that were ignored because they name
	// no sender; they count in Ignored too.
	NoSender []string
	// Statuses are the statuses of the business's own messages
	// (whatsapp_status.go); statuses of no one-to-one chat count in Ignored.
	Statuses []Status
}

// Event is one message of a notification: a person writing (Message) or
// notices about an earlier message (Notices).
type Event struct {
	Message *Message
	Notices []Notice
}

// ReadWhatsApp reads a notification's body, received at the given time.
// A body that is no notification is an *InputError.
func ReadWhatsApp(body []byte, received time.Time) (*WhatsApp, error) {
	var p waPayload
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, badInput("malformed WhatsApp notification: %s", JSONProblem(err))
	}
	out := &WhatsApp{}
	for _, e := range p.Entry {
		for _, ch := range e.Changes {
			if ch.Field != "messages" {
				out.Ignored++
				continue
			}
			for i := range ch.Value.Statuses {
				if st := whatsAppStatus(&ch.Value.Statuses[i], received); st != nil {
					out.Statuses = append(out.Statuses, *st)
				} else {
					out.Ignored++
				}
			}
			for i := range ch.Value.Messages {
				m := &ch.Value.Messages[i]
				in, noSender := whatsAppMessage(&ch.Value, m, received)
				if in == nil {
					out.Ignored++
					if noSender {
						out.NoSender = append(out.NoSender, m.ID)
					}
					continue
				}
				if ns := whatsAppNotice(m, in); ns != nil {
					out.Events = append(out.Events, Event{Notices: ns})
					continue
				}
				out.Events = append(out.Events, Event{Message: in})
			}
		}
	}
	return out, nil
}

// waPayload is a webhook notification: entries of changes, each with the
// messages, contacts and statuses of one business number.
type waPayload struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string  `json:"field"`
			Value waValue `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type waValue struct {
	Metadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []waContact `json:"contacts"`
	Messages []waMessage `json:"messages"`
	Statuses []waStatus  `json:"statuses"`
}

// waContact is the sender: wa_id is the phone in digits, user_id the
// business-scoped user ID, which comes alone for users who hide their
// number behind a username.
type waContact struct {
	Profile struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	} `json:"profile"`
	WaID   string `json:"wa_id"`
	UserID string `json:"user_id"`
}

type waMessage struct {
	From       string        `json:"from"`
	FromUserID string        `json:"from_user_id"`
	GroupID    string        `json:"group_id"`
	ID         string        `json:"id"`
	Timestamp  flexibleUnix  `json:"timestamp"`
	Type       string        `json:"type"`
	Text       *waText       `json:"text"`
	Image      *waMedia      `json:"image"`
	Video      *waMedia      `json:"video"`
	Document   *waMedia      `json:"document"`
	Button     *waButton     `json:"button"`
	Inter      *waInteractiv `json:"interactive"`
	Referral   *Referral     `json:"referral"`
	Context    *waContext    `json:"context"`
	waNoticeFields
}

// waContext is the business message a reply answers (a template's quick
// reply button, an interactive button, a quoted reply).
type waContext struct {
	ID string `json:"id"`
}

type waText struct {
	Body string `json:"body"`
}

type waMedia struct {
	Caption string `json:"caption"`
}

type waButton struct {
	Text    string `json:"text"`
	Payload string `json:"payload"`
}

type waInteractiv struct {
	Type        string `json:"type"`
	ButtonReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"button_reply"`
	ListReply *struct {
		ID    string `json:"id"`
		Title string `json:"title"`
	} `json:"list_reply"`
}

// flexibleUnix is a Unix time in seconds sent as a string (as Meta does) or
// as a number.
type flexibleUnix int64

func (f *flexibleUnix) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return errors.New("timestamp is not Unix seconds")
	}
	*f = flexibleUnix(v)
	return nil
}

// text is what the person wrote or chose: text body, media caption, or the
// label of a button or list row they tapped.
func (m *waMessage) text() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.Image != nil:
		return m.Image.Caption
	case m.Video != nil:
		return m.Video.Caption
	case m.Document != nil:
		return m.Document.Caption
	case m.Button != nil:
		return m.Button.Text
	case m.Inter != nil && m.Inter.ButtonReply != nil:
		return m.Inter.ButtonReply.Title
	case m.Inter != nil && m.Inter.ListReply != nil:
		return m.Inter.ListReply.Title
	}
	return ""
}

// challengeRE is what a verification challenge may be; it is echoed back,
// so nothing else is.
var challengeRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)

// ValidChallenge tells whether a subscription handshake's hub.challenge
// may be echoed back.
func ValidChallenge(challenge string) bool {
	return challengeRE.MatchString(challenge)
}

// ValidHubSignature checks X-Hub-Signature-256 over the raw body as sent:
// Meta signs its own \u-escaped bytes, so the body is never re-encoded.
func ValidHubSignature(secret string, body []byte, header string) bool {
	sig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hmac.Equal(got, mac.Sum(nil))
}

// whatsAppMessage turns one message of a notification into a Message, or
// nil for what is not a person's message in a one-to-one chat; noSender
// tells a message that names no sender.
func whatsAppMessage(val *waValue, m *waMessage, received time.Time) (in *Message, noSender bool) {
	if m.Type == "system" || m.GroupID != "" {
		return nil, false
	}
	contact := findContact(val.Contacts, m)
	in = &Message{Messenger: "whatsapp", Text: m.text(), Referral: m.Referral}
	if m.ID != "" {
		in.MessageID = "wa:" + m.ID
	}
	waID, userID := m.From, m.FromUserID
	if contact != nil {
		in.Name, in.Username = contact.Profile.Name, contact.Profile.Username
		if contact.WaID != "" {
			waID = contact.WaID
		}
		if userID == "" {
			userID = contact.UserID
		}
	}
	switch {
	case waID != "":
		in.Chat = "whatsapp:" + CleanName(waID)
		if d, err := config.Digits(waID); err == nil {
			in.Phone = d
		}
	case userID != "":
		in.Chat = "whatsapp:" + CleanName(userID)
		// A business-scoped user ID starts with the user's country:
		// "US.13491208655302741918".
		if cc, _, ok := strings.Cut(userID, "."); ok && len(cc) == 2 {
			in.Country = strings.ToUpper(cc)
		}
	default:
		return nil, true
	}
	if d, err := config.Digits(val.Metadata.DisplayPhoneNumber); err == nil {
		in.Target = "whatsapp:" + d
	}
	in.Time, in.PlatformTime = Time(time.Unix(int64(m.Timestamp), 0), received)
	if m.Context != nil && ValidMessageID(m.Context.ID) {
		in.ReplyTo = m.Context.ID
		in.ButtonReply = m.Button != nil || (m.Inter != nil && (m.Inter.ButtonReply != nil || m.Inter.ListReply != nil))
	}
	return in, false
}

// findContact returns the contacts entry of the message's sender.
func findContact(contacts []waContact, m *waMessage) *waContact {
	for i := range contacts {
		c := &contacts[i]
		if (m.From != "" && c.WaID == m.From) || (m.FromUserID != "" && c.UserID == m.FromUserID) {
			return c
		}
	}
	if len(contacts) == 1 {
		return &contacts[0]
	}
	return nil
}

// waNoticeFields are the parts of a WhatsApp message that make it a notice
// (Meta's webhook reference: reaction, edit and revoke messages; the
// unsupported message's type).
type waNoticeFields struct {
	Reaction    *waReaction    `json:"reaction"`
	Edit        *waEdit        `json:"edit"`
	Revoke      *waRevoke      `json:"revoke"`
	Unsupported *waUnsupported `json:"unsupported"`
}

// waReaction is a reaction to message_id; without emoji (or with an empty
// one) the person removed their reaction.
type waReaction struct {
	MessageID string `json:"message_id"`
	Emoji     string `json:"emoji"`
}

// waEdit is a new version of original_message_id: text, or media with a
// caption.
type waEdit struct {
	OriginalMessageID string     `json:"original_message_id"`
	Message           *waMessage `json:"message"`
}

type waRevoke struct {
	OriginalMessageID string `json:"original_message_id"`
}

// waUnsupported says what an unsupported message was, where Meta says it.
type waUnsupported struct {
	Type string `json:"type"`
}

// waNoticeKind is the history kind of a WhatsApp message type that is a
// notice (also as an unsupported message's type), or "".
func waNoticeKind(typ string) string {
	switch typ {
	case "reaction":
		return NoticeReaction
	case "edit":
		return NoticeEdited
	case "revoke":
		return NoticeDeleted
	}
	return ""
}

// whatsAppNotice is the notice a WhatsApp message is, or nil for a person
// writing. in is the message as whatsAppMessage read it (chat, ID, time).
// An unsupported message counts as a person writing (Meta sends one for a
// first message it cannot show, often right after an ad click) unless its
// unsupported.type names a notice.
func whatsAppNotice(m *waMessage, in *Message) []Notice {
	typ := m.Type
	if typ == "unsupported" && m.Unsupported != nil {
		typ = m.Unsupported.Type
	}
	kind := waNoticeKind(typ)
	if kind == "" {
		return nil
	}
	n := Notice{Kind: kind, Chat: in.Chat, ID: in.MessageID, Time: in.Time}
	waRef := func(id string) string {
		if id == "" {
			return ""
		}
		return "wa:" + id
	}
	switch {
	case m.Type == "reaction" && m.Reaction != nil:
		n.Ref, n.Emoji = waRef(m.Reaction.MessageID), m.Reaction.Emoji
	case m.Type == "edit" && m.Edit != nil:
		n.Ref = waRef(m.Edit.OriginalMessageID)
		if m.Edit.Message != nil {
			n.Text = m.Edit.Message.text()
		}
	case m.Type == "revoke" && m.Revoke != nil:
		n.Ref = waRef(m.Revoke.OriginalMessageID)
	}
	return []Notice{n}
}
