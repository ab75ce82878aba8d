package faults

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const (
	apiKey     = "faults-0123456789abcdef0123456789abcdef"
	appSecret  = "faults-app-secret"
	tgSecret   = "faults-telegram-secret"
	shopNumber = "15551234567"
	shopBot    = "shop_faults_bot"
	origin     = "http://shop.test"
	browserUA  = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

	// requestTimeout is how long a client waits for one answer, about
	// what the platforms give a webhook before they count it failed.
	requestTimeout = 10 * time.Second
	// deliverFor is how long the platform keeps retrying one webhook in
	// a test (WhatsApp and Telegram go on for hours).
	deliverFor = 90 * time.Second
)

// chatTruth is what the platform believes it delivered to one chat.
type chatTruth struct {
	visit    string // the visit whose code the first message carried
	messages int    // messages answered 2xx, each counted once
	// later delivers one more message, once the first two are in.
	later     func() error
	laterSent bool
}

// load drives visitors and the platforms against the collectors, a
// journey at a time per worker, and keeps what each side was told.
type load struct {
	t          *testing.T
	collectors []*collectorProc
	client     *http.Client
	next       atomic.Uint64 // round-robin over the collectors
	journey    atomic.Int64
	platform   sync.WaitGroup // deliveries under way

	// figures
	requests   atomic.Int64 // every HTTP attempt
	retries    atomic.Int64 // webhook attempts after the first
	status5xx  atomic.Int64 // answers 500-599
	status503  atomic.Int64 // of them 503, Redis unavailable
	connErrors atomic.Int64 // attempts without an answer (refused, reset, timeout)
	slowest    atomic.Int64 // the longest answer, ns
	duplicates atomic.Int64 // webhooks stored by an attempt the platform saw fail
	visitFails atomic.Int64 // visits answered without an ID
	clickFails atomic.Int64

	mu      sync.Mutex
	visits  []string
	clicks  int // clicks answered 204
	clicked int // clicks sent
	chats   map[string]*chatTruth
	errs    []string
}

func newLoad(t *testing.T, collectors ...*collectorProc) *load {
	return &load{
		t: t, collectors: collectors, chats: map[string]*chatTruth{},
		client: &http.Client{Timeout: requestTimeout},
	}
}

// pick is the next collector, as a load balancer in front of them would
// choose: in turn, dead or alive.
func (l *load) pick() *collectorProc {
	return l.collectors[int(l.next.Add(1)%uint64(len(l.collectors)))]
}

// do sends one request and answers its status and body; status 0 is no
// answer.
func (l *load) do(ctx context.Context, c *collectorProc, method, path string, body []byte, headers ...string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base()+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	for i := 0; i < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	l.requests.Add(1)
	began := time.Now()
	resp, err := l.client.Do(req)
	for took := int64(time.Since(began)); ; {
		was := l.slowest.Load()
		if took <= was || l.slowest.CompareAndSwap(was, took) {
			break
		}
	}
	if err != nil {
		l.connErrors.Add(1)
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		l.connErrors.Add(1)
		return 0, nil, err
	}
	if resp.StatusCode >= 500 {
		l.status5xx.Add(1)
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		l.status503.Add(1)
	}
	return resp.StatusCode, b, nil
}

// deliver is a platform delivering one webhook: it sends the same body
// until it is answered 2xx, on whichever collector the balancer picks,
// backing off between attempts. A 4xx is a test failure: nothing sent here
// is malformed.
func (l *load) deliver(ctx context.Context, path string, body []byte, headers ...string) error {
	deadline := time.Now().Add(deliverFor)
	backoff := 50 * time.Millisecond
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			l.retries.Add(1)
		}
		status, b, err := l.do(ctx, l.pick(), "POST", path, body, headers...)
		switch {
		case err == nil && status/100 == 2:
			var ans struct {
				Duplicates int `json:"duplicates"`
			}
			if json.Unmarshal(b, &ans) == nil && ans.Duplicates > 0 {
				l.duplicates.Add(1)
			}
			return nil
		case err == nil && status < 500:
			return fmt.Errorf("POST %s answered %d %s", path, status, b)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("POST %s not accepted within %v: last %d %s %v", path, deliverFor, status, b, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("POST %s: %w", path, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Second)
	}
}

