package intake

import (
	"encoding/json"
	"testing"
)

func TestVisitRequestDecodeFast(t *testing.T) {
	tests := []struct {
		name string
		body string
		fast bool // the fast path takes it; otherwise encoding/json does
		want visitRequest
	}{
		{name: "the snippet's body", fast: true,
			body: `{"site":"demo","url":"https://shop.test/?utm_source=a","landing":"https://shop.test/","referrer":"","screen":"1920x1080","lang":"en-GB","tz":"Europe/London","visitor":"k3J9"}`,
			want: visitRequest{Site: "demo", URL: "https://shop.test/?utm_source=a", Landing: "https://shop.test/", Screen: "1920x1080", Lang: "en-GB", TZ: "Europe/London", Visitor: "k3J9"}},
		{name: "whitespace", body: " {\n\t\"site\" : \"demo\" ,\r\n \"url\":\"https://a.test/\" } \n", fast: true, want: visitRequest{Site: "demo", URL: "https://a.test/"}},
		{name: "empty object", body: `{}`, fast: true},
		{name: "duplicate key, last wins", body: `{"site":"a","site":"b"}`, fast: true, want: visitRequest{Site: "b"}},
		{name: "non-ASCII", body: `{"site":"demo","lang":"ру-RU 😀"}`, fast: true, want: visitRequest{Site: "demo", Lang: "ру-RU 😀"}},
		{name: "markup kept as text", body: `{"site":"<script>alert(1)</script>","screen":"=1+1"}`, fast: true, want: visitRequest{Site: "<script>alert(1)</script>", Screen: "=1+1"}},
		{name: "escapes", body: `{"site":"de\u006do","url":"a\"b"}`, fast: true, want: visitRequest{Site: "demo", URL: `a"b`}},
		{name: "escapes json.Marshal writes", body: `{"url":"https://a.test/?a=1\u0026b=\u003cc\u003e","lang":"\u2028\t\/"}`, fast: true,
			want: visitRequest{URL: "https://a.test/?a=1&b=<c>", Lang: "\u2028\t/"}},
		{name: "a surrogate pair", body: `{"site":"\ud83d\ude00","tz":"\u00e9"}`, fast: true, want: visitRequest{Site: "😀", TZ: "é"}},
		{name: "an escaped key", body: `{"sit\u0065":"demo"}`, fast: true, want: visitRequest{Site: "demo"}},
		{name: "a lone surrogate", body: `{"site":"a\ud83db"}`, want: visitRequest{Site: "a\ufffdb"}},
		{name: "a reversed pair", body: `{"site":"\ude00\ud83d"}`, want: visitRequest{Site: "\ufffd\ufffd"}},
		{name: "an unknown escape", body: `{"site":"a\xb"}`},
		{name: "a short \\u", body: `{"site":"a\u12"}`},
		{name: "upper-case key", body: `{"SITE":"demo"}`, want: visitRequest{Site: "demo"}},
		{name: "unknown key", body: `{"site":"demo","extra":[1,2]}`, want: visitRequest{Site: "demo"}},
		{name: "null", body: `{"site":null,"url":"u"}`, want: visitRequest{URL: "u"}},
		{name: "invalid UTF-8", body: "{\"site\":\"d\xffo\"}", want: visitRequest{Site: "d\ufffdo"}},
		{name: "raw control character", body: "{\"site\":\"d\x01o\"}"},
		{name: "number", body: `{"site":1}`},
		{name: "trailing comma", body: `{"site":"demo",}`},
		{name: "two objects", body: `{"site":"a"}{"site":"b"}`},
		{name: "unterminated", body: `{"site":"demo`},
		{name: "array", body: `["site"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fast visitRequest
			if got := fast.decodeFast([]byte(tt.body)); got != tt.fast {
				t.Fatalf("decodeFast = %v, want %v", got, tt.fast)
			}
			if tt.fast && fast != tt.want {
				t.Fatalf("decodeFast: %+v, want %+v", fast, tt.want)
			}
			var std visitRequest
			err := json.Unmarshal([]byte(tt.body), &std)
			if tt.fast && err != nil {
				t.Fatalf("the fast path took a body encoding/json refuses: %v", err)
			}
			if err == nil && std != tt.want {
				t.Fatalf("encoding/json: %+v, want %+v", std, tt.want)
			}
		})
	}
}

// FuzzVisitRequestDecodeFast checks that whatever the fast path takes,
// encoding/json takes too, with the same result.
func FuzzVisitRequestDecodeFast(f *testing.F) {
	for _, s := range []string{
		`{"site":"demo","url":"https://shop.test/","tz":"Europe/London"}`,
		`{}`, ` { "lang" : "ру" } `, `{"site":"a","site":"b"}`, `{"site":"a\u0062"}`, `{"Site":"a"}`,
		`{"site":null}`, "{\"site\":\"\xff\"}", `{"site":"a",}`,
		`{"url":"a\u0026b","lang":"\ud83d\ude00\n"}`, `{"site":"\ud800"}`, `{"si\u0074e":"x\\y"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var fast visitRequest
		if !fast.decodeFast(body) {
			if fast != (visitRequest{}) {
				t.Fatalf("decodeFast declined but changed the request: %+v", fast)
			}
			return
		}
		var std visitRequest
		if err := json.Unmarshal(body, &std); err != nil {
			t.Fatalf("decodeFast took %q, which encoding/json refuses: %v", body, err)
		}
		if fast != std {
			t.Fatalf("%q: decodeFast %+v, encoding/json %+v", body, fast, std)
		}
	})
}

// FuzzVisitAnswerJSON: the visit answer is written byte for byte as
// encoding/json writes it.
func FuzzVisitAnswerJSON(f *testing.F) {
	f.Add("Hello! My request code: #K7Q2M9\n", "#K7Q2M9", int64(1793000000000))
	f.Add("<b>&\"\\\x01\x7f\b\f\t\r \u2028\u2029 \xff\xfe ру 😀", "", int64(-1))
	f.Fuzz(func(t *testing.T, text, code string, until int64) {
		r := VisitResponse{Visit: "A1B2C3D", Code: code, Text: text, Visitor: text + code, Start: code, Expires: "2027-02-07T09:00:00Z", Until: until}
		want, err := json.Marshal(&r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.appendJSON(nil); string(got) != string(want) {
			t.Fatalf("appendJSON %s, encoding/json %s", got, want)
		}
	})
}
