package ids

import (
	"strings"
	"testing"
)

// benchMessages are 200-byte messages: with a token, an emoji code, a start
// payload, and without any code but with hashtags, numbers and emoji.
func benchMessages(b *testing.B) map[string]string {
	c := newTestCodec(b, secretA)
	n := c.Number(123_456)
	pad := func(s string) string {
		filler := " Hola, quería saber el precio y si hacen envíos a Lisboa. Obrigado! #SALE2024 +34 612 345 678 "
		for len(s) < 200 {
			s += filler
		}
		return s[:200]
	}
	msgs := map[string]string{
		"token":   pad("Hello! My request code: " + c.Token(n)),
		"emoji":   pad("Здравствуйте! " + c.Emoji(n)),
		"none":    pad("Hello! I saw your ad 🍀🐙🎈 order #12345678"),
		"start":   pad("/start " + c.Start(n)),
		"ascii":   pad("Hello! I saw your ad, order 12345678"),
		"russian": pad("Здравствуйте! Видел вашу рекламу, хочу заказать доставку"),
	}
	for name, m := range msgs {
		if len(m) != 200 {
			b.Fatalf("%s message is %d bytes", name, len(m))
		}
	}
	return msgs
}

func BenchmarkFind(b *testing.B) {
	c := newTestCodec(b, secretA)
	for _, name := range []string{"token", "emoji", "start", "none", "ascii", "russian"} {
		msg := benchMessages(b)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(msg)))
			buf := make([]Found, 0, 4)
			for b.Loop() {
				buf = c.AppendFind(buf[:0], msg)
			}
		})
	}
}

// BenchmarkFindAlloc is Find as the collector calls it, allocating the
// result slice when a code is there.
func BenchmarkFindAlloc(b *testing.B) {
	c := newTestCodec(b, secretA)
	for _, name := range []string{"token", "none"} {
		msg := benchMessages(b)[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = c.Find(msg)
			}
		})
	}
}

// BenchmarkBaseline is strings.Index over the same messages: the cost of
// looking at each byte once with the standard library's fastest search.
func BenchmarkBaseline(b *testing.B) {
	for _, name := range []string{"token", "none"} {
		msg := benchMessages(b)[name]
		b.Run("Index/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				_ = strings.Index(msg, "#K7Q2M9")
			}
		})
		b.Run("IndexAny/"+name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				_ = strings.IndexAny(msg, "#/")
			}
		})
	}
}

func BenchmarkNumber(b *testing.B) {
	c := newTestCodec(b, secretA)
	var counter uint64
	for b.Loop() {
		counter++
		_ = c.Number(counter)
	}
}

func BenchmarkCodes(b *testing.B) {
	c := newTestCodec(b, secretA)
	n := c.Number(99)
	b.Run("Token", func(b *testing.B) {
		for b.Loop() {
			_ = c.Token(n)
		}
	})
	b.Run("Emoji", func(b *testing.B) {
		for b.Loop() {
			_ = c.Emoji(n)
		}
	})
	b.Run("Start", func(b *testing.B) {
		for b.Loop() {
			_ = c.Start(n)
		}
	})
	p := c.Start(n)
	b.Run("ParseStart", func(b *testing.B) {
		for b.Loop() {
			_, _ = c.ParseStart(p)
		}
	})
}
