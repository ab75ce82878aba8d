package visit

import (
	"net/url"
	"slices"
	"strings"
)

// MaxShort bounds a short free-form field of a visit (a UTM tag, a click ID).
const MaxShort = 128

// MaxURL bounds a visit's URLs (page, landing page, referrer) as a client
// may send them.
const MaxURL = 2048

// cleanShort bounds a short free-form field and drops control characters.
func CleanShort(s string) string {
	if len(s) > MaxShort {
		s = s[:MaxShort]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// clickIDKinds are the ad click ID parameters, in order of preference when a
// landing URL carries several.
var ClickIDKinds = []string{"gclid", "gbraid", "wbraid", "dclid", "fbclid", "yclid", "ysclid", "msclkid", "ttclid", "twclid", "li_fat_id", "epik", "sccid", "rdt_cid", "vkclid"}

// readLandingTags sets the UTM and click ID fields that v.Landing carries,
// leaving the others as they are (a QR visit may set its own). The stored
// visit leaves these out when they equal what the URL alone gives (see
// Encode), so what it reads must stay a pure function of the URL.
func ReadLandingTags(v *Visit) {
	u, err := url.Parse(v.Landing)
	if err != nil || u.RawQuery == "" {
		return
	}
	q := readQuery(u.RawQuery)
	for _, f := range []struct {
		param string
		field *string
	}{
		{param: "utm_source", field: &v.UTMSource},
		{param: "utm_medium", field: &v.UTMMedium},
		{param: "utm_campaign", field: &v.UTMCampaign},
		{param: "utm_content", field: &v.UTMContent},
		{param: "utm_term", field: &v.UTMTerm},
	} {
		if val := CleanShort(q.Get(f.param)); val != "" {
			*f.field = val
		}
	}
	for _, k := range ClickIDKinds {
		if id := CleanShort(q.Get(k)); id != "" {
			v.ClickIDKind, v.ClickID = k, id
			break
		}
	}
}

// landingParams are the query parameters a landing URL's tags come from:
// the UTM tags, then ClickIDKinds.
var landingParams = append([]string{"utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term"}, ClickIDKinds...)

// landingQuery is the first value of each of landingParams in a query,
// in their order.
type landingQuery []struct {
	val string
	set bool
}

// readQuery reads landingParams from a raw query as url.ParseQuery and
// Values.Get read them (a pair holding a semicolon, or whose key or value
// does not unescape, is skipped; a key's first value counts), without
// building the map of every parameter.
func readQuery(raw string) landingQuery {
	q := make(landingQuery, len(landingParams))
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue
		}
		key, value, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(key)
		if err != nil {
			continue
		}
		i := slices.Index(landingParams, key)
		if i < 0 || q[i].set {
			continue
		}
		if value, err = url.QueryUnescape(value); err != nil {
			continue
		}
		q[i].val, q[i].set = value, true
	}
	return q
}

// Get is the first value of param, one of landingParams, or "".
func (q landingQuery) Get(param string) string {
	if i := slices.Index(landingParams, param); i >= 0 {
		return q[i].val
	}
	return ""
}
