// Package qr draws QR images, pure: the options a caller gives (format,
// size, error-correction level), checked into client errors, and the PNG or
// SVG that holds a piece of text.
package qr

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"github.com/skip2/go-qrcode"

	"github.com/messtrack/messtrack/collector/httperr"
)

// QR image bounds in pixels. A /q/ link makes a code of about 37 modules with
// its quiet zone, so the smallest size still gives each module three pixels;
// the largest keeps one PNG under 4 MB of pixels while it is drawn. A code
// with more modules than the size has pixels comes out larger (the encoder
// never draws a module smaller than a pixel).
const (
	DefaultSize = 512
	MinSize     = 128
	MaxSize     = 2048
)

// Options say how a QR image is drawn.
type Options struct {
	// Format is "png" or "svg".
	Format string
	// Size is the image's width and height in pixels; 0 means DefaultSize.
	Size int
	// Level is the error-correction level, L, M, Q or H; "" means M. Higher
	// levels survive more dirt and creases on print, at the cost of denser
	// codes.
	Level string
}

// levels maps the standard level letters to the encoder's levels.
var levels = map[string]qrcode.RecoveryLevel{
	"L": qrcode.Low,
	"M": qrcode.Medium,
	"Q": qrcode.High,
	"H": qrcode.Highest,
}

// Normalize fills defaults and checks every field; its errors are client
// errors, so the HTTP handlers answer them as 400 and the CLI prints them.
func (o Options) Normalize() (Options, error) {
	o.Format = strings.ToLower(o.Format)
	if o.Format != "png" && o.Format != "svg" {
		return o, httperr.Fail(httperr.ErrBadInput, "format %q is not png or svg", httperr.Clip(o.Format, 16))
	}
	if o.Size == 0 {
		o.Size = DefaultSize
	}
	if o.Size < MinSize || o.Size > MaxSize {
		return o, httperr.Fail(httperr.ErrBadInput, "size %d is outside %d..%d pixels", o.Size, MinSize, MaxSize)
	}
	o.Level = strings.ToUpper(o.Level)
	if o.Level == "" {
		o.Level = "M"
	}
	if _, ok := levels[o.Level]; !ok {
		return o, httperr.Fail(httperr.ErrBadInput, "level %q is not one of L, M, Q, H", httperr.Clip(o.Level, 16))
	}
	return o, nil
}

// ParseSize reads a size given as text (a query parameter, a flag).
func ParseSize(raw string) (int, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, httperr.Fail(httperr.ErrBadInput, "size %q is not a whole number of pixels", httperr.Clip(raw, 16))
	}
	if n == 0 {
		// 0 would silently mean the default; an explicit 0 is a mistake.
		return 0, httperr.Fail(httperr.ErrBadInput, "size 0 is outside %d..%d pixels", MinSize, MaxSize)
	}
	return n, nil
}

// Render draws content as a QR image. Errors for bad options or content too
// long for a QR code are client errors whose text says what to change.
func Render(content string, opt Options) ([]byte, error) {
	opt, err := opt.Normalize()
	if err != nil {
		return nil, err
	}
	q, err := qrcode.New(content, levels[opt.Level])
	if err != nil {
		return nil, httperr.Fail(httperr.ErrBadInput, "the link (%d bytes) does not fit in a QR code at level %s: use a lower level or a shorter message", len(content), opt.Level)
	}
	if opt.Format == "svg" {
		return drawSVG(q.Bitmap(), opt.Size), nil
	}
	b, err := q.PNG(opt.Size)
	if err != nil {
		return nil, fmt.Errorf("qr.Render: png: %w", err)
	}
	return b, nil
}

// drawSVG writes a bitmap (quiet zone included) as an SVG whose user units are
// modules: one white square behind one black <path> made of a rectangle per
// horizontal run of dark modules. crispEdges keeps scaled modules sharp and
// free of hairline seams between neighbouring runs.
func drawSVG(bitmap [][]bool, size int) []byte {
	n := len(bitmap)
	var b bytes.Buffer
	b.Grow(256 + n*n)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges">`, size, size, n, n)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bitmap {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			run := 1
			for x+run < len(row) && row[x+run] {
				run++
			}
			fmt.Fprintf(&b, "M%d,%dh%dv1h-%dz", x, y, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	b.WriteByte('\n')
	return b.Bytes()
}
