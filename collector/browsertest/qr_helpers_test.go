package browsertest

import (
	"image"
	"net/url"
	"testing"

	"github.com/makiuchi-d/gozxing"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"

	"github.com/messtrack/messtrack/ids"
)

// decodeQR reads the text of the QR code in img with a QR reader library.
//
// The reader's finder-pattern detector, made for camera pictures, misplaces
// the symbol of a few perfectly clean images; its pure-barcode mode reads an
// upright, unskewed symbol as drawn, which is what these images are, so it
// is the second try.
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

// linkVisit finds the visit number a chat link carries, the way the matcher
// will: the start parameter of a bot link, else the code in the text.
func linkVisit(t testing.TB, codec *ids.Codec, link string) uint64 {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("chat link %q: %v", link, err)
	}
	q := u.Query()
	if u.Host == "t.me" && q.Has("start") {
		n, err := codec.ParseStart(q.Get("start"))
		if err != nil {
			t.Fatalf("start payload of %q: %v", link, err)
		}
		return n
	}
	found := codec.Find(q.Get("text"))
	if len(found) != 1 {
		t.Fatalf("text of %q holds %d codes, want 1", link, len(found))
	}
	return found[0].N
}
