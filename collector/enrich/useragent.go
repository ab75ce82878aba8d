package enrich

import (
	"strings"

	"github.com/mssola/useragent"

	"github.com/messtrack/messtrack/collector/visit"
)

// prefetchStep drops hits that a browser makes ahead of a possible visit
// (link prefetch, prerender, link previews): counting them would invent
// visits nobody made. Browsers mark them with Sec-Purpose or Purpose
// ("prefetch", "prefetch;prerender"), X-Purpose ("preview") or X-Moz
// ("prefetch").
func prefetchStep(_ *visit.Visit, h *Hit) error {
	p := strings.ToLower(h.Purpose)
	switch {
	case p == "":
		return nil
	case strings.Contains(p, "prerender"):
		return Drop("prerender")
	case strings.Contains(p, "prefetch"):
		return Drop("prefetch")
	case strings.Contains(p, "preview"):
		return Drop("preview")
	}
	return nil
}

// headlessMarkers are user-agent fragments of automated browsers that do
// not call themselves bots.
var headlessMarkers = []string{"headlesschrome", "phantomjs", "slimerjs", "electron/", "lighthouse", "puppeteer", "playwright", "selenium", "webdriver"}

// userAgentStep drops bots and headless browsers and fills OS, browser and
// device from the User-Agent header. A missing header is kept without those
// fields: privacy tools strip it, and a visit is still a visit.
func userAgentStep(v *visit.Visit, h *Hit) error {
	return parseUserAgent(h.UserAgent).apply(v)
}

// uaInfo is what a User-Agent header says about a visit: a reason to drop
// it, or the browser, OS and device to fill in.
type uaInfo struct {
	drop                string
	browser, os, device string
}

func (u uaInfo) apply(v *visit.Visit) error {
	switch {
	case u.drop != "":
		return Drop(u.drop)
	case u == uaInfo{}:
		// No header: the visit keeps whatever it has.
		return nil
	}
	v.Browser, v.OS, v.Device = u.browser, u.os, u.device
	return nil
}

// parseUserAgent reads a User-Agent header; its answer depends on the
// header alone, which is what lets uaStep cache it.
func parseUserAgent(raw string) uaInfo {
	if strings.TrimSpace(raw) == "" {
		return uaInfo{}
	}
	// Every browser that runs the snippet sends "Mozilla/5.0 (…"; tools and
	// libraries (curl/8.5, python-requests/2.31) do not.
	if !strings.HasPrefix(raw, "Mozilla/") && !strings.HasPrefix(raw, "Opera/") {
		return uaInfo{drop: "not-a-browser"}
	}
	lower := strings.ToLower(raw)
	for _, m := range headlessMarkers {
		if strings.Contains(lower, m) {
			return uaInfo{drop: "headless"}
		}
	}
	ua := useragent.New(raw)
	if ua.Bot() {
		return uaInfo{drop: "bot"}
	}
	name, version := ua.Browser()
	if major, _, ok := strings.Cut(version, "."); ok {
		version = major
	}
	return uaInfo{
		browser: visit.CleanShort(strings.TrimSpace(name + " " + version)),
		os:      visit.CleanShort(osName(ua.OSInfo(), lower)),
		device:  deviceKind(ua, lower),
	}
}

// Real traffic comes from a few thousand distinct browsers and versions, so
// the parsed headers of the recent ones are kept. Longer headers are parsed
// every time: browsers' are well under uaCacheKeyMax, and the bound keeps a
// flood of made-up headers from pinning much memory.
const (
	uaCacheSize   = 4096
	uaCacheKeyMax = 512
)

// uaStep is userAgentStep with a cache of parsed headers; the Server's
// pipeline owns it.
type uaStep struct {
	cache *boundedCache[string, uaInfo]
}

func newUAStep() *uaStep {
	return &uaStep{cache: newBoundedCache[string, uaInfo](uaCacheSize)}
}

func (s *uaStep) Enrich(v *visit.Visit, h *Hit) error {
	raw := h.UserAgent
	if len(raw) > uaCacheKeyMax {
		return parseUserAgent(raw).apply(v)
	}
	info, ok := s.cache.get(raw)
	if !ok {
		info = parseUserAgent(raw)
		s.cache.put(raw, info)
	}
	return info.apply(v)
}

// osNames turns the parser's OS names into the ones people use.
var osNames = map[string]string{"iPhone OS": "iOS", "Mac OS X": "macOS"}

// osName is the OS name and major version ("iOS 17", "Windows 10"); the
// minor versions only split reports into slivers.
func osName(info useragent.OSInfo, lower string) string {
	name := info.Name
	if n, ok := osNames[name]; ok {
		name = n
	}
	if name == "OS" && strings.Contains(lower, "ipad") {
		name = "iPadOS"
	}
	major, _, _ := strings.Cut(info.Version, ".")
	return strings.TrimSpace(name + " " + major)
}

// deviceKind is mobile, tablet or desktop. The parser knows mobiles; tablets
// are iPads and Android devices without "Mobile" in their user agent, as
// Android's own guidance for tablet user agents says.
func deviceKind(ua *useragent.UserAgent, lower string) string {
	switch {
	case strings.Contains(lower, "ipad") || strings.Contains(lower, "tablet") ||
		(strings.Contains(lower, "android") && !strings.Contains(lower, "mobile")):
		return "tablet"
	case ua.Mobile():
		return "mobile"
	}
	return "desktop"
}
