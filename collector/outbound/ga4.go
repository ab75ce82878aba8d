package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/messtrack/messtrack/config"
)

// GA4Name is the GA4 target's name.
const GA4Name = "ga4"

// ga4MaxAge is how far back GA4's Measurement Protocol takes an event's
// timestamp_micros.
const ga4MaxAge = 72 * time.Hour

// GA4 sends a chat that started from a web visit as generate_lead, and its
// conversion as an event named by the conversion category (purchase, with
// value, currency and transaction_id), to Google Analytics 4 through the
// Measurement Protocol, as the visitor whose _ga cookie the visit carried,
// at the fact's own time.
type GA4 struct {
	cfg      config.GA4
	currency string
	opt      TargetOptions
}

// NewGA4 returns the target for a site's GA4 stream.
func NewGA4(cfg config.GA4, currency string, opt TargetOptions) *GA4 {
	return &GA4{cfg: cfg, currency: currency, opt: opt}
}

// Name implements Target.
func (g *GA4) Name() string { return GA4Name }

// Wants implements Target.
func (g *GA4) Wants(typ string) bool {
	return typ == TypeConversationStarted || typ == TypeSessionConverted
}

// Accepts implements Filter: facts whose conversation came from a visit
// that carried a GA client ID.
func (g *GA4) Accepts(ctx context.Context, ev *Event) bool {
	f, err := readFact(ev.Type, ev.Data)
	if err != nil {
		return false
	}
	a, err := visitOf(ctx, g.opt, ev.Site, f)
	return err != nil || a.GAClientID != ""
}

// ga4Request is the Measurement Protocol's body.
type ga4Request struct {
	ClientID        string     `json:"client_id"`
	TimestampMicros int64      `json:"timestamp_micros"`
	Events          []ga4Event `json:"events"`
}

type ga4Event struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params"`
}

// Send implements Target. GA4 answers 2xx even to a body it drops; its
// validation endpoint answers validationMessages, which are read when
// present.
func (g *GA4) Send(ctx context.Context, d *Delivery) Result {
	f, err := deliveryFact(d)
	if err != nil {
		return Result{Err: &PermanentError{Reason: "ga4: " + err.Error()}}
	}
	a, err := visitOf(ctx, g.opt, d.Site, f)
	if err != nil {
		return Result{Err: fmt.Errorf("ga4: %w", err)}
	}
	if a.GAClientID == "" {
		return Result{Note: "not sent: the visit had no GA client ID (or has expired)"}
	}
	if g.opt.Clock.Now().Sub(f.At) > ga4MaxAge {
		return Result{Note: "not sent: older than the 72 hours GA4 takes"}
	}
	ev := ga4Event{Name: "generate_lead", Params: map[string]any{
		"lead_source": f.Messenger, "method": f.Method, "engagement_time_msec": 1,
	}}
	if f.Conversion {
		cur := f.Currency
		if cur == "" {
			cur = g.currency
		}
		ev = ga4Event{Name: ga4Name(f.Category), Params: map[string]any{
			"currency": cur, "value": f.Value, "transaction_id": d.Event, "engagement_time_msec": 1,
		}}
	}
	body, err := json.Marshal(ga4Request{ClientID: a.GAClientID, TimestampMicros: f.At.UnixMicro(), Events: []ga4Event{ev}})
	if err != nil {
		return Result{Err: &PermanentError{Reason: "ga4: " + err.Error()}}
	}
	q := url.Values{"measurement_id": {g.cfg.MeasurementID}, "api_secret": {g.cfg.APISecret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.cfg.BaseURL+"/mp/collect?"+q.Encode(), bytes.NewReader(body))
	if err != nil {
		return Result{Err: &PermanentError{Reason: "ga4: " + err.Error()}}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := g.opt.Client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("ga4: %w", err)}
	}
	defer resp.Body.Close()
	// The body only explains the status; one cut short leaves the status.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		err := fmt.Errorf("ga4: answered %d: %s", resp.StatusCode, clip(string(bytes.TrimSpace(raw)), 200))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return Result{Status: resp.StatusCode, Err: err}
		}
		return Result{Status: resp.StatusCode, Err: &PermanentError{Reason: err.Error()}}
	}
	var v struct {
		ValidationMessages []struct {
			FieldPath      string `json:"fieldPath"`
			Description    string `json:"description"`
			ValidationCode string `json:"validationCode"`
		} `json:"validationMessages"`
	}
	if json.Unmarshal(raw, &v) == nil && len(v.ValidationMessages) > 0 {
		var msgs []string
		for _, m := range v.ValidationMessages {
			msgs = append(msgs, fmt.Sprintf("%s %s: %s", m.ValidationCode, m.FieldPath, m.Description))
		}
		return Result{Status: resp.StatusCode, Err: &PermanentError{Reason: "ga4: " + strings.Join(msgs, "; ")}}
	}
	return Result{Status: resp.StatusCode}
}

// ga4Name makes a conversion category a GA4 event name: letters, digits
// and underscores, starting with a letter, at most 40 characters, without
// GA's reserved prefixes.
func ga4Name(category string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(category) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0:
			b.WriteByte('_')
		}
	}
	name := strings.TrimRight(b.String(), "_")
	for _, p := range []string{"ga_", "google_", "firebase_"} {
		name = strings.TrimPrefix(name, p)
	}
	if name == "" {
		name = "conversion"
	}
	return clip(name, 40)
}
