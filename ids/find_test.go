package ids

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	c := newTestCodec(t, secretA)
	other := newTestCodec(t, secretB)
	n := c.Number(7)
	tok := c.Token(n)
	big := c.Number(Cycle - 3)
	bigTok := c.Token(big)
	type want struct {
		format Format
		n      uint64
		text   string // text[Start:End]
	}
	tests := []struct {
		name string
		text string
		want []want
	}{
		{name: "token in English", text: "Hello! My request code: " + tok, want: []want{{Token, n, tok}}},
		{name: "token in Russian", text: "Здравствуйте! Код заявки: " + tok + ". Спасибо", want: []want{{Token, n, tok}}},
		{name: "token in Spanish", text: "¡Hola! Mi código es " + tok + ", gracias", want: []want{{Token, n, tok}}},
		{name: "token in Portuguese", text: "Olá! Meu código: " + tok + "\nObrigado", want: []want{{Token, n, tok}}},
		{name: "token in Arabic", text: "مرحبا! رمز الطلب: " + tok, want: []want{{Token, n, tok}}},
		{name: "longest token", text: "code " + bigTok + "!", want: []want{{Token, big, bigTok}}},
		{name: "lower case", text: "code " + strings.ToLower(tok), want: []want{{Token, n, strings.ToLower(tok)}}},
		{name: "pasted twice", text: tok + tok, want: []want{{Token, n, tok}, {Token, n, tok}}},
		{name: "pasted twice spaced", text: tok + " " + tok, want: []want{{Token, n, tok}, {Token, n, tok}}},
		{name: "double marker", text: "#" + tok, want: []want{{Token, n, tok}}},
		{name: "in HTML", text: "<b>" + tok + "</b>", want: []want{{Token, n, tok}}},
		{name: "without marker", text: "code " + tok[1:], want: nil},
		{name: "marker then space", text: "# " + tok[1:], want: nil},
		{name: "truncated", text: tok[:len(tok)-1] + " thanks", want: nil},
		{name: "extra symbol typed", text: tok + "5", want: nil},
		{name: "glued to a word", text: tok + "hello", want: nil},
		{name: "changed symbol", text: "#" + mutate(tok[1:], 2), want: nil},
		{name: "swapped neighbours", text: "#" + swapFirstDistinct(tok[1:]), want: nil},
		{name: "another site's token", text: other.Token(other.Number(7)), want: nil},
		{name: "number beyond the code space", text: c.Token(Cycle + 1), want: nil},
		{name: "hashtags", text: "#SALE2024 #BlackFriday #tbt #K7Q2M9 #love", want: nil},
		{name: "order number", text: "Order #100234 and #A1B2C3 shipped", want: nil},
		{name: "phone number", text: "Call me +7 (912) 345-67-89 or +1 555 123 4567", want: nil},
		{name: "csv formula", text: "=HYPERLINK(\"http://x\";\"" + tok + "\")", want: []want{{Token, n, tok}}},
		{name: "control characters", text: "\x00\x1b[31m" + tok + "\x07", want: []want{{Token, n, tok}}},
		{name: "start command", text: "/start " + c.Start(n), want: []want{{Start, n, c.Start(n)}}},
		{name: "start with bot name", text: "/start@demo_bot " + c.Start(n), want: []want{{Start, n, c.Start(n)}}},
		{name: "start from another site", text: "/start " + other.Start(n), want: nil},
		{name: "start without payload", text: "/start", want: nil},
		{name: "start glued to a word", text: "x/start " + c.Start(n), want: nil},
		{name: "payload without command", text: c.Start(n), want: nil},
		{name: "all formats", text: "/start " + c.Start(n) + "\n" + c.Code(n, CodeStyle{invisible: true}) + " " + c.Emoji(n),
			want: []want{{Start, n, c.Start(n)}, {Invisible, n, c.Invisible(n)}, {Token, n, tok}, {Emoji, n, c.Emoji(n)}}},
		{name: "empty", text: "", want: nil},
		{name: "lone bytes", text: "#\xf0\xe2/", want: nil},
		{name: "invalid UTF-8 around", text: "\xff\xfe" + tok + "\xf0\x9f", want: []want{{Token, n, tok}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := c.Find(tt.text)
			if len(found) != len(tt.want) {
				t.Fatalf("Find(%q) = %+v, want %d codes", tt.text, found, len(tt.want))
			}
			for i, f := range found {
				checkOffsets(t, tt.text, f)
				w := tt.want[i]
				if f.Format != w.format || f.N != w.n || tt.text[f.Start:f.End] != w.text {
					t.Errorf("code %d = %v %d %q, want %v %d %q", i, f.Format, f.N, tt.text[f.Start:f.End], w.format, w.n, w.text)
				}
			}
		})
	}
}

