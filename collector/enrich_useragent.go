package collector

import (
	"context"
	"strings"

	"github.com/mssola/useragent"
)

// prefetchStep drops hits that a browser makes ahead of a possible visit
// (link prefetch, prerender, link previews): counting them would invent
// visits nobody made. Browsers mark them with Sec-Purpose or Purpose
// ("prefetch", "prefetch;prerender"), X-Purpose ("preview") or X-Moz
// ("prefetch").
func prefetchStep(_ context.Context, _ *site, _ *Visit, h *hit) error {
	p := strings.ToLower(h.Purpose)
	switch {
	case p == "":
		return nil
	case strings.Contains(p, "prerender"):
		return drop("prerender")
	case strings.Contains(p, "prefetch"):
		return drop("prefetch")
	case strings.Contains(p, "preview"):
		return drop("preview")
	}
	return nil
}

// headlessMarkers are user-agent fragments of automated browsers that do
// not call themselves bots.
var headlessMarkers = []string{"headlesschrome", "phantomjs", "slimerjs", "electron/", "lighthouse", "puppeteer", "playwright", "selenium", "webdriver"}

// userAgentStep drops bots and headless browsers and fills OS, browser and
// device from the User-Agent header. A missing header is kept without those
// fields: privacy tools strip it, and a visit is still a visit.
func userAgentStep(_ context.Context, _ *site, v *Visit, h *hit) error {
	raw := h.UserAgent
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	// Every browser that runs the snippet sends "Mozilla/5.0 (…"; tools and
	// libraries (curl/8.5, python-requests/2.31) do not.
	if !strings.HasPrefix(raw, "Mozilla/") && !strings.HasPrefix(raw, "Opera/") {
		return drop("not-a-browser")
	}
	lower := strings.ToLower(raw)
	for _, m := range headlessMarkers {
		if strings.Contains(lower, m) {
			return drop("headless")
		}
	}
	ua := useragent.New(raw)
	if ua.Bot() {
		return drop("bot")
	}
	name, version := ua.Browser()
	if major, _, ok := strings.Cut(version, "."); ok {
		version = major
	}
	v.Browser = cleanShort(strings.TrimSpace(name + " " + version))
	v.OS = cleanShort(osName(ua.OSInfo(), lower))
	v.Device = deviceKind(ua, lower)
	return nil
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
