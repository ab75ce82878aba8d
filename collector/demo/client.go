package demo

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

// Doer sends one request to the collector and returns its answer. In the
// collector it is the fiber application's own Test, so nothing leaves the
// process; a test may pass an http.Client's Do.
type Doer func(req *http.Request) (*http.Response, error)

// internalBase is the host of the requests a Doer takes; the collector
// routes on the path alone.
const internalBase = "http://messtrack.internal"

// Client speaks to one site's endpoints of the collector as the outside
// world does: the snippet, Meta, Telegram, a CRM, an operator.
type Client struct {
	do   Doer
	site *config.Site
	// UserAgent is the browser the visits come from.
	UserAgent string
	// Page is the base URL of the site's pages (no trailing slash).
	Page string
}

// NewClient is a Client for site through do; pages are addressed under
// publicURL, as the demo's own pages are.
func NewClient(do Doer, site *config.Site, publicURL string) *Client {
	return &Client{do: do, site: site, Page: strings.TrimRight(publicURL, "/"), UserAgent: desktopUA}
}

// StatusError is an answer other than the one expected.
type StatusError struct {
	Method, Path string
	Status       int
	Body         string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, strings.TrimSpace(e.Body))
}

// call sends a request and decodes a 2xx JSON answer into out (when not
// nil); headers are pairs.
func (c *Client) call(ctx context.Context, method, path string, body []byte, out any, headers ...string) error {
	req, err := http.NewRequestWithContext(ctx, method, internalBase+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("demo: %s %s: %w", method, path, err)
	}
	req.Header.Set("User-Agent", c.UserAgent)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.do(req)
	if err != nil {
		return fmt.Errorf("demo: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("demo: %s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	if resp.StatusCode == http.StatusAccepted {
		// 202: the intake dropped the hit and says why.
		return &StatusError{Method: method, Path: path, Status: resp.StatusCode, Body: resp.Header.Get("X-Messtrack-Dropped")}
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("demo: %s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// authed adds the site's API key.
func (c *Client) authed() []string {
	return []string{"Authorization", "Bearer " + c.site.APIKey, "Content-Type", "application/json"}
}

// VisitAnswer is what POST /v1/visits answers the snippet.
type VisitAnswer struct {
	Visit   string `json:"visit"`
	Code    string `json:"code"`
	Text    string `json:"text"`
	Start   string `json:"start"`
	Visitor string `json:"visitor"`
}

// Hit is one page view as the snippet reports it.
type Hit struct {
	// URL is the page's full URL (with its UTM tags); Referrer the
	// previous page's.
	URL, Referrer string
	// Lang is the browser's language, TZ its offset in minutes east of UTC.
	Lang    string
	TZ      int
	Visitor string
	// IP is the visitor's address, sent as X-Forwarded-For only where the
	// config trusts a proxy; the demo's does not, so it is informative.
	UserAgent string
}

// Visit registers a page view as the snippet does.
func (c *Client) Visit(ctx context.Context, h Hit) (VisitAnswer, error) {
	body, err := json.Marshal(map[string]string{
		"site": c.site.Name, "url": h.URL, "referrer": h.Referrer, "lang": h.Lang,
		"tz": fmt.Sprint(h.TZ), "visitor": h.Visitor, "screen": "1440x900",
	})
	if err != nil {
		return VisitAnswer{}, fmt.Errorf("demo: visit: %w", err)
	}
	var ans VisitAnswer
	headers := []string{"Content-Type", "text/plain", "Origin", originOf(c.Page)}
	if h.UserAgent != "" {
		headers = append(headers, "User-Agent", h.UserAgent)
	}
	err = c.call(ctx, http.MethodPost, "/v1/visits", body, &ans, headers...)
	return ans, err
}

// Click sends the snippet's click beacon for a tap on a chat link.
func (c *Client) Click(ctx context.Context, visit, target, page string) error {
	body, err := json.Marshal(map[string]string{"site": c.site.Name, "visit": visit, "target": target, "page": page})
	if err != nil {
		return fmt.Errorf("demo: click: %w", err)
	}
	return c.call(ctx, http.MethodPost, "/v1/clicks", body, nil, "Content-Type", "text/plain", "Origin", originOf(c.Page))
}

// Scan follows an offline source's QR code, as a phone's camera does, and
// returns the chat link it redirects to.
func (c *Client) Scan(ctx context.Context, source string) (string, error) {
	path := "/q/" + url.PathEscape(c.site.Name) + "/" + url.PathEscape(source)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, internalBase+path, nil)
	if err != nil {
		return "", fmt.Errorf("demo: scan: %w", err)
	}
	req.Header.Set("User-Agent", mobileUA)
	resp, err := c.do(req)
	if err != nil {
		return "", fmt.Errorf("demo: scan %s: %w", source, err)
	}
	defer resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		raw, _ := io.ReadAll(resp.Body)
		return "", &StatusError{Method: http.MethodGet, Path: path, Status: resp.StatusCode, Body: string(raw)}
	}
	return loc, nil
}

// HookAnswer is the webhooks' answer.
type HookAnswer struct {
	Received   int `json:"received"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

// WhatsApp posts m to the site's WhatsApp webhook, signed with the site's
// app secret as Meta signs it.
func (c *Client) WhatsApp(ctx context.Context, m WhatsAppText) (HookAnswer, error) {
	body, err := WhatsAppWebhook(m)
	if err != nil {
		return HookAnswer{}, err
	}
	var ans HookAnswer
	err = c.call(ctx, http.MethodPost, "/hooks/whatsapp/"+url.PathEscape(c.site.Name), body, &ans,
		"Content-Type", "application/json", "X-Hub-Signature-256", HubSignature(c.site.WhatsAppAppSecret, body))
	return ans, err
}

// Telegram posts m to the site's Telegram webhook for the bot (or, for a
// business message, the user account) named, with the secret token.
func (c *Client) Telegram(ctx context.Context, account string, m TelegramText) (HookAnswer, error) {
	body, err := TelegramUpdate(m)
	if err != nil {
		return HookAnswer{}, err
	}
	q := "?bot=" + url.QueryEscape(account)
	if m.Business {
		q = "?user=" + url.QueryEscape(account)
	}
	var ans HookAnswer
	err = c.call(ctx, http.MethodPost, "/hooks/telegram/"+url.PathEscape(c.site.Name)+q, body, &ans,
		"Content-Type", "application/json", "X-Telegram-Bot-Api-Secret-Token", c.site.TelegramSecretToken)
	return ans, err
}

// ChatRecord is the part of GET /v1/sites/SITE/chats/CHAT the demo shows.
type ChatRecord struct {
	Chat       string          `json:"chat"`
	Name       string          `json:"name"`
	Method     string          `json:"method"`
	Confidence float64         `json:"confidence"`
	Visit      string          `json:"visit"`
	Source     json.RawMessage `json:"source"`
	Candidates []struct {
		Visit      string  `json:"visit"`
		Gap        float64 `json:"gap_seconds"`
		Confidence float64 `json:"confidence"`
	} `json:"candidates"`
	Messages int64 `json:"messages"`
}

// Chat reads a chat's record with the site's API key.
func (c *Client) Chat(ctx context.Context, chat string) (*ChatRecord, error) {
	var rec ChatRecord
	path := "/v1/sites/" + url.PathEscape(c.site.Name) + "/chats/" + url.PathEscape(chat)
	if err := c.call(ctx, http.MethodGet, path, nil, &rec, c.authed()...); err != nil {
		return nil, err
	}
	return &rec, nil
}

// Event sends a business event for a chat, as a CRM does, and returns the
// events API's answer.
func (c *Client) Event(ctx context.Context, chat, category string, value float64, id string, at time.Time) (json.RawMessage, error) {
	body, err := json.Marshal(map[string]any{
		"chat": chat, "category": category, "value": value, "id": id, "time": at.UTC().Format(time.RFC3339),
	})
	if err != nil {
		return nil, fmt.Errorf("demo: event: %w", err)
	}
	var ans json.RawMessage
	err = c.call(ctx, http.MethodPost, "/v1/sites/"+url.PathEscape(c.site.Name)+"/events", body, &ans, c.authed()...)
	return ans, err
}

// Costs uploads ad cost rows as CSV.
func (c *Client) Costs(ctx context.Context, csv string) error {
	return c.call(ctx, http.MethodPost, "/v1/sites/"+url.PathEscape(c.site.Name)+"/costs", []byte(csv), nil,
		"Authorization", "Bearer "+c.site.APIKey, "Content-Type", "text/csv")
}

// Report fetches a report as JSON into out.
func (c *Client) Report(ctx context.Context, name, from, to string, out any) error {
	q := url.Values{"from": {from}, "to": {to}}
	return c.call(ctx, http.MethodGet, "/v1/sites/"+url.PathEscape(c.site.Name)+"/reports/"+name+"?"+q.Encode(), nil, out, c.authed()...)
}

// originOf is the origin of a URL: scheme and host.
func originOf(page string) string {
	u, err := url.Parse(page)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// User agents of the made-up visitors: ordinary browsers, which the intake
// keeps (it drops bots and headless ones).
const (
	desktopUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	mobileUA  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