// TestFindInPlatformSamples runs Find over the message texts of the
// platforms' sample payloads: as they are (the greeting emoji are not a
// code) and with this site's code in the text.
func TestFindInPlatformSamples(t *testing.T) {
	c := newTestCodec(t, secretA)
	n := c.Number(12)
	tests := []struct {
		name     string
		file     string
		text     func(raw []byte) (string, error)
		withCode string
		want     Format
	}{
		{name: "telegram start", file: "telegram_start.json", text: telegramText, withCode: "/start " + c.Start(n), want: Start},
		{name: "telegram text", file: "telegram_text.json", text: telegramText, withCode: "Здравствуйте! " + c.Emoji(n), want: Emoji},
		{name: "whatsapp text", file: "whatsapp_text.json", text: whatsappText, withCode: "Hello! My request code: " + c.Token(n), want: Token},
		{name: "whatsapp escaped", file: "whatsapp_text_unicode_escaped.json", text: whatsappText, withCode: "Здравствуйте! " + c.Code(n, CodeStyle{emoji: true, invisible: true}), want: Invisible},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := os.ReadFile("testdata/platform-samples/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			text, err := tt.text(raw)
			if err != nil {
				t.Fatal(err)
			}
			if text == "" {
				t.Fatal("sample has no message text")
			}
			if found := c.Find(text); len(found) != 0 {
				t.Fatalf("Find(%q) = %+v in a sample without a code", text, found)
			}
			// Put the code into the same payload, re-encoded as the
			// platform sends it, and read it back through JSON.
			old, _ := json.Marshal(text)
			repl, _ := json.Marshal(tt.withCode)
			withCode := strings.Replace(string(raw), string(old), string(repl), 1)
			if withCode == string(raw) {
				// The sample writes non-ASCII as \u escapes: swap the decoded text.
				withCode = replaceJSONText(t, raw, tt.withCode)
			}
			text, err = tt.text([]byte(withCode))
			if err != nil {
				t.Fatal(err)
			}
			found := c.Find(text)
			if len(found) == 0 || found[0].Format != tt.want || found[0].N != n {
				t.Fatalf("Find(%q) = %+v, want %v %d first", text, found, tt.want, n)
			}
		})
	}
}

func telegramText(raw []byte) (string, error) {
	var u struct {
		Message struct {
			Text string `json:"text"`
		} `json:"message"`
	}
	err := json.Unmarshal(raw, &u)
	return u.Message.Text, err
}

func whatsappText(raw []byte) (string, error) {
	var p struct {
		Entry []struct {
			Changes []struct {
				Value struct {
					Messages []struct {
						Text struct {
							Body string `json:"body"`
						} `json:"text"`
					} `json:"messages"`
				} `json:"value"`
			} `json:"changes"`
		} `json:"entry"`
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return "", err
	}
	return p.Entry[0].Changes[0].Value.Messages[0].Text.Body, nil
}

// replaceJSONText sets the WhatsApp message body of raw to text, going
// through a generic decode so the rest of the payload stays as it was.
func replaceJSONText(t *testing.T, raw []byte, text string) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	msg := v["entry"].([]any)[0].(map[string]any)["changes"].([]any)[0].(map[string]any)["value"].(map[string]any)["messages"].([]any)[0].(map[string]any)
	msg["text"].(map[string]any)["body"] = text
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestFindDoesNotAllocateWithoutCodes(t *testing.T) {
	c := newTestCodec(t, secretA)
	msg := "Здравствуйте! Хочу заказать #SALE2024, мой номер +7 912 345-67-89 🍀🐙🎈 спасибо"
	allocs := testing.AllocsPerRun(100, func() {
		if c.Find(msg) != nil {
			t.Fatal("found a code")
		}
	})
	if allocs != 0 {
		t.Errorf("Find allocated %.0f times on a message without codes", allocs)
	}
	buf := make([]Found, 0, 4)
	text := "code " + c.Token(c.Number(3)) + " /start " + c.Start(c.Number(3))
	allocs = testing.AllocsPerRun(100, func() {
		if len(c.AppendFind(buf[:0], text)) != 2 {
			t.Fatal("codes not found")
		}
	})
	if allocs != 0 {
		t.Errorf("AppendFind into a reused slice allocated %.0f times", allocs)
	}
}
