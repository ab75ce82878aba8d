package qr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector/httperr"
	"github.com/messtrack/messtrack/collector/qr/qrtest"
)

func TestRenderDecodes(t *testing.T) {
	const content = "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20%23K7Q2M9"
	for _, format := range []string{"png", "svg"} {
		for _, level := range []string{"L", "M", "Q", "H", "h", ""} {
			for _, size := range []int{MinSize, 0, 777, MaxSize} {
				want := size
				if want == 0 {
					want = DefaultSize
				}
				t.Run(fmt.Sprintf("%s/level %q/size %d", format, level, size), func(t *testing.T) {
					img, err := Render(content, Options{Format: format, Size: size, Level: level})
					if err != nil {
						t.Fatal(err)
					}
					if got := qrtest.DecodeImage(t, format, img, want); got != content {
						t.Fatalf("decoded %q, want %q", got, content)
					}
				})
			}
		}
	}
}

func TestRenderLevelsGrowTheCode(t *testing.T) {
	const content = "http://127.0.0.1:8080/q/demo/flyer"
	modules := map[string]int{}
	for _, level := range []string{"L", "H"} {
		svg, err := Render(content, Options{Format: "svg", Level: level})
		if err != nil {
			t.Fatal(err)
		}
		n, ok := qrtest.SVGModules(svg)
		if !ok {
			t.Fatalf("no viewBox in %.100s", svg)
		}
		modules[level] = n
	}
	if modules["H"] <= modules["L"] {
		t.Errorf("level H drew no more modules than level L (%v): the level is not applied", modules)
	}
}

func TestRenderBadOptions(t *testing.T) {
	tests := []struct {
		name    string
		content string
		opt     Options
		wantErr string
	}{
		{name: "unknown format", content: "x", opt: Options{Format: "gif"}, wantErr: `format "gif" is not png or svg`},
		{name: "no format", content: "x", opt: Options{}, wantErr: `format "" is not png or svg`},
		{name: "too small", content: "x", opt: Options{Format: "png", Size: 127}, wantErr: "size 127 is outside 128..2048 pixels"},
		{name: "too large", content: "x", opt: Options{Format: "svg", Size: 2049}, wantErr: "size 2049 is outside"},
		{name: "negative", content: "x", opt: Options{Format: "png", Size: -3}, wantErr: "size -3 is outside"},
		{name: "unknown level", content: "x", opt: Options{Format: "png", Level: "S"}, wantErr: `level "S" is not one of L, M, Q, H`},
		{name: "too long for a code", content: strings.Repeat("https://wa.me/1?text=%F0%9F%8E%89", 100), opt: Options{Format: "svg", Level: "H"}, wantErr: "does not fit in a QR code at level H"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Render(tt.content, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if !errors.Is(err, httperr.ErrBadInput) {
				t.Errorf("err %v is not a bad-input error", err)
			}
		})
	}
}

func TestParseQRSize(t *testing.T) {
	tests := []struct {
		name    string
		raw     string
		want    int
		wantErr string
	}{
		{name: "absent", raw: "", want: 0},
		{name: "number", raw: "300", want: 300},
		{name: "zero", raw: "0", wantErr: "size 0 is outside"},
		{name: "words", raw: "large", wantErr: `size "large" is not a whole number`},
		{name: "fraction", raw: "2.5", wantErr: "is not a whole number"},
		{name: "overflow", raw: "99999999999999999999999", wantErr: "is not a whole number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSize(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSize(%q) = %d, %v; want %d", tt.raw, got, err, tt.want)
			}
		})
	}
}

func TestQRSVGRunsAndQuietZone(t *testing.T) {
	bitmap := [][]bool{
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, true, true, false, false, false, false},
		{false, false, false, false, false, true, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
		{false, false, false, false, false, false, false, false, false, false},
	}
	got := string(drawSVG(bitmap, 200))
	want := `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200" viewBox="0 0 10 10" shape-rendering="crispEdges">` +
		`<rect width="10" height="10" fill="#fff"/><path fill="#000" d="M4,4h2v1h-2zM5,5h1v1h-1z"/></svg>` + "\n"
	if got != want {
		t.Fatalf("drawSVG =\n%s\nwant\n%s", got, want)
	}
}

// BenchmarkRender compares drawing the same code as PNG and as SVG; the
// ratio of the two is the figure to quote.
func BenchmarkRender(b *testing.B) {
	const content = "https://wa.me/15551234567?text=Hello%21%20My%20request%20code%3A%20%23K7Q2M9"
	for _, format := range []string{"png", "svg"} {
		b.Run(format, func(b *testing.B) {
			for b.Loop() {
				if _, err := Render(content, Options{Format: format}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