func (l *load) fail(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

// visitAnswer is the part of POST /v1/visits' answer a visitor uses.
type visitAnswer struct {
	Visit string `json:"visit"`
	Text  string `json:"text"`
	Start string `json:"start"`
}

// run sends journeys from workers until stop is closed, then waits for the
// platform's deliveries under way: a visit, a click on a chat link, the
// first message with the visit's code and a second one, half on WhatsApp
// and half through a Telegram bot's start link.
func (l *load) run(workers int, stop <-chan struct{}) {
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				l.oneJourney(context.Background(), l.journey.Add(1))
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	// One person at a time writes again in a chat already under way, so
	// that webhooks keep coming whatever holds the visitors up.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(25 * time.Millisecond):
			}
			l.writeAgain()
		}
	}()
	wg.Wait()
	l.platform.Wait()
}

// writeAgain delivers a third message in a chat whose first two are in.
func (l *load) writeAgain() {
	l.mu.Lock()
	var chat string
	var c *chatTruth
	for id, ct := range l.chats {
		if ct.messages == 2 && !ct.laterSent {
			chat, c = id, ct
			break
		}
	}
	if c == nil {
		l.mu.Unlock()
		return
	}
	c.laterSent = true
	l.mu.Unlock()
	if err := c.later(); err != nil {
		l.fail("chat %s message 3: %v", chat, err)
		return
	}
	l.mu.Lock()
	c.messages++
	l.mu.Unlock()
}

func (l *load) oneJourney(ctx context.Context, j int64) {
	body := []byte(fmt.Sprintf(`{"site":"shop","url":"%s/?utm_source=newsletter&utm_medium=email&j=%d"}`, origin, j))
	status, b, err := l.do(ctx, l.pick(), "POST", "/v1/visits", body,
		"Origin", origin, "User-Agent", browserUA, "Content-Type", "text/plain")
	var v visitAnswer
	if err != nil || status != 200 || json.Unmarshal(b, &v) != nil || v.Visit == "" {
		if err == nil && status < 500 && status != 200 {
			l.fail("visit %d answered %d %s", j, status, b)
		}
		l.visitFails.Add(1)
		return
	}
	l.mu.Lock()
	l.visits = append(l.visits, v.Visit)
	l.mu.Unlock()

	telegram := j%2 == 0
	target := "whatsapp:" + shopNumber
	if telegram {
		target = "telegram:" + shopBot
	}
	click, _ := json.Marshal(map[string]string{"site": "shop", "visit": v.Visit, "target": target, "page": origin + "/"})
	status, b, err = l.do(ctx, l.pick(), "POST", "/v1/clicks", click,
		"Origin", origin, "User-Agent", browserUA, "Content-Type", "text/plain")
	l.mu.Lock()
	l.clicked++
	if err == nil && status == 204 {
		l.clicks++
	}
	l.mu.Unlock()
	if err != nil || status != 204 {
		if err == nil && status < 500 {
			l.fail("click %d answered %d %s", j, status, b)
		}
		l.clickFails.Add(1)
	}

	var chat string
	var first, second, third func() error
	if telegram {
		user := 7000000 + j
		chat = fmt.Sprintf("telegram:%d", user)
		path := "/hooks/telegram/shop?bot=" + shopBot
		first = func() error {
			return l.deliver(ctx, path, telegramUpdate(2*j, user, "/start "+v.Start), "X-Telegram-Bot-Api-Secret-Token", tgSecret, "Content-Type", "application/json")
		}
		second = func() error {
			return l.deliver(ctx, path, telegramUpdate(2*j+1, user, "Do you deliver on Sundays?"), "X-Telegram-Bot-Api-Secret-Token", tgSecret, "Content-Type", "application/json")
		}
		third = func() error {
			return l.deliver(ctx, path, telegramUpdate(1e9+j, user, "And on Mondays?"), "X-Telegram-Bot-Api-Secret-Token", tgSecret, "Content-Type", "application/json")
		}
	} else {
		from := fmt.Sprintf("4477%08d", j)
		chat = "whatsapp:" + from
		first = func() error {
			b := whatsappText(from, fmt.Sprintf("wamid.faults-%d-1", j), v.Text)
			return l.deliver(ctx, "/hooks/whatsapp/shop", b, "X-Hub-Signature-256", sign(b), "Content-Type", "application/json")
		}
		second = func() error {
			b := whatsappText(from, fmt.Sprintf("wamid.faults-%d-2", j), "Do you deliver on Sundays?")
			return l.deliver(ctx, "/hooks/whatsapp/shop", b, "X-Hub-Signature-256", sign(b), "Content-Type", "application/json")
		}
		third = func() error {
			b := whatsappText(from, fmt.Sprintf("wamid.faults-%d-3", j), "And on Mondays?")
			return l.deliver(ctx, "/hooks/whatsapp/shop", b, "X-Hub-Signature-256", sign(b), "Content-Type", "application/json")
		}
	}
	// The person writes while the next visitors come: the platform
	// delivers the chat's two messages in order, on its own.
	l.platform.Add(1)
	go func() {
		defer l.platform.Done()
		for i, send := range []func() error{first, second} {
			if err := send(); err != nil {
				l.fail("chat %s message %d: %v", chat, i+1, err)
				return
			}
			l.mu.Lock()
			if l.chats[chat] == nil {
				l.chats[chat] = &chatTruth{visit: v.Visit, later: third}
			}
			l.chats[chat].messages++
			l.mu.Unlock()
		}
	}()
}

