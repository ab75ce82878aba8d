package demo

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/messtrack/messtrack/collector/inbound"
)

// WhatsAppText is one person's text message to a business number, as the
// WhatsApp Cloud API notifies it.
type WhatsAppText struct {
	// To is the business number, digits only; From the person's wa_id.
	To, From string
	// Name is the person's WhatsApp profile name.
	Name string
	Text string
	// ID is the message ID (wamid.…); Time the platform's timestamp.
	ID   string
	Time time.Time
	// Referral is set when the chat was opened from a click-to-WhatsApp ad.
	Referral *Referral
}

// Referral is a click-to-WhatsApp ad's referral object, as the webhook
// reads it.
type Referral = inbound.Referral

// The notification's objects, field names as in Meta's webhook reference.
type (
	waNotification struct {
		Object string    `json:"object"`
		Entry  []waEntry `json:"entry"`
	}
	waEntry struct {
		ID      string     `json:"id"`
		Changes []waChange `json:"changes"`
	}
	waChange struct {
		Field string  `json:"field"`
		Value waValue `json:"value"`
	}
	waValue struct {
		MessagingProduct string      `json:"messaging_product"`
		Metadata         waMetadata  `json:"metadata"`
		Contacts         []waContact `json:"contacts"`
		Messages         []waMessage `json:"messages"`
	}
	waMetadata struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		PhoneNumberID      string `json:"phone_number_id"`
	}
	waContact struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	}
	waMessage struct {
		From      string    `json:"from"`
		ID        string    `json:"id"`
		Timestamp string    `json:"timestamp"`
		Type      string    `json:"type"`
		Text      waText    `json:"text"`
		Referral  *Referral `json:"referral,omitempty"`
	}
	waText struct {
		Body string `json:"body"`
	}
)

// WhatsAppWebhook is the body of the Cloud API's notification of m: one
// entry, one "messages" change, the sender's contact and the message.
func WhatsAppWebhook(m WhatsAppText) ([]byte, error) {
	contact := waContact{WaID: m.From}
	contact.Profile.Name = m.Name
	n := waNotification{
		Object: "whatsapp_business_account",
		Entry: []waEntry{{
			// The business account and phone number IDs are Meta's; the
			// demo makes up stable ones from the number.
			ID: "demo-waba-" + m.To,
			Changes: []waChange{{
				Field: "messages",
				Value: waValue{
					MessagingProduct: "whatsapp",
					Metadata:         waMetadata{DisplayPhoneNumber: m.To, PhoneNumberID: "demo-phone-" + m.To},
					Contacts:         []waContact{contact},
					Messages: []waMessage{{
						From: m.From, ID: m.ID, Timestamp: strconv.FormatInt(m.Time.Unix(), 10),
						Type: "text", Text: waText{Body: m.Text}, Referral: m.Referral,
					}},
				},
			}},
		}},
	}
	body, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("demo.WhatsAppWebhook: %w", err)
	}
	return body, nil
}

// HubSignature is the X-Hub-Signature-256 header Meta sends with body: the
// HMAC-SHA256 of the raw body keyed with the app secret.
func HubSignature(appSecret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// TelegramText is one person's message in a private chat with a bot, or
// (Business) with a business account a bot is connected to.
type TelegramText struct {
	UpdateID  int64
	MessageID int64
	// UserID is the person's Telegram ID, which is also the private chat's.
	UserID                        int64
	FirstName, LastName, Username string
	// Language is the Telegram app's language_code.
	Language string
	Text     string
	Time     time.Time
	Business bool
}

type (
	tgUpdate struct {
		UpdateID        int64      `json:"update_id"`
		Message         *tgMessage `json:"message,omitempty"`
		BusinessMessage *tgMessage `json:"business_message,omitempty"`
	}
	tgMessage struct {
		MessageID int64  `json:"message_id"`
		From      tgUser `json:"from"`
		Chat      tgChat `json:"chat"`
		Date      int64  `json:"date"`
		Text      string `json:"text"`
	}
	tgUser struct {
		ID           int64  `json:"id"`
		IsBot        bool   `json:"is_bot"`
		FirstName    string `json:"first_name"`
		LastName     string `json:"last_name,omitempty"`
		Username     string `json:"username,omitempty"`
		LanguageCode string `json:"language_code,omitempty"`
	}
	tgChat struct {
		ID        int64  `json:"id"`
		Type      string `json:"type"`
		FirstName string `json:"first_name,omitempty"`
	}
)

// TelegramUpdate is the Bot API update of m, as Telegram posts it to a
// webhook.
func TelegramUpdate(m TelegramText) ([]byte, error) {
	msg := &tgMessage{
		MessageID: m.MessageID,
		From: tgUser{ID: m.UserID, FirstName: m.FirstName, LastName: m.LastName,
			Username: m.Username, LanguageCode: m.Language},
		Chat: tgChat{ID: m.UserID, Type: "private", FirstName: m.FirstName},
		Date: m.Time.Unix(),
		Text: m.Text,
	}
	u := tgUpdate{UpdateID: m.UpdateID}
	if m.Business {
		u.BusinessMessage = msg
	} else {
		u.Message = msg
	}
	body, err := json.Marshal(u)
	if err != nil {
		return nil, fmt.Errorf("demo.TelegramUpdate: %w", err)
	}
	return body, nil
}
