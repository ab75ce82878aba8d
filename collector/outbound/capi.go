package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/reports"
)

// CAPIName is the Conversions API target's name.
const CAPIName = "meta_capi"

// capiMaxAge is how old an event Meta's Conversions API takes (its
// click-to-WhatsApp attribution window is 7 days as well).
const capiMaxAge = 7 * 24 * time.Hour

// capiBatch is how many events go in one request (Meta takes up to 1000).
const capiBatch = 500

// CAPI sends chats from click-to-WhatsApp ads to a Meta dataset as
// LeadSubmitted, and their sessions' conversions as Purchase with value
// and currency, through the Conversions API for Business Messaging.
type CAPI struct {
	cfg      config.MetaCAPI
	currency string
	opt      TargetOptions
}

// NewCAPI returns the target for a site's dataset; currency is the site's.
func NewCAPI(cfg config.MetaCAPI, currency string, opt TargetOptions) *CAPI {
	return &CAPI{cfg: cfg, currency: currency, opt: opt}
}

// Name implements Target.
func (c *CAPI) Name() string { return CAPIName }

// Wants implements Target.
func (c *CAPI) Wants(typ string) bool {
	return typ == TypeConversationStarted || typ == TypeSessionConverted
}

// Accepts implements Filter: conversations from a click-to-WhatsApp ad
// (method referral, with the ad's click ID), and conversions of sessions
// such a conversation opened.
func (c *CAPI) Accepts(_ context.Context, ev *Event) bool {
	switch ev.Type {
	case TypeConversationStarted:
		var d conversationData
		return json.Unmarshal(ev.Data, &d) == nil && d.Method == reports.MethodReferral &&
			d.Source.ClickID != "" && d.Messenger == "whatsapp"
	case TypeSessionConverted:
		var s sessionData
		return json.Unmarshal(ev.Data, &s) == nil && s.Method == reports.MethodReferral
	}
	return false
}

// BatchSize implements BatchTarget.
func (c *CAPI) BatchSize() int { return capiBatch }

// Send implements Target.
func (c *CAPI) Send(ctx context.Context, d *Delivery) Result {
	return c.SendBatch(ctx, []*Delivery{d})[0]
}

// capiEvent is one server event in Meta's documented shape.
type capiEvent struct {
	EventName        string          `json:"event_name"`
	EventTime        int64           `json:"event_time"`
	EventID          string          `json:"event_id"`
	ActionSource     string          `json:"action_source"`
	MessagingChannel string          `json:"messaging_channel"`
	UserData         capiUserData    `json:"user_data"`
	CustomData       *capiCustomData `json:"custom_data,omitempty"`
}

type capiUserData struct {
	WABAID   string `json:"whatsapp_business_account_id,omitempty"`
	CtwaClid string `json:"ctwa_clid"`
}

type capiCustomData struct {
	Currency string  `json:"currency"`
	Value    float64 `json:"value"`
}

// capiRequest is the body of POST /{dataset}/events.
type capiRequest struct {
	Data         []capiEvent `json:"data"`
	PartnerAgent string      `json:"partner_agent"`
	AccessToken  string      `json:"access_token"`
}

// SendBatch implements BatchTarget: one request for the batch's events;
// an event older than Meta takes is reported, not sent.
func (c *CAPI) SendBatch(ctx context.Context, ds []*Delivery) []Result {
	results := make([]Result, len(ds))
	var events []capiEvent
	var sent []int
	now := c.opt.Clock.Now()
	for i, d := range ds {
		ev, err := c.event(ctx, d)
		switch {
		case err != nil:
			results[i] = Result{Err: err}
		case now.Sub(time.Unix(ev.EventTime, 0)) > capiMaxAge:
			results[i] = Result{Note: "not sent: older than the 7 days Meta's Conversions API takes"}
		default:
			events = append(events, ev)
			sent = append(sent, i)
		}
	}
	if len(events) == 0 {
		return results
	}
	res := c.post(ctx, capiRequest{Data: events, PartnerAgent: "messtrack", AccessToken: c.cfg.AccessToken})
	for _, i := range sent {
		results[i] = res
	}
	return results
}

