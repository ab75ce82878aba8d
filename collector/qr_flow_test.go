package collector

// End to end: a QR image is read, its link followed through the collector
// to the chat, and the prefilled first message, as the messenger delivers
// it, is matched through the messages API to the offline visit.

import (
	"net/url"
	"strings"
	"testing"
	"time"
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
			size := QRDefaultSize
			if strings.Contains(tt.image, "size=256") {
				size = 256
			}
			link := w.scan(t, decodeImage(t, format, img, size))
			n := linkVisit(t, st, link)

			w.clock.Advance(40 * time.Second)
			got := w.postMessage(t, firstMessage(t, link, tt.from))
			if got.Chat != tt.wantChat || got.Method != MethodID || got.Confidence != 1 || !got.NewChat || got.Visit == nil {
				t.Fatalf("match = %+v", got)
			}
			if got.Visit.ID != st.codec.VisitID(n) || got.Visit.OfflineSource != tt.wantSrc || got.Visit.Channel != tt.wantChan ||
				got.Visit.Country != "SE" || got.Visit.Device != "mobile" {
				t.Errorf("matched visit %+v, want %s from %s", got.Visit, st.codec.VisitID(n), tt.wantSrc)
			}
			rec := w.chatRecordOf(t, tt.wantChat)
			if rec.Method != MethodID || rec.Source.OfflineSource != tt.wantSrc || rec.Source.Channel != tt.wantChan ||
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
	n := linkVisit(t, st, link)
	// The person deleted the prefilled text and wrote their own: the scan
	// was the only click on the number, moments before, from the same
	// country as the phone number.
	w.clock.Advance(20 * time.Second)
	got := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "46701234567", "to": "15551234567", "text": "do you deliver on Sundays?"})
	if got.Method != MethodHeuristic || got.Visit == nil || got.Visit.ID != st.codec.VisitID(n) || got.Visit.OfflineSource != "flyer" {
		t.Fatalf("match = %+v, want the scan's visit by the heuristic", got)
	}
}

func TestStaticQRMatchesManyPeople(t *testing.T) {
	w := newQRWorld(t)
	st := w.srv.sites["demo"]
	link := decodePNG(t, w.getQR(t, "/v1/sites/demo/qr/flyer.png?static=1"), QRDefaultSize)
	n := linkVisit(t, st, link)
	for i, from := range []string{"46701110001", "46701110002", "447700900777"} {
		w.clock.Advance(time.Hour)
		got := w.postMessage(t, firstMessage(t, link, from))
		if got.Method != MethodID || got.Visit == nil || got.Visit.ID != st.codec.VisitID(n) || got.Visit.OfflineSource != "flyer" {
			t.Fatalf("person %d: match = %+v, want the static visit %s", i+1, got, st.codec.VisitID(n))
		}
		rec := w.chatRecordOf(t, "whatsapp:"+from)
		if rec.Source.OfflineSource != "flyer" || rec.Source.Channel != "offline" || rec.Dialog != DialogNew {
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
		if again.Method != MethodID || again.NewChat || conversations != 1 || len(rec.History) != 2 {
			t.Errorf("repeat message: %+v; history %+v", again, rec.History)
		}
	})
	t.Run("a scan code stays one chat's", func(t *testing.T) {
		scanLink := w.scan(t, w.cfg.PublicURL+"/q/demo/flyer")
		first := w.postMessage(t, firstMessage(t, scanLink, "46702220001"))
		fwd := w.postMessage(t, firstMessage(t, scanLink, "46702220002"))
		if first.Method != MethodID || fwd.Method == MethodID {
			t.Errorf("a forwarded scan code matched twice: %+v then %+v", first, fwd)
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
	link := decodeSVG(t, body, QRDefaultSize)
	w.clock.Advance(2 * time.Minute)
	got := w.postMessage(t, firstMessage(t, link, "46701234567"))
	if got.Method != MethodID || got.Visit == nil || got.Visit.ID != visit.Visit || got.Visit.UTMCampaign != "winter" || got.Visit.OfflineSource != "" {
		t.Fatalf("match = %+v, want the web visit %s", got, visit.Visit)
	}
	if rec := w.chatRecordOf(t, "whatsapp:46701234567"); rec.Source.UTMSource != "newsletter" || rec.Source.LandingPage != "https://shop.test/pricing?utm_source=newsletter&utm_campaign=winter" {
		t.Errorf("record source %+v", rec.Source)
	}
}
