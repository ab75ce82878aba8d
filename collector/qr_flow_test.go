package collector

// End to end: a QR image is read, its link followed through the collector
// to the chat, and the prefilled first message, as the messenger delivers
// it, is matched through the messages API to the offline visit.

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/qr"
	"github.com/messtrack/messtrack/collector/qr/qrtest"
	"github.com/messtrack/messtrack/reports"
)

// firstMessage is the generic message a person sends from a chat link: the
// prefilled text as it stands, or "/start PAYLOAD" for a bot.
func firstMessage(t testing.TB, link, from string) map[string]string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("chat link %q: %v", link, err)
	}
	q := u.Query()
	to := strings.TrimPrefix(u.Path, "/")
	switch {
	case u.Host == "wa.me":
		return map[string]string{"channel": "whatsapp", "from": from, "to": to, "text": q.Get("text"), "name": "Visitor A"}
	case q.Has("start"):
		return map[string]string{"channel": "telegram", "from": from, "to": "@" + to, "text": "/start " + q.Get("start")}
	default:
		return map[string]string{"channel": "telegram", "from": from, "to": "@" + to, "text": q.Get("text")}
	}
}

func TestQRScanMatchesTheChat(t *testing.T) {
	tests := []struct {
		name     string
		image    string
		from     string
		wantChat string
		wantSrc  string
		wantChan string
		wantAd   string
	}{
		{name: "flyer to WhatsApp", image: "/v1/sites/demo/qr/flyer.png", from: "+46 70 123 45 67", wantChat: "whatsapp:46701234567", wantSrc: "flyer", wantChan: "offline", wantAd: "Spring flyer"},
		{name: "desk card to the Telegram bot", image: "/v1/sites/demo/qr/desk.svg?level=H", from: "4242", wantChat: "telegram:4242", wantSrc: "desk", wantChan: "offline", wantAd: "Front desk card"},
		{name: "shop window to the Telegram manager", image: "/v1/sites/demo/qr/window.png?size=256", from: "4343", wantChat: "telegram:4343", wantSrc: "window", wantChan: "shop_window", wantAd: "window"},
		{name: "billboard to its dedicated number, with a code", image: "/v1/sites/demo/qr/billboard.svg", from: "46701230000", wantChat: "whatsapp:46701230000", wantSrc: "billboard", wantChan: "offline", wantAd: "billboard"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newQRWorld(t)
			st := w.srv.sites["demo"]
			format := "png"
			if strings.Contains(tt.image, ".svg") {
				format = "svg"
			}
			img := w.getQR(t, tt.image)
			size := qr.DefaultSize
			if strings.Contains(tt.image, "size=256") {
				size = 256
			}
			link := w.scan(t, qrtest.DecodeImage(t, format, img, size))
			n := collectortest.LinkVisit(t, st.codec, link)

			w.clock.Advance(40 * time.Second)
			got := w.postMessage(t, firstMessage(t, link, tt.from))
			if got.Chat != tt.wantChat || got.Method != reports.MethodID || got.Confidence != 1 || !got.NewChat || got.Visit == nil {
				t.Fatalf("match = %+v", got)
			}
			if got.Visit.ID != st.codec.VisitID(n) || got.Visit.OfflineSource != tt.wantSrc || got.Visit.Channel != tt.wantChan ||
				got.Visit.Country != "SE" || got.Visit.Device != "mobile" {
				t.Errorf("matched visit %+v, want %s from %s", got.Visit, st.codec.VisitID(n), tt.wantSrc)
			}
			rec := w.chatRecordOf(t, tt.wantChat)
			if rec.Method != reports.MethodID || rec.Source.OfflineSource != tt.wantSrc || rec.Source.Channel != tt.wantChan ||
				rec.Source.AdTitle != tt.wantAd || !strings.HasPrefix(rec.Source.LandingPage, "http://127.0.0.1:8080/q/demo/"+tt.wantSrc) ||
				rec.Visitor.Country != "SE" || rec.Visitor.City != "Linköping" || rec.Visitor.OS != "iOS 17" {
				t.Errorf("chat record method %q source %+v visitor %+v", rec.Method, rec.Source, rec.Visitor)
			}
		})
	}
}