// event builds a delivery's server event.
func (c *CAPI) event(ctx context.Context, d *Delivery) (capiEvent, error) {
	var env envelope
	if err := json.Unmarshal(d.Body, &env); err != nil {
		return capiEvent{}, &PermanentError{Reason: fmt.Sprintf("meta_capi: stored event unreadable: %v", err)}
	}
	ev := capiEvent{EventID: env.ID, ActionSource: "business_messaging", MessagingChannel: "whatsapp",
		UserData: capiUserData{WABAID: c.cfg.WABAID}}
	switch env.Type {
	case TypeConversationStarted:
		var data conversationData
		if err := json.Unmarshal(env.Data, &data); err != nil {
			return capiEvent{}, &PermanentError{Reason: fmt.Sprintf("meta_capi: conversation unreadable: %v", err)}
		}
		ev.EventName, ev.EventTime, ev.UserData.CtwaClid = "LeadSubmitted", d.Time.Unix(), data.Source.ClickID
	case TypeSessionConverted:
		var s sessionData
		if err := json.Unmarshal(env.Data, &s); err != nil || s.Conversion == nil {
			return capiEvent{}, &PermanentError{Reason: "meta_capi: the session has no conversion"}
		}
		clid, err := c.clickOf(ctx, d.Site, s.Chat, s.StartedAt)
		if err != nil {
			return capiEvent{}, err
		}
		cur := s.Currency
		if cur == "" {
			cur = c.currency
		}
		ev.EventName, ev.EventTime, ev.UserData.CtwaClid = "Purchase", s.Conversion.At.Unix(), clid
		ev.CustomData = &capiCustomData{Currency: cur, Value: s.Conversion.Value}
	default:
		return capiEvent{}, &PermanentError{Reason: fmt.Sprintf("meta_capi: %s is not sent to Meta", env.Type)}
	}
	return ev, nil
}

// clickOf finds the ad click ID of the chat's conversation that started
// at start, from the chat's record.
func (c *CAPI) clickOf(ctx context.Context, site, chat string, start time.Time) (string, error) {
	if c.opt.ChatRecord == nil {
		return "", &PermanentError{Reason: "meta_capi: no chat records to read the ad click ID from"}
	}
	raw, err := c.opt.ChatRecord(ctx, site, chat)
	if err != nil {
		return "", fmt.Errorf("meta_capi: chat %s: %w", chat, err)
	}
	var rec struct {
		Method         string `json:"method"`
		ConversationAt string `json:"conversation_at"`
		Source         struct {
			ClickID string `json:"click_id"`
		} `json:"source"`
	}
	if raw == nil || json.Unmarshal(raw, &rec) != nil {
		return "", &PermanentError{Reason: "meta_capi: the chat is no longer kept"}
	}
	at, err := time.Parse(time.RFC3339, rec.ConversationAt)
	if err != nil || rec.Method != reports.MethodReferral || rec.Source.ClickID == "" || at.Unix() != start.Unix() {
		return "", &PermanentError{Reason: "meta_capi: the converted session's ad click ID is no longer the chat's current one"}
	}
	return rec.Source.ClickID, nil
}

// metaError is the Graph API's error shape.
type metaError struct {
	Error struct {
		Message     string `json:"message"`
		Type        string `json:"type"`
		Code        int    `json:"code"`
		Subcode     int    `json:"error_subcode"`
		UserMsg     string `json:"error_user_msg"`
		IsTransient bool   `json:"is_transient"`
		FBTraceID   string `json:"fbtrace_id"`
	} `json:"error"`
}

// metaTransient are the Graph API codes a later retry may pass: unknown
// and service errors, and the throttling codes.
var metaTransient = []int{1, 2, 4, 17, 32, 341, 613}

func (c *CAPI) post(ctx context.Context, body capiRequest) Result {
	b, err := json.Marshal(body)
	if err != nil {
		return Result{Err: &PermanentError{Reason: fmt.Sprintf("meta_capi: %v", err)}}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.BaseURL+"/"+c.cfg.DatasetID+"/events", bytes.NewReader(b))
	if err != nil {
		return Result{Err: &PermanentError{Reason: fmt.Sprintf("meta_capi: %v", err)}}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.opt.Client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("meta_capi: %w", err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return Result{Status: resp.StatusCode, Err: fmt.Errorf("meta_capi: read answer: %w", err)}
	}
	if resp.StatusCode/100 == 2 {
		var ok struct {
			EventsReceived *int `json:"events_received"`
		}
		if json.Unmarshal(raw, &ok) != nil || ok.EventsReceived == nil || *ok.EventsReceived != len(body.Data) {
			return Result{Status: resp.StatusCode, Err: fmt.Errorf("meta_capi: %d events sent, answer %s", len(body.Data), clip(string(raw), 200))}
		}
		return Result{Status: resp.StatusCode}
	}
	var me metaError
	if json.Unmarshal(raw, &me) != nil || me.Error.Code == 0 && me.Error.Message == "" {
		err := fmt.Errorf("meta_capi: answered %d: %s", resp.StatusCode, clip(string(raw), 200))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return Result{Status: resp.StatusCode, Err: err}
		}
		return Result{Status: resp.StatusCode, Err: &PermanentError{Reason: err.Error()}}
	}
	e := me.Error
	msg := fmt.Sprintf("meta_capi: code %d subcode %d (%s): %s %s [fbtrace_id %s]", e.Code, e.Subcode, e.Type, e.Message, e.UserMsg, e.FBTraceID)
	if e.IsTransient || slices.Contains(metaTransient, e.Code) || resp.StatusCode >= 500 {
		return Result{Status: resp.StatusCode, Err: errors.New(msg)}
	}
	return Result{Status: resp.StatusCode, Err: &PermanentError{Reason: msg}}
}
