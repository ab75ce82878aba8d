package ids

import (
	"bufio"
	"compress/gzip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// unicodeLines yields the data lines of a gzipped Unicode data file from
// testdata/unicode15 (verbatim copies of Unicode 15.0 emoji data).
func unicodeLines(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open("testdata/unicode15/" + name + ".gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	s := bufio.NewScanner(z)
	for s.Scan() {
		if l := s.Text(); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

func parseRange(t *testing.T, field string) (lo, hi rune) {
	t.Helper()
	a, b, ok := strings.Cut(strings.TrimSpace(field), "..")
	if !ok {
		b = a
	}
	l, err1 := strconv.ParseUint(a, 16, 32)
	h, err2 := strconv.ParseUint(b, 16, 32)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad code point range %q", field)
	}
	return rune(l), rune(h)
}

// emojiVersion finds the "E11.0" emoji version in a data line's comment.
var emojiVersion = regexp.MustCompile(`E(\d+\.\d+)`)

// TestEmojiAlphabetProperties checks every alphabet emoji against the
// Unicode emoji data: the reasons it was chosen, made testable.
func TestEmojiAlphabetProperties(t *testing.T) {
	type props struct {
		presentation, modifierBase, component bool
		version                               float64
	}
	alphabet := emojiRunes()
	want := map[rune]*props{}
	for _, r := range alphabet {
		want[r] = &props{}
	}
	for _, l := range unicodeLines(t, "emoji-data.txt") {
		fields, comment, _ := strings.Cut(l, "#")
		cp, prop, _ := strings.Cut(fields, ";")
		prop = strings.TrimSpace(prop)
		lo, hi := parseRange(t, cp)
		// The comment starts with the emoji version, e.g. "E0.6" or "E11.0".
		m := emojiVersion.FindStringSubmatch(comment)
		if m == nil {
			t.Fatalf("no emoji version in %q", l)
		}
		ver, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		for r := lo; r <= hi; r++ {
			p := want[r]
			if p == nil {
				continue
			}
			switch prop {
			case "Emoji_Presentation":
				p.presentation = true
				p.version = ver
			case "Emoji_Modifier_Base":
				p.modifierBase = true
			case "Emoji_Component":
				p.component = true
			}
		}
	}
	inSequence := map[rune]string{}
	for _, file := range []string{"emoji-variation-sequences.txt", "emoji-zwj-sequences.txt"} {
		for _, l := range unicodeLines(t, file) {
			seq, _, _ := strings.Cut(l, ";")
			for _, cp := range strings.Fields(seq) {
				v, err := strconv.ParseUint(cp, 16, 32)
				if err == nil {
					inSequence[rune(v)] = file
				}
			}
		}
	}
	seen := map[rune]bool{}
	for i, r := range alphabet {
		t.Run(string(r), func(t *testing.T) {
			p := want[r]
			if seen[r] {
				t.Errorf("symbol %d repeats %U", i, r)
			}
			seen[r] = true
			if utf8.RuneLen(r) != 4 || r < emojiBase || r >= emojiBase+emojiSpan {
				t.Errorf("%U is outside U+1F300..U+1F9FF", r)
			}
			if !p.presentation {
				t.Errorf("%U lacks Emoji_Presentation: it would need U+FE0F", r)
			}
			if p.version > 11.0 {
				t.Errorf("%U is from emoji %.1f, newer than 11.0", r, p.version)
			}
			if p.modifierBase || p.component {
				t.Errorf("%U takes skin tones or is a component", r)
			}
			if r >= 0x1F1E6 && r <= 0x1F1FF {
				t.Errorf("%U is a regional indicator", r)
			}
			if f, ok := inSequence[r]; ok {
				t.Errorf("%U appears in %s", r, f)
			}
		})
	}
	if len(seen) != 64 || utf8.RuneCountInString(emojiAlphabet) != 64 {
		t.Fatalf("alphabet has %d distinct emoji, want 64", len(seen))
	}
}

func TestEmojiRoundTrip(t *testing.T) {
	c := newTestCodec(t, secretA)
	for _, n := range sampleNumbers(t, c) {
		code := c.Emoji(n)
		if strings.ContainsAny(code, "\uFE0F\u200D ") {
			t.Fatalf("Emoji(%d) = %q contains a selector, joiner or space", n, code)
		}
		found := c.Find(code)
		if len(found) != 1 || found[0] != (Found{Format: Emoji, N: n, Start: 0, End: len(code)}) {
			t.Fatalf("Find(Emoji(%d)) = %+v", n, found)
		}
	}
}

// emojiSplit returns the emoji of a code as separate strings.
func emojiSplit(code string) []string {
	var out []string
	for _, r := range code {
		out = append(out, string(r))
	}
	return out
}

func TestFindEmojiMangled(t *testing.T) {
	c := newTestCodec(t, secretA)
	other := newTestCodec(t, secretB)
	n := c.Number(5)
	code := c.Emoji(n)
	e := emojiSplit(code)
	big := c.Number(1 << 26)
	bigCode := c.Emoji(big)
	// An alphabet emoji different from every emoji of the code.
	extra := ""
	for _, r := range emojiRunes() {
		if !strings.ContainsRune(code, r) {
			extra = string(r)
			break
		}
	}
	swapped := append([]string(nil), e...)
	for i := 0; i+1 < len(swapped); i++ {
		if swapped[i] != swapped[i+1] {
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
			break
		}
	}
	changed := append([]string(nil), e...)
	changed[2] = extra
	tests := []struct {
		name  string
		text  string
		wantN []uint64
	}{
		{name: "alone", text: code, wantN: []uint64{n}},
		{name: "seven emoji code", text: bigCode, wantN: []uint64{big}},
		{name: "in a greeting", text: "Hello! My request code: " + code, wantN: []uint64{n}},
		{name: "FE0F after every emoji", text: strings.Join(e, "\uFE0F") + "\uFE0F", wantN: []uint64{n}},
		{name: "FE0E after some emoji", text: e[0] + "\uFE0E" + strings.Join(e[1:], ""), wantN: []uint64{n}},
		{name: "spaces between", text: strings.Join(e, " "), wantN: []uint64{n}},
		{name: "newlines between", text: strings.Join(e[:3], "") + "\n\n" + strings.Join(e[3:], "\r\n"), wantN: []uint64{n}},
		{name: "no-break spaces", text: strings.Join(e, "\u00A0"), wantN: []uint64{n}},
		{name: "other emoji around", text: "😀👍" + code + "🔥❤️", wantN: []uint64{n}},
		{name: "alphabet emoji before", text: extra + code, wantN: []uint64{n}},
		{name: "alphabet emoji after", text: code + extra + extra, wantN: []uint64{n}},
		{name: "Russian text around", text: "Здравствуйте!" + code + "спасибо", wantN: []uint64{n}},
		{name: "Arabic text around", text: "مرحبا " + code + " شكرا", wantN: []uint64{n}},
		{name: "pasted twice", text: code + code, wantN: []uint64{n, n}},
		{name: "pasted twice with text", text: code + " and again " + code, wantN: []uint64{n, n}},
		{name: "last emoji lost", text: strings.Join(e[:len(e)-1], ""), wantN: nil},
		{name: "first emoji lost", text: strings.Join(e[1:], ""), wantN: nil},
		{name: "one emoji changed", text: strings.Join(changed, ""), wantN: nil},
		{name: "neighbours swapped", text: strings.Join(swapped, ""), wantN: nil},
		{name: "broken by a word", text: strings.Join(e[:3], "") + "ok" + strings.Join(e[3:], ""), wantN: nil},
		{name: "skin tone after an emoji", text: e[0] + "\U0001F3FD" + strings.Join(e[1:], ""), wantN: nil},
		{name: "another site's code", text: other.Emoji(other.Number(5)), wantN: nil},
		{name: "fixture greeting emoji", text: "Здравствуйте! 🍀🐙🎈", wantN: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			found := c.Find(tt.text)
			var got []uint64
			for _, f := range found {
				if f.Format != Emoji {
					t.Errorf("Find reported %v", f.Format)
				}
				got = append(got, f.N)
				checkOffsets(t, tt.text, f)
			}
			if !equalNumbers(got, tt.wantN) {
				t.Fatalf("Find(%q) = %v, want %v", tt.text, got, tt.wantN)
			}
		})
	}
}

func equalNumbers(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkOffsets makes sure a Found's range is inside text, on character
// boundaries, and starts and ends with what its format starts and ends with.
func checkOffsets(t *testing.T, text string, f Found) {
	t.Helper()
	if f.Start < 0 || f.End > len(text) || f.Start >= f.End {
		t.Fatalf("Found %+v out of range for %d bytes", f, len(text))
	}
	s := text[f.Start:f.End]
	if !utf8.ValidString(s) {
		t.Fatalf("Found %+v splits a character: %q", f, s)
	}
	switch f.Format {
	case Token:
		if s[0] != '#' {
			t.Fatalf("token %q does not start with '#'", s)
		}
	case Emoji:
		first, _ := utf8.DecodeRuneInString(s)
		last, _ := utf8.DecodeLastRuneInString(s)
		if !strings.ContainsRune(emojiAlphabet, first) || !strings.ContainsRune(emojiAlphabet, last) {
			t.Fatalf("emoji code %q does not start and end with alphabet emoji", s)
		}
	case Invisible:
		if strings.Trim(s, invisibleDigits) != "" {
			t.Fatalf("invisible run %q holds visible characters", s)
		}
	case Start:
		if strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("start payload %q outside [A-Za-z0-9_-]", s)
		}
	}
}