func TestQRScanWithoutTheCodeFallsBackToTheScan(t *testing.T) {
	w := newQRWorld(t)
	st := w.srv.sites["demo"]
	link := w.scan(t, w.cfg.PublicURL+"/q/demo/flyer")
	n := collectortest.LinkVisit(t, st.codec, link)
	// The person deleted the prefilled text and wrote their own: the scan
	// was the only click on the number, moments before, from the same
	// country as the phone number.
	w.clock.Advance(20 * time.Second)
	got := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "46701234567", "to": "15551234567", "text": "do you deliver on Sundays?"})
	if got.Method != reports.MethodHeuristic || got.Visit == nil || got.Visit.ID != st.codec.VisitID(n) || got.Visit.OfflineSource != "flyer" {
		t.Fatalf("match = %+v, want the scan's visit by the heuristic", got)
	}
}

func TestStaticQRMatchesManyPeople(t *testing.T) {
	w := newQRWorld(t)
	st := w.srv.sites["demo"]
	link := qrtest.DecodePNG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.png?static=1"), qr.DefaultSize)
	n := collectortest.LinkVisit(t, st.codec, link)
	for i, from := range []string{"46701110001", "46701110002", "447700900777"} {
		w.clock.Advance(time.Hour)
		got := w.postMessage(t, firstMessage(t, link, from))
		if got.Method != reports.MethodID || got.Visit == nil || got.Visit.ID != st.codec.VisitID(n) || got.Visit.OfflineSource != "flyer" {
			t.Fatalf("person %d: match = %+v, want the static visit %s", i+1, got, st.codec.VisitID(n))
		}
		rec := w.chatRecordOf(t, "whatsapp:"+from)
		if rec.Source.OfflineSource != "flyer" || rec.Source.Channel != "offline" || rec.Dialog != reports.DialogNew {
			t.Errorf("person %d: record source %+v dialog %q", i+1, rec.Source, rec.Dialog)
		}
	}
	t.Run("the same person again is the same conversation", func(t *testing.T) {
		w.clock.Advance(time.Hour)
		again := w.postMessage(t, firstMessage(t, link, "46701110001"))
		rec := w.chatRecordOf(t, "whatsapp:46701110001")
		conversations := 0
		for _, h := range rec.History {
			if h.Kind == "conversation" {
				conversations++
			}
		}
		if again.Method != reports.MethodID || again.NewChat || conversations != 1 || len(rec.History) != 2 {
			t.Errorf("repeat message: %+v; history %+v", again, rec.History)
		}
	})
	t.Run("a scan code matches each chat that sends it", func(t *testing.T) {
		scanLink := w.scan(t, w.cfg.PublicURL+"/q/demo/flyer")
		first := w.postMessage(t, firstMessage(t, scanLink, "46702220001"))
		fwd := w.postMessage(t, firstMessage(t, scanLink, "46702220002"))
		if first.Method != reports.MethodID || fwd.Method != reports.MethodID || first.Visit == nil || fwd.Visit == nil || first.Visit.ID != fwd.Visit.ID {
			t.Errorf("one scan, two chats: %+v then %+v", first, fwd)
		}
	})
}

func TestDesktopVisitQRMatchesTheWebVisit(t *testing.T) {
	w := newQRWorld(t)
	visit := w.registerVisit(t, "https://shop.test/pricing?utm_source=newsletter&utm_campaign=winter")
	resp, body := w.do(t, request("GET", "/qr/demo/"+visit.Visit+".svg?target=whatsapp:15551234567", nil))
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	link := qrtest.DecodeSVG(t, body, qr.DefaultSize)
	w.clock.Advance(2 * time.Minute)
	got := w.postMessage(t, firstMessage(t, link, "46701234567"))
	if got.Method != reports.MethodID || got.Visit == nil || got.Visit.ID != visit.Visit || got.Visit.UTMCampaign != "winter" || got.Visit.OfflineSource != "" {
		t.Fatalf("match = %+v, want the web visit %s", got, visit.Visit)
	}
	if rec := w.chatRecordOf(t, "whatsapp:46701234567"); rec.Source.UTMSource != "newsletter" || rec.Source.LandingPage != "https://shop.test/pricing?utm_source=newsletter&utm_campaign=winter" {
		t.Errorf("record source %+v", rec.Source)
	}
}

