package inbound

import (
	"regexp"
	"strings"
	"time"
)

// WhatsApp status notifications: what became of a message the business
// sent (sent, delivered, read, failed), with its pricing, field names as in
// Meta's "Status messages webhook reference". Two pricing shapes are in the
// wild: per-message pricing (pricing_model "PMP", pricing.type regular,
// free_customer_service or free_entry_point) and the older conversation-
// based one (pricing_model "CBP", conversation.origin.type, billable).

// The statuses a Status can have.
const (
	StatusSent      = "sent"
	StatusDelivered = "delivered"
	StatusRead      = "read"
	StatusFailed    = "failed"
)

// Status is one status of an outbound WhatsApp message.
type Status struct {
	// MessageID is the message's ID as the Cloud API gave it ("wamid.…").
	MessageID string
	// Status is StatusSent, StatusDelivered, StatusRead or StatusFailed.
	Status string
	// Time is the status's platform time, by the one rule of Time.
	Time time.Time
	// Chat is the recipient's chat key ("whatsapp:16505551234").
	Chat string
	// Phone is the recipient's number in digits, when it is one.
	Phone string
	// Pricing is nil when the status carries none (Meta sends it with sent
	// and with one of delivered or read).
	Pricing *Pricing
	// ErrorCode is the first error's code of a failed status, 0 otherwise.
	ErrorCode int64
}

// Pricing is a status's pricing, in either shape.
type Pricing struct {
	// Model is "PMP" (per message) or "CBP" (per conversation); other
	// values are kept as sent, upper-cased.
	Model string
	// Type is PMP's regular, free_customer_service or free_entry_point; ""
	// for CBP.
	Type string
	// Category is the pricing category (marketing, utility,
	// authentication, service, referral_conversion, …), lower-case.
	Category string
	// Billable is the billable flag when sent (CBP, and PMP before v16).
	Billable *bool
	// ConversationID and Origin are CBP's conversation and its
	// origin.type; empty when the status has no conversation.
	ConversationID string
	Origin         string
}

// Free tells whether the priced unit costs nothing: a PMP message whose
// type is not regular, a CBP conversation that is not billable or was
// opened by a free entry point.
func (p *Pricing) Free() bool {
	if p.Model == "PMP" {
		if p.Type != "" {
			return p.Type != "regular"
		}
		return p.Billable != nil && !*p.Billable
	}
	if p.Billable != nil && !*p.Billable {
		return true
	}
	return p.EntryPoint()
}

// EntryPoint tells whether the unit was opened by a free entry point (a
// click-to-WhatsApp ad or a Facebook page's call-to-action button).
func (p *Pricing) EntryPoint() bool {
	return p.Type == "free_entry_point" || p.Origin == "referral_conversion" || p.Category == "referral_conversion"
}

// waStatus is one entry of value.statuses[].
type waStatus struct {
	ID            string       `json:"id"`
	Status        string       `json:"status"`
	Timestamp     flexibleUnix `json:"timestamp"`
	RecipientID   string       `json:"recipient_id"`
	RecipientType string       `json:"recipient_type"`
	Conversation  *struct {
		ID     string `json:"id"`
		Origin *struct {
			Type string `json:"type"`
		} `json:"origin"`
	} `json:"conversation"`
	Pricing *struct {
		Billable     *bool  `json:"billable"`
		PricingModel string `json:"pricing_model"`
		Type         string `json:"type"`
		Category     string `json:"category"`
	} `json:"pricing"`
	Errors []struct {
		Code int64 `json:"code"`
	} `json:"errors"`
}

// statusWord is what a pricing model, type, category or origin may be:
// Meta's words are short lower-case identifiers.
var statusWord = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)

// word is s lower-cased when it is such a word, "other" when it is
// something else, "" when empty.
func word(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "":
		return ""
	case statusWord.MatchString(s):
		return s
	}
	return "other"
}

// messageIDRE is what a message ID may be to be stored and looked up.
var messageIDRE = regexp.MustCompile(`^[A-Za-z0-9._=+/-]{1,200}$`)

// ValidMessageID tells whether id may name an outbound message.
func ValidMessageID(id string) bool { return messageIDRE.MatchString(id) }

// whatsAppStatus reads one status, or nil for one that is not of a
// one-to-one chat's message (a group's), names no message or recipient, or
// has a status this does not count (played, deleted, …).
func whatsAppStatus(s *waStatus, received time.Time) *Status {
	if s.RecipientType == "group" || !ValidMessageID(s.ID) {
		return nil
	}
	switch s.Status {
	case StatusSent, StatusDelivered, StatusRead, StatusFailed:
	default:
		return nil
	}
	out := &Status{MessageID: s.ID, Status: s.Status}
	rec := CleanName(s.RecipientID)
	if rec == "" || strings.ContainsAny(rec, " :{}") {
		return nil
	}
	out.Chat = "whatsapp:" + rec
	if d := digitsOnly(rec); d != "" {
		out.Phone = d
	}
	out.Time, _ = Time(time.Unix(int64(s.Timestamp), 0), received)
	if len(s.Errors) > 0 {
		out.ErrorCode = s.Errors[0].Code
	}
	if p := s.Pricing; p != nil || s.Conversation != nil {
		pr := &Pricing{}
		if p != nil {
			pr.Model = strings.ToUpper(word(p.PricingModel))
			pr.Type = word(p.Type)
			pr.Category = word(p.Category)
			pr.Billable = p.Billable
		}
		if c := s.Conversation; c != nil {
			if ValidMessageID(c.ID) {
				pr.ConversationID = c.ID
			}
			if c.Origin != nil {
				pr.Origin = word(c.Origin.Type)
			}
		}
		if pr.Model == "" {
			if pr.Type != "" {
				pr.Model = "PMP"
			} else {
				pr.Model = "CBP"
			}
		}
		if pr.Category == "" {
			pr.Category = pr.Origin
		}
		if pr.Category == "" {
			pr.Category = "unknown"
		}
		out.Pricing = pr
	}
	return out
}

// digitsOnly is s when it is 5 to 20 digits, else "".
func digitsOnly(s string) string {
	if len(s) < 5 || len(s) > 20 {
		return ""
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return ""
		}
	}
	return s
}