// whatsappText is a Cloud API notification of one text message, in the
// documented shape.
func whatsappText(from, id, text string) []byte {
	msg := map[string]any{
		"object": "whatsapp_business_account",
		"entry": []any{map[string]any{"id": "102290129340398", "changes": []any{map[string]any{
			"field": "messages",
			"value": map[string]any{
				"messaging_product": "whatsapp",
				"metadata":          map[string]string{"display_phone_number": shopNumber, "phone_number_id": "106540352242922"},
				"contacts":          []any{map[string]any{"profile": map[string]string{"name": "Visitor W"}, "wa_id": from}},
				"messages": []any{map[string]any{
					"from": from, "id": id, "timestamp": fmt.Sprint(time.Now().Unix()), "type": "text",
					"text": map[string]string{"body": text},
				}},
			},
		}}}},
	}
	b, _ := json.Marshal(msg)
	return b
}

// telegramUpdate is a Bot API update of a private text message, in the
// documented shape.
func telegramUpdate(updateID, user int64, text string) []byte {
	u := map[string]any{
		"update_id": updateID,
		"message": map[string]any{
			"message_id": updateID,
			"from":       map[string]any{"id": user, "is_bot": false, "first_name": "Visitor", "last_name": "T", "language_code": "en"},
			"chat":       map[string]any{"id": user, "first_name": "Visitor", "type": "private"},
			"date":       time.Now().Unix(),
			"text":       text,
		},
	}
	if strings.HasPrefix(text, "/start") {
		u["message"].(map[string]any)["entities"] = []any{map[string]any{"offset": 0, "length": 6, "type": "bot_command"}}
	}
	b, _ := json.Marshal(u)
	return b
}

func sign(body []byte) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// figures is a line of what the load saw, for the test's log.
func (l *load) figures() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return fmt.Sprintf("%d journeys, %d requests, %d webhook retries (%d answered as duplicates: stored by an attempt that failed), %d answers 5xx (%d of them 503), %d without an answer, slowest answer %v; %d visits with an ID (%d without), %d/%d clicks answered 204, %d chats delivered",
		l.journey.Load(), l.requests.Load(), l.retries.Load(), l.duplicates.Load(), l.status5xx.Load(), l.status503.Load(), l.connErrors.Load(),
		time.Duration(l.slowest.Load()).Round(time.Millisecond), len(l.visits), l.visitFails.Load(), l.clicks, l.clicked, len(l.chats))
}

