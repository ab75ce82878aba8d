package wabiz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/messtrack/messtrack/collector/inbound"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// InputError is an outbound record or send request that cannot be taken;
// its Reason is meant for the caller.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return e.Reason }

func badInput(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}

// Outbound is a template message the business sent: recorded by the send
// endpoint after the Cloud API took it, or by a platform that sends
// itself.
type Outbound struct {
	MessageID string    `json:"message_id"`
	Template  string    `json:"template"`
	Language  string    `json:"language"`
	Category  string    `json:"category"`
	To        string    `json:"to"`
	Time      time.Time `json:"time"`
}

var (
	languageRE = regexp.MustCompile(`^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})?$`)
	wordRE     = regexp.MustCompile(`^[a-z0-9_]{1,40}$`)
)

// maxTemplateName bounds a template's name (Meta's limit is 512).
const maxTemplateName = 512

// normalize checks o, fills its time with now when it has none, and
// returns the recipient's chat and number.
func (o *Outbound) normalize(now time.Time) (chat, phone string, err error) {
	if !inbound.ValidMessageID(o.MessageID) {
		return "", "", badInput("message_id is missing or not a Cloud API message ID")
	}
	if strings.TrimSpace(o.Template) == "" || len(o.Template) > maxTemplateName {
		return "", "", badInput("template is missing or longer than %d bytes", maxTemplateName)
	}
	o.Template = cleanName(o.Template)
	if o.Template == "" {
		return "", "", badInput("template has nothing printable")
	}
	if o.Language != "" && !languageRE.MatchString(o.Language) {
		return "", "", badInput("language is not a code like en_US")
	}
	o.Category = strings.ToLower(strings.TrimSpace(o.Category))
	if o.Category != "" && !wordRE.MatchString(o.Category) {
		return "", "", badInput("category is not a word like marketing, utility or authentication")
	}
	phone, err = config.Digits(o.To)
	if err != nil {
		return "", "", badInput("to is not a phone number in international form")
	}
	if o.Time.IsZero() {
		o.Time = now
	}
	if o.Time.After(now.Add(inbound.FutureSkew)) {
		return "", "", badInput("time is in the future")
	}
	return "whatsapp:" + phone, phone, nil
}

// Record records a template message the business sent, so that its
// statuses, cost and replies count for its template; recording it again
// changes nothing.
func (s *Service) Record(ctx context.Context, site string, o Outbound) error {
	st, err := s.site(site)
	if err != nil {
		return err
	}
	chat, phone, err := o.normalize(s.clock.Now())
	if err != nil {
		return err
	}
	at := o.Time.UnixMilli()
	// A reply that came before the record (a platform that records late)
	// still counts: the chat's latest message within the reply window.
	replied := false
	if s.ledger != nil {
		c, err := s.ledger.Load(ctx, site, chat)
		if err != nil {
			return fmt.Errorf("wabiz: record: %w", err)
		}
		replied = c.Last >= at && c.Last <= at+ReplyWindow.Milliseconds()
	}
	if err := s.update(ctx, st, o.MessageID, func(m *Msg) {
		m.Recorded = minTime(m.Recorded, at)
		m.Template, m.Language, m.Category = o.Template, o.Language, o.Category
		m.Chat, m.Country = chat, Country(phone)
		m.Replied = m.Replied || replied
	}); err != nil {
		return err
	}
	key := store.WAChatOutbound(site, chat)
	now := s.clock.Now()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(at), Member: o.MessageID})
		p.ZRemRangeByScore(ctx, key, "-inf", fmt.Sprint(now.Add(-outboundTTL).UnixMilli()))
		p.Expire(ctx, key, outboundTTL)
		return nil
	})
	if err != nil {
		return fmt.Errorf("wabiz: index template message: %w", err)
	}
	return nil
}

// SendRequest is a template message to send through the Cloud API.
type SendRequest struct {
	To       string `json:"to"`
	Template string `json:"template"`
	Language string `json:"language"`
	// Category is the template's category, kept for its report.
	Category string `json:"category"`
	// Components are the template's parameters, passed on as they are
	// (Meta's components array).
	Components json.RawMessage `json:"components,omitempty"`
}

// SendResult is what the Cloud API answered.
type SendResult struct {
	MessageID string `json:"message_id"`
	To        string `json:"to"`
	WaID      string `json:"wa_id,omitempty"`
	Status    string `json:"message_status,omitempty"`
}

