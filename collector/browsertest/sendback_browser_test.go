package browsertest

// Browser tests of the send-back widget on the demo shop's page: the
// visitor types a WhatsApp number, the collector sends the site's template
// through a local Cloud API that checks the documented request, and the
// page shows what happened, also when the collector is down.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/store"
)

// sendBackYAML is the demo site with its Cloud API account (%[4]s, a local
// server) and the send-back widget; at most two sends from one address an
// hour, so a third visitor meets the limit.
const sendBackYAML = `
public_url: %[1]s
static_dir: %[2]s
sites:
  demo:
    api_key: demo-key-123
    id_secret: demo-secret-0123456789
    origins: [%[3]s]
    message: "Hello! My request code: {id}"
    whatsapp:
      - number: "15551234567"
    whatsapp_api: {base_url: "%[4]s/v25.0", token: cloud-token, phone_number_id: "106540352242922"}
    sendback:
      template: callback_code
      language: en_US
      consent: "Main Street Flowers writes to you once on WhatsApp about your order."
      limits: {per_ip_hour: 2}
`

// cloudTemplate is a template message as the local Cloud API took it.
type cloudTemplate struct {
	To, Name, Language, Param string
}

// cloudAPI is a local WhatsApp Cloud API: it checks each request against
// the documented template message (bearer token, messaging_product,
// recipient_type, to, type, template name, language code, one body
// parameter of type text) and answers with a message ID.
type cloudAPI struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []cloudTemplate
}

func newCloudAPI(t *testing.T) *cloudAPI {
	t.Helper()
	a := &cloudAPI{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var body struct {
			Product       string `json:"messaging_product"`
			RecipientType string `json:"recipient_type"`
			To            string `json:"to"`
			Type          string `json:"type"`
			Template      struct {
				Name     string `json:"name"`
				Language struct {
					Code string `json:"code"`
				} `json:"language"`
				Components []struct {
					Type       string `json:"type"`
					Parameters []struct {
						Type string `json:"type"`
						Text string `json:"text"`
					} `json:"parameters"`
				} `json:"components"`
			} `json:"template"`
		}
		tpl := &body.Template
		if r.URL.Path != "/v25.0/106540352242922/messages" || r.Header.Get("Authorization") != "Bearer cloud-token" ||
			json.Unmarshal(b, &body) != nil || body.Product != "whatsapp" || body.RecipientType != "individual" ||
			body.Type != "template" || len(tpl.Components) != 1 || tpl.Components[0].Type != "body" ||
			len(tpl.Components[0].Parameters) != 1 || tpl.Components[0].Parameters[0].Type != "text" {
			t.Errorf("cloud API got %s %s", r.URL.Path, b)
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.sent = append(a.sent, cloudTemplate{body.To, tpl.Name, tpl.Language.Code, tpl.Components[0].Parameters[0].Text})
		n := len(a.sent)
		a.mu.Unlock()
		fmt.Fprintf(w, `{"messaging_product":"whatsapp","contacts":[{"input":%q,"wa_id":%q}],"messages":[{"id":"wamid.page%d"}]}`, body.To, body.To, n)
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *cloudAPI) got() []cloudTemplate {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]cloudTemplate(nil), a.sent...)
}

// newSendBackBrowserWorld serves the demo shop's pages from a collector
// with send-back on; publicURL is where the snippet reports ("": the
// collector itself).
func newSendBackBrowserWorld(t *testing.T, publicURL string) (*browserWorld, *cloudAPI) {
	t.Helper()
	api := newCloudAPI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	if publicURL == "" {
		publicURL = base
	}
	site, err := filepath.Abs(filepath.Join("..", "..", "examples", "site"))
	if err != nil {
		t.Fatal(err)
	}
	w := &browserWorld{
		testWorld: newTestWorld(t, fmt.Sprintf(sendBackYAML, publicURL, site, base, api.srv.URL)),
		base:      base,
		chats:     newChatRecorder(t),
	}
	w.clock.Set(time.Now())
	w.serveOn(t, ln)
	w.browser = newBrowser(t, w.chats)
	return w, api
}

