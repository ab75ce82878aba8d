package meta

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var received = time.Date(2026, 11, 2, 9, 5, 0, 0, time.UTC)

var (
	pages    = Accounts{"1234567890": "demoshop"}
	accounts = Accounts{"17841400000000000": "demo.shop"}
)

func sample(t testing.TB, name, code, text string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "platform-samples", name))
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer("__CODE__", code, "__TEXT__", text).Replace(string(b)))
}

func TestReadReferrals(t *testing.T) {
	tests := []struct {
		file, chat, target, start, ad, title, id string
	}{
		{"messenger_postback_referral.json", "messenger:6100000000000001", "messenger:demoshop", "AQIDBAUGBw", "", "",
			"fb:m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdCK48PnKAjSdjfipqxqMvK8ma6AC8fplwlqLP_5cgXIbu7I3rBN0P"},
		{"messenger_referral.json", "messenger:6100000000000001", "messenger:demoshop", "AQIDBAUGBw", "", "",
			"fb:ref:6100000000000001:1793613600000"},
		{"messenger_ad_referral.json", "messenger:6100000000000002", "messenger:demoshop", "", "120210000000000001", "Autumn sofas",
			"fb:ref:6100000000000002:1793610060000"},
		{"instagram_referral.json", "instagram:1790000000000001", "instagram:demo.shop", "AQIDBAUGBw", "", "",
			"ig:ref:1790000000000001:1793610060000"},
		{"instagram_ad_referral.json", "instagram:1790000000000002", "instagram:demo.shop", "", "120210000000000009", "Reels: the green armchair",
			"ig:aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDAwMDAwMDAw"},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			res, err := Read(sample(t, tc.file, "AQIDBAUGBw", ""), pages, accounts, received)
			if err != nil || len(res.Messages) != 1 {
				t.Fatalf("Read = %+v, %v", res, err)
			}
			in := res.Messages[0]
			if in.Chat != tc.chat || in.Target != tc.target || in.Start != tc.start || in.HasStart != (tc.start != "") || in.MessageID != tc.id {
				t.Fatalf("message %+v", in)
			}
			if (tc.ad == "") != (in.Referral == nil) || (in.Referral != nil && (in.Referral.SourceID != tc.ad || in.Referral.Headline != tc.title)) {
				t.Fatalf("referral %+v, want ad %q %q", in.Referral, tc.ad, tc.title)
			}
			if in.Time.After(received) || in.Time.Before(received.Add(-time.Hour)) {
				t.Fatalf("time %v", in.Time)
			}
		})
	}
}

func TestReadSkipsEchoes(t *testing.T) {
	res, err := Read(sample(t, "messenger_text.json", "", "Hello #K7Q2M9"), pages, accounts, received)
	if err != nil || len(res.Messages) != 1 || res.Ignored != 1 {
		t.Fatalf("Read = %+v, %v; want the person's message and the echo ignored", res, err)
	}
	if in := res.Messages[0]; in.Text != "Hello #K7Q2M9" || in.HasStart || in.Chat != "messenger:6100000000000001" {
		t.Fatalf("message %+v", in)
	}
}

func TestReadTakesMetasStringTimestamps(t *testing.T) {
	body := `{"object":"page","entry":[{"id":"1234567890","messaging":[{"sender":{"id":"61"},"recipient":{"id":"1234567890"},"timestamp":"1793610060","postback":{"mid":"m_1","referral":{"ref":"abc","type":"OPEN_THREAD"}}}]}]}`
	res, err := Read([]byte(body), pages, accounts, received)
	if err != nil || len(res.Messages) != 1 || !res.Messages[0].Time.Equal(time.Unix(1793610060, 0)) {
		t.Fatalf("Read = %+v, %v", res, err)
	}
}

func TestReadRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"not json":          `{"object":`,
		"other object":      `{"object":"whatsapp_business_account","entry":[]}`,
		"foreign page":      `{"object":"page","entry":[{"id":"999","messaging":[]}]}`,
		"page as instagram": `{"object":"instagram","entry":[{"id":"1234567890","messaging":[]}]}`,
		"bad timestamp":     `{"object":"page","entry":[{"id":"1234567890","messaging":[{"sender":{"id":"1"},"timestamp":"soon"}]}]}`,
	} {
		if res, err := Read([]byte(body), pages, accounts, received); err == nil {
			t.Errorf("%s: Read = %+v, want an error", name, res)
		}
	}
}

func FuzzRead(f *testing.F) {
	for _, s := range []string{"messenger_postback_referral.json", "messenger_referral.json", "messenger_ad_referral.json",
		"messenger_text.json", "instagram_referral.json", "instagram_ad_referral.json"} {
		f.Add(sample(f, s, "AQIDBAUGBw", "hi"))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		res, err := Read(body, pages, accounts, received)
		if err != nil {
			return
		}
		for _, in := range res.Messages {
			if !strings.HasPrefix(in.Chat, in.Messenger+":") || in.MessageID == "" || in.Time.IsZero() || in.Target == "" {
				t.Fatalf("message %+v", in)
			}
		}
	})
}
