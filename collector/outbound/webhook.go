package outbound

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store"
)

// Headers of a webhook delivery.
const (
	HeaderID        = "X-Messtrack-Id"
	HeaderSignature = "X-Messtrack-Signature"
)

// Sign answers the signature header's value for a body sent at t:
// "t=UNIX,v1=HEX", HEX the HMAC-SHA256 of "UNIX." + body under secret.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// Webhook posts the envelope to one configured endpoint.
type Webhook struct {
	name   string
	cfg    config.Webhook
	client *http.Client
	clock  store.Clock
}

// WebhookName is a webhook target's name: "webhook-" and a short hash of
// its URL, so that it stays the same when the config's list is reordered.
func WebhookName(url string) string {
	sum := sha256.Sum256([]byte(url))
	return "webhook-" + hex.EncodeToString(sum[:4])
}

// NewWebhook returns the target for one endpoint.
func NewWebhook(cfg config.Webhook, client *http.Client, clock store.Clock) *Webhook {
	return &Webhook{name: WebhookName(cfg.URL), cfg: cfg, client: client, clock: clock}
}

// Name implements Target.
func (w *Webhook) Name() string { return w.name }

// Wants implements Target.
func (w *Webhook) Wants(typ string) bool { return w.cfg.Wants(typ) }

// Send implements Target: any 2xx answer is success, anything else (or no
// answer) is retried.
func (w *Webhook) Send(ctx context.Context, d *Delivery) Result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(d.Body))
	if err != nil {
		return Result{Err: &PermanentError{Reason: fmt.Sprintf("webhook request: %v", err)}}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "messtrack-webhooks/1")
	req.Header.Set(HeaderID, d.Event)
	req.Header.Set(HeaderSignature, Sign(w.cfg.Secret, w.clock.Now(), d.Body))
	return do(w.client, req)
}

// do sends req and reads the answer's status; 2xx succeeds.
func do(client *http.Client, req *http.Request) Result {
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), err)}
	}
	defer resp.Body.Close()
	// The body only explains the status; one cut short leaves the status.
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return Result{Status: resp.StatusCode, Err: fmt.Errorf("%s answered %d: %s", req.URL.Host, resp.StatusCode, bytes.TrimSpace(snippet))}
	}
	return Result{Status: resp.StatusCode}
}
