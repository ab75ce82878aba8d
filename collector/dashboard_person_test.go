package collector

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector/dashboard"
)

// apiGet answers a GET of the site's API with the demo site's key.
func apiGet(t *testing.T, w *dashWorld, path string) (*http.Response, []byte) {
	t.Helper()
	return w.do(t, request("GET", path, nil, "Authorization", "Bearer demo-key-123"))
}

func TestDashboardChatCardOffersExportAndErase(t *testing.T) {
	w := newDashWorld(t)
	d := newDashClient(w.testWorld)
	d.signIn(t, "demo", "demo-key-123")
	link := dashboard.ChatLink(w.matchedChat)
	resp, card := d.get(t, link)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("card: %d", resp.StatusCode)
	}
	for _, want := range []string{
		`href="` + link + `/export"`, "Export this person's data",
		`action="` + link + `/erase"`, "Erase this person's data",
	} {
		if !strings.Contains(card, want) {
			t.Errorf("the card has no %q", want)
		}
	}
}

func TestDashboardExportIsTheAPIsDocument(t *testing.T) {
	w := newDashWorld(t)
	chat := w.matchedChat
	resp, api := apiGet(t, w, "/v1/sites/demo/people/"+url.PathEscape(chat))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("API export: %d %s", resp.StatusCode, api)
	}

	d := newDashClient(w.testWorld)
	resp, _ = d.get(t, dashboard.ChatLink(chat)+"/export")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(resp.Header.Get("Location"), "/dashboard/signin") {
		t.Fatalf("export without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}

	d.signIn(t, "demo", "demo-key-123")
	resp, body := d.get(t, dashboard.ChatLink(chat)+"/export")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("export: %d\n%s", resp.StatusCode, clip(body, 1000))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, `filename="person-whatsapp-15550001001.json"`) {
		t.Errorf("Content-Disposition %q", cd)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	if !bytes.Equal([]byte(body), api) {
		t.Errorf("the dashboard's export differs from the API's:\ndashboard %s\napi       %s", clip(body, 2000), clip(string(api), 2000))
	}
	if !strings.Contains(body, `"record":{`) || !strings.Contains(body, "Visitor A") {
		t.Errorf("the export holds no chat record:\n%s", clip(body, 2000))
	}
}

func TestDashboardErase(t *testing.T) {
	tests := []struct {
		name       string
		token      string // "session" posts the session's token
		confirm    []string
		wantStatus int
		wantText   string
	}{
		{name: "without a token", token: "", confirm: []string{"chat"}, wantStatus: http.StatusForbidden},
		{name: "with a wrong token", token: "xyz", confirm: []string{"chat"}, wantStatus: http.StatusForbidden},
		{name: "without the confirmation", token: "session", wantStatus: http.StatusOK, wantText: "Type the chat key"},
		{name: "with an empty confirmation", token: "session", confirm: []string{""}, wantStatus: http.StatusUnprocessableEntity, wantText: "nothing was erased"},
		{name: "with another chat's key", token: "session", confirm: []string{"hostile"}, wantStatus: http.StatusUnprocessableEntity, wantText: "nothing was erased"},
		{name: "with the chat's key", token: "session", confirm: []string{"chat"}, wantStatus: http.StatusSeeOther},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newDashWorld(t)
			chat := w.matchedChat
			d := newDashClient(w.testWorld)
			d.signIn(t, "demo", "demo-key-123")
			form := url.Values{}
			switch tt.token {
			case "session":
				form.Set("csrf", d.csrf(t))
			case "":
			default:
				form.Set("csrf", tt.token)
			}
			for _, c := range tt.confirm {
				switch c {
				case "chat":
					c = chat
				case "hostile":
					c = w.hostileChat
				}
				form.Add("confirm", c)
			}
			resp, body := d.post(t, dashboard.ChatLink(chat)+"/erase", form)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("erase: %d, want %d\n%s", resp.StatusCode, tt.wantStatus, clip(body, 1000))
			}
			if tt.wantText != "" && !strings.Contains(body, tt.wantText) {
				t.Errorf("the answer does not say %q:\n%s", tt.wantText, clip(body, 2000))
			}
			erased := tt.wantStatus == http.StatusSeeOther
			if loc := resp.Header.Get("Location"); erased && loc != "/dashboard/chats?erased=1" {
				t.Errorf("redirect to %q", loc)
			}
			resp, api := apiGet(t, w, "/v1/sites/demo/chats/"+url.PathEscape(chat))
			if want := map[bool]int{false: http.StatusOK, true: http.StatusNotFound}[erased]; resp.StatusCode != want {
				t.Fatalf("after a %d erase the API's chat answers %d, want %d\n%s", tt.wantStatus, resp.StatusCode, want, api)
			}
			if resp, _ := apiGet(t, w, "/v1/sites/demo/chats/"+url.PathEscape(w.hostileChat)); resp.StatusCode != http.StatusOK {
				t.Errorf("another chat answers %d", resp.StatusCode)
			}
			if !erased {
				return
			}
			_, list := d.get(t, "/dashboard/chats?erased=1")
			if !strings.Contains(list, "The person's data is erased") {
				t.Errorf("the chat list shows no notice:\n%s", clip(list, 2000))
			}
			if strings.Contains(list, chat) {
				t.Error("the erased chat is still listed")
			}
			if resp, _ := d.get(t, dashboard.ChatLink(chat)); resp.StatusCode != http.StatusNotFound {
				t.Errorf("the erased chat's card answers %d", resp.StatusCode)
			}
		})
	}
}