func TestOfflineSourcesInChatRecordsAndChannelReport(t *testing.T) {
	w := newQRWorld(t)
	scanned := func(source string) string {
		t.Helper()
		return w.scan(t, w.cfg.PublicURL+"/q/demo/"+source)
	}
	say := func(msg map[string]string) messageResponse {
		t.Helper()
		w.clock.Advance(45 * time.Second)
		return w.postMessage(t, msg)
	}
	static := qrtest.DecodePNG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.png?static=1"), qr.DefaultSize)
	want := []struct {
		person string
		msg    map[string]string
		method string
		source string
	}{
		{person: "A scans the flyer", msg: firstMessage(t, scanned("flyer"), "46701110001"), method: reports.MethodID, source: "flyer"},
		{person: "B scans the flyer", msg: firstMessage(t, scanned("flyer"), "46701110002"), method: reports.MethodID, source: "flyer"},
		{person: "C writes the static flyer code", msg: firstMessage(t, static, "46701110003"), method: reports.MethodID, source: "flyer"},
		{person: "D writes to the billboard's number", msg: map[string]string{"channel": "whatsapp", "from": "46701110004", "to": "15557654321", "text": "saw your billboard, what are the prices?"}, method: reports.MethodDedicatedNumber, source: "billboard"},
		{person: "E scans the billboard's code", msg: firstMessage(t, scanned("billboard"), "46701110005"), method: reports.MethodID, source: "billboard"},
		{person: "F scans the shop window", msg: firstMessage(t, scanned("window"), "4343"), method: reports.MethodID, source: "window"},
	}
	for _, p := range want {
		got := say(p.msg)
		if got.Method != p.method {
			t.Fatalf("%s: %+v, want method %s", p.person, got, p.method)
		}
		rec := w.chatRecordOf(t, got.Chat)
		if rec.Source.OfflineSource != p.source || rec.Method != p.method {
			t.Errorf("%s: chat record method %q source %+v", p.person, rec.Method, rec.Source)
		}
	}
	// A stranger with no code two hours later: no scan is recent enough.
	w.clock.Advance(2 * time.Hour)
	if got := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "46701110009", "to": "15551234567", "text": "hello"}); got.Method != reports.MethodNone {
		t.Fatalf("stranger matched: %+v", got)
	}
	// D buys: the dedicated number's chat converts.
	resp, b := w.do(t, request("POST", "/v1/sites/demo/events",
		[]byte(`{"chat":"whatsapp:46701110004","category":"purchase","time":"`+w.clock.Now().UTC().Format(time.RFC3339)+`","value":40}`),
		"Authorization", "Bearer demo-key-123", "Content-Type", "application/json"))
	if resp.StatusCode != 200 {
		t.Fatalf("event: %d %s", resp.StatusCode, b)
	}

	rec := w.chatRecordOf(t, "whatsapp:46701110004")
	if rec.Source.Channel != "offline" || rec.Source.AdTitle != "billboard" || len(rec.Sessions) != 1 {
		t.Errorf("billboard chat record: source %+v sessions %v", rec.Source, rec.Sessions)
	}

	resp, b = w.do(t, request("GET", "/v1/sites/demo/reports/channels?from=2026-11-02&to=2026-11-02", nil, "Authorization", "Bearer demo-key-123"))
	if resp.StatusCode != 200 {
		t.Fatalf("channels report: %d %s", resp.StatusCode, b)
	}
	var rep reports.ChannelsReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	type row struct {
		conversations, sessions, conversions int64
	}
	rows := map[string]row{}
	for _, r := range rep.Rows {
		var conv int64
		if r.Conversions != nil {
			conv = *r.Conversions
		}
		rows[r.Channel+"/"+r.Source] = row{r.Conversations, r.Sessions, conv}
	}
	for key, wantRow := range map[string]row{
		"offline/flyer":            {conversations: 3, sessions: 3},
		"offline/billboard":        {conversations: 2, sessions: 2, conversions: 1},
		"shop_window/window":       {conversations: 1, sessions: 1},
		reports.Unattributed + "/": {conversations: 1},
	} {
		if got, ok := rows[key]; !ok || got != wantRow {
			t.Errorf("channels row %s = %+v (present %v), want %+v; report %s", key, got, ok, wantRow, b)
		}
	}
	if rep.Totals.Conversations != 7 {
		t.Errorf("total conversations %d, want 7", rep.Totals.Conversations)
	}
}
