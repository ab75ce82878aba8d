package collector

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
)

// qrConfigYAML is the shared test world plus a source for each kind of chat
// a scan can open: a Telegram bot, a Telegram user, and a source with no
// chat of its own that falls back to the site's first number.
var qrConfigYAML = strings.Replace(testConfigYAML, "    sources:\n", `    sources:
      desk: {channel: offline, bot: demo_bot, title: "Front desk card"}
      window: {channel: shop_window, user: demo_manager}
      poster: {channel: offline}
`, 1)

// decodeQR reads the text of the QR code in img with a QR reader library.
//
// The reader's finder-pattern detector, made for camera pictures, misplaces
// the symbol of a few perfectly clean images (one code at 164 and 512 pixels
// failed while the same symbol read at 300 and 1000, and zbarimg read all of
// them); its pure-barcode mode reads an upright, unskewed symbol as drawn,
// which is what these images are, so it is the second try.
func decodeQR(t testing.TB, img image.Image) string {
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

// decodePNG decodes a PNG QR image and checks its size.
func decodePNG(t testing.TB, b []byte, wantSize int) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("png: %v", err)
	}
	if r := img.Bounds(); wantSize > 0 && (r.Dx() != wantSize || r.Dy() != wantSize) {
		t.Fatalf("png is %dx%d, want %dx%d", r.Dx(), r.Dy(), wantSize, wantSize)
	}
	return decodeQR(t, img)
}

var (
	svgViewBoxRE = regexp.MustCompile(`viewBox="0 0 (\d+) (\d+)"`)
	svgSizeRE    = regexp.MustCompile(`<svg [^>]*width="(\d+)" height="(\d+)"`)
	svgPathRE    = regexp.MustCompile(`<path fill="#000" d="([^"]*)"/>`)
	svgRunRE     = regexp.MustCompile(`M(\d+),(\d+)h(\d+)v1h-(\d+)z`)
)

// quietZone is the blank margin, in modules, the QR standard asks for.
const quietZone = 4

// rasterSVG draws the rectangles of the SVG's one path into a grey image,
// px pixels per module, after checking the SVG's shape: a square viewBox,
// crisp edges, one path made only of module runs, and a blank quiet zone.
func rasterSVG(t testing.TB, b []byte, wantSize int) image.Image {
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
		if x < quietZone || y < quietZone || x+w > modules-quietZone || y >= modules-quietZone {
			t.Fatalf("run %q enters the %d-module quiet zone of a %d-module code", r[0], quietZone, modules)
		}
		draw.Draw(img, image.Rect(x*px, y*px, (x+w)*px, (y+1)*px), black, image.Point{}, draw.Src)
	}
	return img
}

// decodeSVG rasterises and decodes an SVG QR image.
func decodeSVG(t testing.TB, b []byte, wantSize int) string {
	t.Helper()
	return decodeQR(t, rasterSVG(t, b, wantSize))
}

// decodeImage decodes a QR image of either format.
func decodeImage(t testing.TB, format string, b []byte, wantSize int) string {
	t.Helper()
	if format == "svg" {
		return decodeSVG(t, b, wantSize)
	}
	return decodePNG(t, b, wantSize)
}

// linkVisit finds the visit number a chat link carries, the way the matcher
// will: the start parameter of a bot link, else the code in the text.
func linkVisit(t testing.TB, st *site, link string) uint64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("chat link %q: %v", link, err)
	}
	q := u.Query()
	if u.Host == "t.me" && q.Has("start") {
		n, err := st.codec.ParseStart(q.Get("start"))
		if err != nil {
			t.Fatalf("start payload of %q: %v", link, err)
		}
		return n
	}
	found := st.codec.Find(q.Get("text"))
	if len(found) != 1 {
		t.Fatalf("text of %q holds %d codes, want 1", link, len(found))
	}
	return found[0].N
}
