package collector

import (
	"strings"
	"testing"
	"time"
)

// TestEveryCodeStyleMatchesThroughItsEdits sends, for each id_format, the
// prefilled message as people really send it (untouched, with the invisible
// part stripped by an app, with emoji re-typed with U+FE0F and spaces, with
// text around) and checks the chat matches the right visit by id — and that
// a code with a changed symbol never matches any visit.
func TestEveryCodeStyleMatchesThroughItsEdits(t *testing.T) {
	stripInvisible := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch r {
			case '\u200b', '\u200c', '\u2060', '\u2063':
				return -1
			}
			return r
		}, s)
	}
	spaceEmoji := func(s string) string {
		var b strings.Builder
		for _, r := range s {
			b.WriteRune(r)
			if r > 0xffff {
				b.WriteString("\ufe0f ")
			}
		}
		return b.String()
	}
	tests := []struct {
		name   string
		format string
		edit   func(code string) string
		want   string // "id" or "none"
	}{
		{name: "token as sent", format: "token", edit: func(c string) string { return c }, want: "id"},
		{name: "token lower-cased with look-alikes", format: "token", edit: func(c string) string {
			return strings.NewReplacer("0", "o", "1", "l").Replace(strings.ToLower(c))
		}, want: "id"},
		{name: "token with a changed symbol", format: "token", edit: func(c string) string {
			r := []rune(c)
			if r[2] == 'X' {
				r[2] = 'Y'
			} else {
				r[2] = 'X'
			}
			return string(r)
		}, want: "none"},
		{name: "token cut short", format: "token", edit: func(c string) string { return c[:len(c)-1] }, want: "none"},
		{name: "emoji as sent", format: "emoji", edit: func(c string) string { return c }, want: "id"},
		{name: "emoji with FE0F and spaces", format: "emoji", edit: spaceEmoji, want: "id"},
		{name: "invisible+token with the invisible part stripped", format: "invisible+token", edit: stripInvisible, want: "id"},
		{name: "invisible+token as sent", format: "invisible+token", edit: func(c string) string { return c }, want: "id"},
		{name: "invisible+emoji with the visible part deleted", format: "invisible+emoji", edit: func(c string) string {
			return strings.Map(func(r rune) rune {
				if r > 0xffff {
					return -1
				}
				return r
			}, c)
		}, want: "id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := strings.Replace(testConfigYAML, "    message: \"Hello! My request code: {id}\"",
				"    message: \"Hello! My request code: {id}\"\n    id_format: "+tt.format, 1)
			w := newTestWorld(t, cfg)
			other := w.addVisit(t, nil) // visitor B, who must never be matched
			v := w.addVisit(t, nil)     // visitor A
			w.clock.Advance(time.Minute)
			text := "Hi there 🌷 " + strings.ReplaceAll(w.demoSite().cfg.Message, "{id}", tt.edit(w.code(v))) + " thanks!"
			got := w.postMessage(t, map[string]string{"channel": "whatsapp", "from": "15557654321",
				"to": "15551234567", "text": text, "time": w.clock.Now().Format(time.RFC3339)})
			if got.Method != tt.want {
				t.Fatalf("method = %q, want %q (text %q)", got.Method, tt.want, text)
			}
			if tt.want == "id" && (got.Visit == nil || got.Visit.ID != w.visitID(v)) {
				t.Fatalf("matched visit %+v, want %s", got.Visit, w.visitID(v))
			}
			if got.Visit != nil && got.Visit.ID == w.visitID(other) {
				t.Fatal("matched visitor B, who never wrote")
			}
		})
	}
}