// api is a GET of the site's operator API on c, decoded into v.
func api(t *testing.T, c *collectorProc, path string, v any) {
	t.Helper()
	req, err := http.NewRequest("GET", c.base()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := (&http.Client{Timeout: requestTimeout}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// check asserts, through the public API of the collector c, that every
// visit answered with an ID is findable, every chat the platform believes
// delivered is stored with its visit and each of its messages once, the
// chat list holds exactly those chats, and the reports count each once.
func (l *load) check(t *testing.T, c *collectorProc) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, e := range l.errs {
		t.Error(e)
	}
	if len(l.visits) == 0 || len(l.chats) == 0 {
		t.Fatalf("the load made %d visits and %d chats: nothing to check", len(l.visits), len(l.chats))
	}
	seen := map[string]bool{}
	for _, id := range l.visits {
		if seen[id] {
			t.Errorf("visit ID %s answered twice", id)
		}
		seen[id] = true
		var v struct {
			ID string `json:"id"`
		}
		api(t, c, "/v1/sites/shop/visits/"+id, &v)
	}
	for chat, want := range l.chats {
		var rec struct {
			Method   string `json:"method"`
			Visit    string `json:"visit"`
			Messages int    `json:"messages"`
			History  []struct {
				Text string `json:"text"`
			} `json:"history"`
		}
		api(t, c, "/v1/sites/shop/chats/"+url.PathEscape(chat), &rec)
		if rec.Method != "id" || rec.Visit != want.visit || rec.Messages != want.messages {
			t.Errorf("chat %s: method %q, visit %q, %d messages; the platform delivered %d messages, the first with visit %s's code",
				chat, rec.Method, rec.Visit, rec.Messages, want.messages, want.visit)
		}
	}
	listed := map[string]int{}
	for cursor := ""; ; {
		var page struct {
			Chats []struct {
				Chat string `json:"chat"`
			} `json:"chats"`
			Next string `json:"next"`
		}
		api(t, c, "/v1/sites/shop/chats?limit=200&cursor="+url.QueryEscape(cursor), &page)
		for _, s := range page.Chats {
			listed[s.Chat]++
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	var extra, twice []string
	for chat, n := range listed {
		if l.chats[chat] == nil {
			extra = append(extra, chat)
		}
		if n > 1 {
			twice = append(twice, chat)
		}
	}
	sort.Strings(extra)
	sort.Strings(twice)
	if len(listed) != len(l.chats) || len(extra) > 0 || len(twice) > 0 {
		t.Errorf("the chat list holds %d chats, the platform delivered %d; not delivered: %v; listed twice: %v", len(listed), len(l.chats), extra, twice)
	}
	from, to := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly), time.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	var channels struct {
		Totals struct {
			Conversations int `json:"conversations"`
		} `json:"totals"`
	}
	api(t, c, "/v1/sites/shop/reports/channels?from="+from+"&to="+to, &channels)
	if channels.Totals.Conversations != len(l.chats) {
		t.Errorf("the channels report counts %d conversations, the platform delivered %d chats", channels.Totals.Conversations, len(l.chats))
	}
	var codes struct {
		Rows []struct {
			Dimension string `json:"dimension"`
			Value     string `json:"value"`
			Clicks    int    `json:"clicks"`
			Kept      int    `json:"kept"`
		} `json:"rows"`
	}
	api(t, c, "/v1/sites/shop/reports/codes?from="+from+"&to="+to+"&format=json", &codes)
	var clicks, kept int
	for _, r := range codes.Rows {
		if r.Dimension == "format" {
			clicks += r.Clicks
			kept += r.Kept
		}
	}
	// A count that fails is logged and left out, by design: the click and
	// the message are stored first. It may fall short; it never exceeds.
	if clicks > l.clicked || kept > len(l.chats) {
		t.Errorf("the codes report counts %d clicks and %d kept codes; %d clicks were sent and %d chats delivered", clicks, kept, l.clicked, len(l.chats))
	}
	t.Logf("codes report: %d clicks counted of %d answered 204 (%d sent), %d kept of %d chats", clicks, l.clicks, l.clicked, kept, len(l.chats))
}

// waitHealthy waits until c answers /healthz with 200.
func waitHealthy(t *testing.T, c *collectorProc, within time.Duration) time.Duration {
	t.Helper()
	began := time.Now()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(c.base() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(began)
			}
		}
		if time.Since(began) > within {
			t.Fatalf("the collector at %s not healthy within %v (last: %v)", c.addr, within, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