// typeNumber replaces what the number field holds with s, key by key.
func typeNumber(s string) chromedp.Action[chromedp.Void] {
	field := chromedp.CSS("#sendback input[type=tel]")
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := chromedp.Evaluate[chromedp.Void](`document.querySelector("#sendback input[type=tel]").value = ""`)(ctx, t); err != nil {
			return chromedp.Void{}, err
		}
		return chromedp.SendKeys(field, s)(ctx, t)
	}
}

// widgetMessage waits until the widget's message says something with want
// and returns it.
func widgetMessage(t *testing.T, ctx context.Context, want string) string {
	t.Helper()
	return poll[string](t, ctx, fmt.Sprintf(`(() => { const m = document.querySelector("#sendback [role=status]"); return m && m.textContent.includes(%q) && m.textContent })()`, want))
}

func submitWidget() chromedp.Action[chromedp.Void] {
	return chromedp.Click(chromedp.CSS("#sendback button[type=submit]"))
}

func TestSendBackWidgetInBrowser(t *testing.T) {
	w, api := newSendBackBrowserWorld(t, "")

	t.Run("the field, its label and the consent line", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		stored := waitVisit(t, ctx)
		// The visit's geo (planted: the test has no GeoIP database) gives
		// the field its country code.
		n := w.visitNumber(t, "demo", stored.Visit)
		v, err := w.probe.LoadVisit(t.Context(), "demo", n)
		if err != nil {
			t.Fatal(err)
		}
		v.Country = "DE"
		b, err := visit.Encode(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.rdb.Set(t.Context(), store.NewShards("demo", 1).Visit(n), b, time.Hour).Err(); err != nil {
			t.Fatal(err)
		}
		// The page seen again continues the stored visit, now with its
		// country.
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		waitLoaded(t, ctx)
		do(t, ctx, chromedp.Focus(chromedp.CSS("#sendback input[type=tel]")))
		poll[bool](t, ctx, `document.querySelector("#sendback input[type=tel]").placeholder == "+49 …"`)
		a11y := eval[map[string]string](t, ctx, `(() => {
			const f = document.querySelector("#sendback input[type=tel]");
			const label = document.querySelector("label[for='" + f.id + "']");
			const described = f.getAttribute("aria-describedby").split(" ").map(id => document.getElementById(id).textContent.trim());
			return {label: label && label.textContent, autocomplete: f.autocomplete, described: described.join("|"),
				live: document.getElementById(f.getAttribute("aria-describedby").split(" ")[1]).getAttribute("aria-live")};
		})()`)
		if a11y["label"] != "Your WhatsApp number" || a11y["autocomplete"] != "tel" || a11y["live"] != "polite" ||
			a11y["described"] != "Main Street Flowers writes to you once on WhatsApp about your order.|" {
			t.Fatalf("field: %v", a11y)
		}
		// A national number in the visit's country is read as German.
		do(t, ctx, typeNumber("01512 3456789"), submitWidget())
		widgetMessage(t, ctx, "we have written to you on WhatsApp")
		token := w.codec(t, "demo").Token(n)
		if got := api.got(); len(got) != 1 || got[0] != (cloudTemplate{"4915123456789", "callback_code", "en_US", token}) {
			t.Fatalf("the Cloud API got %+v, want the template to 4915123456789 with %s", got, token)
		}
		rec, err := w.probe.ChatRecord(t.Context(), "demo", "whatsapp:4915123456789")
		if err != nil || rec.Method != "send_back" || rec.Visit != stored.Visit {
			t.Fatalf("chat record %+v %v", rec, err)
		}
	})

	t.Run("an invalid number gets an inline message", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		waitVisit(t, ctx)
		do(t, ctx, typeNumber("+49 abc"))
		widgetMessage(t, ctx, "Use only digits")
		do(t, ctx, typeNumber("+1 555 000 0000"))
		widgetMessage(t, ctx, "not a valid number")
		if inv := eval[string](t, ctx, `document.querySelector("#sendback input[type=tel]").getAttribute("aria-invalid")`); inv != "true" {
			t.Fatalf("aria-invalid = %q", inv)
		}
		do(t, ctx, submitWidget())
		widgetMessage(t, ctx, "not a valid number")
		do(t, ctx, typeNumber("+44 7400 123456"))
		poll[bool](t, ctx, `document.querySelector("#sendback [role=status]").textContent == "" && document.querySelector("#sendback input[type=tel]").getAttribute("aria-invalid") == "false"`)
		if n := len(api.got()); n != 1 {
			t.Fatalf("%d templates sent, want only the first test's", n)
		}
	})

	t.Run("limits answer with a clear message", func(t *testing.T) {
		// The same number again, from another visit: already written to.
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		waitVisit(t, ctx)
		do(t, ctx, typeNumber("+49 1512 3456789"), submitWidget())
		widgetMessage(t, ctx, "already written to this number")
		// A second number from this address: the address's second send.
		do(t, ctx, typeNumber("+44 7400 123456"), submitWidget())
		widgetMessage(t, ctx, "we have written to you")
		// A third visitor on the same address meets the hourly limit.
		ctx = w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		waitVisit(t, ctx)
		do(t, ctx, typeNumber("+1 650 253 0000"), submitWidget())
		widgetMessage(t, ctx, "Too many requests right now")
		if n := len(api.got()); n != 2 {
			t.Fatalf("%d templates sent, want 2", n)
		}
	})

	t.Run("messtrack('sendback', el) on an element the page adds", func(t *testing.T) {
		ctx := w.tab(t)
		do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
		waitVisit(t, ctx)
		got := eval[string](t, ctx, `(() => {
			const el = document.body.appendChild(document.createElement("div"));
			el.id = "late";
			el.dataset.messtrackSendbackLabel = "Phone <b>number</b>";
			messtrack("sendback", el);
			messtrack("sendback", el);
			return el.querySelectorAll("form").length + "|" + el.querySelector("label").textContent;
		})()`)
		if got != "1|Phone <b>number</b>" {
			t.Fatalf("widget in a page's element: %q", got)
		}
	})
}

