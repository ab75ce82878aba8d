package ids

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestInvisibleRoundTrip(t *testing.T) {
	c := newTestCodec(t, secretA)
	for _, n := range sampleNumbers(t, c) {
		inv := c.Invisible(n)
		if strings.Trim(inv, invisibleDigits) != "" {
			t.Fatalf("Invisible(%d) holds other characters: %q", n, inv)
		}
		if strings.Contains(inv, "\u200D") {
			t.Fatalf("Invisible(%d) holds a zero-width joiner", n)
		}
		found := c.Find(inv)
		if len(found) != 1 || found[0] != (Found{Format: Invisible, N: n, Start: 0, End: len(inv)}) {
			t.Fatalf("Find(Invisible(%d)) = %+v", n, found)
		}
	}
}

// TestInvisibleNeverAltersTheVisibleCode: with the invisible run in front,
// the visible code is byte for byte the same and reads the same; and with
// any of the four characters stripped, as an app might, the visible code
// still reads and the damaged run reports nothing wrong.
func TestInvisibleNeverAltersTheVisibleCode(t *testing.T) {
	c := newTestCodec(t, secretA)
	digits := []string{"\u200B", "\u200C", "\u2060", "\u2063"}
	for _, style := range []string{"invisible+token", "invisible+emoji"} {
		s, err := ParseCodeStyle(style)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range sampleNumbers(t, c) {
			code := c.Code(n, s)
			visible := c.Token(n)
			if s.Visible() == Emoji {
				visible = c.Emoji(n)
			}
			if !strings.HasSuffix(code, visible) {
				t.Fatalf("%s: Code(%d) = %q does not end with the visible code", style, n, code)
			}
			for _, d := range digits {
				t.Run(fmt.Sprintf("%s/%d/strip %s", style, n, hexRune(d)), func(t *testing.T) {
					msg := "Hola, mi código: " + strings.ReplaceAll(code, d, "")
					found := c.Find(msg)
					var sawVisible bool
					for _, f := range found {
						if f.N != n {
							t.Fatalf("stripping %s: Find reported %v %d, want %d", hexRune(d), f.Format, f.N, n)
						}
						if f.Format == s.Visible() {
							sawVisible = true
						}
					}
					if !sawVisible {
						t.Fatalf("stripping %s: visible code not found in %q", hexRune(d), msg)
					}
				})
			}
		}
	}
}

func hexRune(s string) string {
	r, _ := utf8.DecodeRuneInString(s)
	return fmt.Sprintf("%U", r)
}

func TestFindInvisibleMangled(t *testing.T) {
	c := newTestCodec(t, secretA)
	n := c.Number(11)
	inv := c.Invisible(n)
	runes := []rune(inv)
	swapped := append([]rune(nil), runes...)
	for i := 0; i+1 < len(swapped); i++ {
		if swapped[i] != swapped[i+1] {
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
			break
		}
	}
	tests := []struct {
		name  string
		text  string
		wantN []uint64
	}{
		{name: "alone", text: inv, wantN: []uint64{n}},
		{name: "in Arabic text", text: "رقم الطلب " + inv + "#", wantN: []uint64{n}},
		{name: "last character lost", text: string(runes[:len(runes)-1]), wantN: nil},
		{name: "first character lost", text: string(runes[1:]), wantN: nil},
		{name: "neighbours swapped", text: string(swapped), wantN: nil},
		{name: "split by a space", text: string(runes[:5]) + " " + string(runes[5:]), wantN: nil},
		{name: "pasted twice with space", text: inv + " " + inv, wantN: []uint64{n, n}},
		{name: "pasted twice without space", text: inv + inv, wantN: nil},
		{name: "a lone zero-width space", text: "a\u200Bb", wantN: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			for _, f := range c.Find(tt.text) {
				checkOffsets(t, tt.text, f)
				got = append(got, f.N)
			}
			if !equalNumbers(got, tt.wantN) {
				t.Fatalf("Find = %v, want %v", got, tt.wantN)
			}
		})
	}
}
