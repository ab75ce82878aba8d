package enrich

import (
	"strings"

	"github.com/messtrack/messtrack/collector/visit"
)

// RequestHit gathers what a request says about a visit: the client's
// address ip and the headers that header reads. The strings are copied, as
// an HTTP server may reuse their memory once its handler returns.
func RequestHit(ip string, header func(name string) string) *Hit {
	purpose := ""
	for _, h := range []string{"Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"} {
		if purpose = header(h); purpose != "" {
			break
		}
	}
	return &Hit{
		IP:        strings.Clone(ip),
		UserAgent: strings.Clone(header("User-Agent")),
		Purpose:   strings.Clone(purpose),
	}
}

// FirstLanguage is the first tag of an Accept-Language header, the
// browser's own language as navigator.language would give it.
func FirstLanguage(header string) string {
	tag, _, _ := strings.Cut(header, ",")
	tag, _, _ = strings.Cut(tag, ";")
	return visit.CleanShort(strings.TrimSpace(tag))
}