// With the collector down, the page and its widget still work: the field
// takes a number and says it cannot send, and no error reaches the page.
func TestSendBackWidgetWithCollectorDown(t *testing.T) {
	down, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	downURL := "http://" + down.Addr().String()
	down.Close()
	w, api := newSendBackBrowserWorld(t, downURL)
	ctx := w.tab(t)
	do(t, ctx, chromedp.Navigate(w.base+"/index.html"))
	do(t, ctx, chromedp.Evaluate[chromedp.Void](`window.pageErrors = []; addEventListener("error", e => pageErrors.push(String(e.message))); addEventListener("unhandledrejection", e => pageErrors.push(String(e.reason)))`))
	waitLoaded(t, ctx)
	poll[bool](t, ctx, `!!document.querySelector("#sendback input[type=tel]")`)
	do(t, ctx, typeNumber("+49 1512 3456789"), submitWidget())
	widgetMessage(t, ctx, "please write to us on WhatsApp")
	do(t, ctx, clickID("hero-wa"))
	if link := w.chats.next(t); !strings.HasPrefix(link, "https://wa.me/15551234567?text=Hello!") {
		t.Fatalf("the chat button reached %s", link)
	}
	if errs := eval[[]string](t, ctx, `window.pageErrors || []`); len(errs) != 0 {
		t.Fatalf("page errors: %v", errs)
	}
	if n := len(api.got()); n != 0 {
		t.Fatalf("%d templates sent", n)
	}
}
