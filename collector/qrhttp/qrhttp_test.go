package qrhttp

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector/collectortest"
	"github.com/messtrack/messtrack/collector/sites"
	"github.com/messtrack/messtrack/config"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMain(m *testing.M) { os.Exit(redistest.Main(m)) }

// demoSite prepares the demo site of the config raw on a real Redis.
func demoSite(t testing.TB, raw string) *sites.Site {
	t.Helper()
	cfg, err := config.Parse("test.yaml", []byte(raw), nil)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	st, err := sites.New(context.Background(), redistest.NewUniversal(t), cfg.Sites["demo"])
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestChatLinkText(t *testing.T) {
	const hostile = `A&B #1 100% +more=yes?x
line two 🎉 {id}`
	tests := []struct {
		name     string
		message  string
		target   chatTarget
		wantText string // the decoded text before the code
		wantRaw  []string
	}{
		{name: "reserved characters are escaped", message: hostile, target: chatTarget{kind: chatWhatsApp, id: "15551234567"},
			wantText: "A&B #1 100% +more=yes?x\nline two 🎉 ",
			wantRaw:  []string{"A%26B%20%231%20100%25%20%2Bmore%3Dyes%3Fx%0Aline%20two%20%F0%9F%8E%89%20"}},
		{name: "a draft starting with @ gets a space", message: "@shop hi {id}", target: chatTarget{kind: chatTelegramUser, id: "demo_manager"},
			wantText: " @shop hi ", wantRaw: []string{"?text=%20%40shop%20hi%20"}},
		{name: "a second {id} is removed", message: "{id} and {id}", target: chatTarget{kind: chatWhatsApp, id: "15551234567"},
			wantText: "", wantRaw: []string{"%20and%20"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := strings.Replace(collectortest.ConfigYAML, `message: "Hello! My request code: {id}"`, "message: "+jsonString(t, tt.message), 1)
			st := demoSite(t, yaml)
			link := chatLink(st, tt.target, 77)
			for _, raw := range tt.wantRaw {
				if !strings.Contains(link, raw) {
					t.Errorf("link %q lacks %q", link, raw)
				}
			}
			if strings.Contains(link, "+") {
				t.Errorf("link %q holds a '+'", link)
			}
			u, err := url.Parse(link)
			if err != nil {
				t.Fatal(err)
			}
			text := u.Query().Get("text")
			code := st.Codec.Code(77, st.Style)
			if !strings.HasPrefix(text, tt.wantText+code) || strings.Count(text, code) != 1 {
				t.Errorf("text %q, want %q then the code %q once", text, tt.wantText, code)
			}
		})
	}
}

// jsonString quotes s for YAML (JSON strings are YAML strings).
func jsonString(t testing.TB, s string) string {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