// APIError is a refusal by the Cloud API: its HTTP status and its error
// object's message and code.
type APIError struct {
	Status  int
	Message string
	Code    int
}

func (e *APIError) Error() string {
	return fmt.Sprintf("the WhatsApp Cloud API answered %d: %s (code %d)", e.Status, e.Message, e.Code)
}

// ErrNotConfigured is a send for a site without whatsapp_api.
var ErrNotConfigured = errors.New("this site has no whatsapp_api token and phone_number_id: sending is off")

// maxComponents bounds the components passed on.
const maxComponents = 32 << 10

// Send sends one template message through the site's Cloud API account
// and records it (Record) under the ID the API gave. A refusal by the API
// is an *APIError; nothing is recorded then.
func (s *Service) Send(ctx context.Context, site string, req SendRequest) (*SendResult, error) {
	st, err := s.site(site)
	if err != nil {
		return nil, err
	}
	if !st.WhatsAppAPI.Configured() {
		return nil, ErrNotConfigured
	}
	phone, err := config.Digits(req.To)
	if err != nil {
		return nil, badInput("to is not a phone number in international form")
	}
	if strings.TrimSpace(req.Template) == "" || len(req.Template) > maxTemplateName || cleanName(req.Template) != req.Template {
		return nil, badInput("template is missing, too long or not a plain name")
	}
	if !languageRE.MatchString(req.Language) {
		return nil, badInput("language is missing or not a code like en_US")
	}
	var components []json.RawMessage
	if len(req.Components) > 0 && string(req.Components) != "null" {
		if len(req.Components) > maxComponents {
			return nil, badInput("components are longer than %d bytes", maxComponents)
		}
		if err := json.Unmarshal(req.Components, &components); err != nil {
			return nil, badInput("components is not a JSON array")
		}
	}
	type language struct {
		Code string `json:"code"`
	}
	type template struct {
		Name       string            `json:"name"`
		Language   language          `json:"language"`
		Components []json.RawMessage `json:"components,omitempty"`
	}
	body, err := json.Marshal(struct {
		Product       string   `json:"messaging_product"`
		RecipientType string   `json:"recipient_type"`
		To            string   `json:"to"`
		Type          string   `json:"type"`
		Template      template `json:"template"`
	}{"whatsapp", "individual", phone, "template", template{req.Template, language{req.Language}, components}})
	if err != nil {
		return nil, fmt.Errorf("wabiz: send: encode: %w", err)
	}
	api := st.WhatsAppAPI
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, api.BaseURL+"/"+api.PhoneNumberID+"/messages", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("wabiz: send: %w", err)
	}
	hreq.Header.Set("Authorization", "Bearer "+api.Token)
	hreq.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(hreq)
	if err != nil {
		return nil, fmt.Errorf("wabiz: send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("wabiz: send: read answer: %w", err)
	}
	var ans struct {
		Contacts []struct {
			Input string `json:"input"`
			WaID  string `json:"wa_id"`
		} `json:"contacts"`
		Messages []struct {
			ID     string `json:"id"`
			Status string `json:"message_status"`
		} `json:"messages"`
		Error *struct {
			Message string `json:"message"`
			Code    int    `json:"code"`
		} `json:"error"`
	}
	jerr := json.Unmarshal(raw, &ans)
	if resp.StatusCode/100 != 2 {
		e := &APIError{Status: resp.StatusCode, Message: "no error object"}
		if jerr == nil && ans.Error != nil {
			e.Message, e.Code = inbound.CleanName(ans.Error.Message), ans.Error.Code
		}
		return nil, e
	}
	if jerr != nil || len(ans.Messages) == 0 || !inbound.ValidMessageID(ans.Messages[0].ID) {
		return nil, &APIError{Status: resp.StatusCode, Message: "the answer names no message ID"}
	}
	res := &SendResult{MessageID: ans.Messages[0].ID, To: phone, Status: inbound.CleanName(ans.Messages[0].Status)}
	if len(ans.Contacts) > 0 {
		res.WaID = inbound.CleanName(ans.Contacts[0].WaID)
	}
	if err := s.Record(ctx, site, Outbound{MessageID: res.MessageID, Template: req.Template, Language: req.Language,
		Category: req.Category, To: phone, Time: s.clock.Now()}); err != nil {
		return res, fmt.Errorf("wabiz: sent %s but could not record it: %w", res.MessageID, err)
	}
	return res, nil
}
