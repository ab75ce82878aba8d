// Package qrtest reads QR images back for tests: a PNG decoded, an SVG
// checked for its shape and rasterised, either read with a QR reader
// library.
package qrtest

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// Decode reads the text of the QR code in img with a QR reader library.
//
// The reader's finder-pattern detector, made for camera pictures, misplaces
// the symbol of a few perfectly clean images (one code at 164 and 512 pixels
// failed while the same symbol read at 300 and 1000, and zbarimg read all of
// them); its pure-barcode mode reads an upright, unskewed symbol as drawn,
// which is what these images are, so it is the second try.
func Decode(t testing.TB, img image.Image) string {
	t.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatalf("binary bitmap: %v", err)
	}
	res, err := zxqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		pure, perr := zxqr.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]interface{}{gozxing.DecodeHintType_PURE_BARCODE: true})
		if perr != nil {
			t.Fatalf("decode QR: %v; as a pure barcode: %v", err, perr)
		}
		t.Logf("read as a pure barcode after the detector failed: %v", err)
		res = pure
	}
	return res.GetText()
}

// DecodePNG decodes a PNG QR image and checks its size (when wantSize > 0).
func DecodePNG(t testing.TB, b []byte, wantSize int) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png: %v", err)
	}
	if r := img.Bounds(); wantSize > 0 && (r.Dx() != wantSize || r.Dy() != wantSize) {
		t.Fatalf("png is %dx%d, want %dx%d", r.Dx(), r.Dy(), wantSize, wantSize)
	}
	return Decode(t, img)
}

var (
	svgViewBoxRE = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	svgSizeRE    = regexp.MustCompile(`<svg [^>]*width="(\d+)" height="(\d+)"`)
	svgPathRE    = regexp.MustCompile(`<path fill="#000" d="([^"]*)"/>`)
	svgRunRE     = regexp.MustCompile(`M(\d+),(\d+)h(\d+)v1h-(\d+)z`)
)

// QuietZone is the blank margin, in modules, the QR standard asks for.
const QuietZone = 4

// SVGModules is the width in modules of an SVG QR image, read from its
// viewBox; ok is false when it has none.
func SVGModules(b []byte) (n int, ok bool) {
	vb := svgViewBoxRE.FindSubmatch(b)
	if vb == nil {
		return 0, false
	}
	n, err := strconv.Atoi(string(vb[1]))
	return n, err == nil
}

// RasterSVG draws the rectangles of the SVG's one path into a grey image,
// 4 pixels per module, after checking the SVG's shape: a square viewBox,
// crisp edges, one path made only of module runs, and a blank quiet zone.
func RasterSVG(t testing.TB, b []byte, wantSize int) image.Image {
	t.Helper()
	doc := string(b)
	if !strings.HasPrefix(doc, `<svg xmlns="http://www.w3.org/2000/svg"`) || !strings.Contains(doc, `shape-rendering="crispEdges"`) {
		t.Fatalf("not a crisp-edged SVG: %.200s", doc)
	}
	if n := strings.Count(doc, "<path"); n != 1 {
		t.Fatalf("SVG has %d paths, want 1", n)
	}
	vb := svgViewBoxRE.FindStringSubmatch(doc)
	if vb == nil || vb[1] != vb[2] {
		t.Fatalf("SVG has no square viewBox: %.200s", doc)
	}
	modules, _ := strconv.Atoi(vb[1])
	if sz := svgSizeRE.FindStringSubmatch(doc); sz == nil || sz[1] != strconv.Itoa(wantSize) || sz[2] != sz[1] {
		t.Fatalf("SVG size %v, want %d", sz, wantSize)
	}
	d := svgPathRE.FindStringSubmatch(doc)
	if d == nil {
		t.Fatalf("SVG has no module path: %.200s", doc)
	}
	runs := svgRunRE.FindAllStringSubmatch(d[1], -1)
	consumed := 0
	for _, r := range runs {
		consumed += len(r[0])
	}
	if consumed != len(d[1]) || len(runs) == 0 {
		t.Fatalf("path holds %d bytes that are not module runs", len(d[1])-consumed)
	}
	const px = 4
	img := image.NewGray(image.Rect(0, 0, modules*px, modules*px))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.Gray{Y: 255}), image.Point{}, draw.Src)
	black := image.NewUniform(color.Gray{Y: 0})
	for _, r := range runs {
		x, _ := strconv.Atoi(r[1])
		y, _ := strconv.Atoi(r[2])
		w, _ := strconv.Atoi(r[3])
		back, _ := strconv.Atoi(r[4])
		if back != w {
			t.Fatalf("run %q does not close on itself", r[0])
		}
		if x < QuietZone || y < QuietZone || x+w > modules-QuietZone || y >= modules-QuietZone {
			t.Fatalf("run %q enters the %d-module quiet zone of a %d-module code", r[0], QuietZone, modules)
		}
		draw.Draw(img, image.Rect(x*px, y*px, (x+w)*px, (y+1)*px), black, image.Point{}, draw.Src)
	}
	return img
}

// DecodeSVG rasterises and decodes an SVG QR image.
func DecodeSVG(t testing.TB, b []byte, wantSize int) string {
	t.Helper()
	return Decode(t, RasterSVG(t, b, wantSize))
}

// DecodeImage decodes a QR image of either format.
func DecodeImage(t testing.TB, format string, b []byte, wantSize int) string {
	t.Helper()
	if format == "svg" {
		return DecodeSVG(t, b, wantSize)
	}
	return DecodePNG(t, b, wantSize)
}
