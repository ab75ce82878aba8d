package enrich

import (
	"errors"
	"strings"
	"testing"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// Real user agents of the browsers and bots the steps must tell apart.
const (
	uaChromeWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
	uaSafariIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
	uaChromeAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.144 Mobile Safari/537.36"
	uaAndroidTablet = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36"
	uaIPad          = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"
	uaFirefoxLinux  = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
	uaGooglebot     = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
	uaBingbot       = "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)"
	uaHeadless      = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36"
	uaCurl          = "curl/8.5.0"
)

// droppedReason returns the drop reason of err, or "" when err is no drop.
func droppedReason(err error) string {
	if reason, ok := DropReason(err); ok && errors.Is(err, ErrDropped) {
		return reason
	}
	return ""
}

func TestUTMStep(t *testing.T) {
	tests := []struct {
		name    string
		landing string
		preset  visit.Visit
		want    visit.Visit
	}{
		{name: "all tags and gclid", landing: "https://shop.test/?utm_source=google&utm_medium=cpc&utm_campaign=roses&utm_content=ad1&utm_term=red+roses&gclid=abc",
			want: visit.Visit{UTMSource: "google", UTMMedium: "cpc", UTMCampaign: "roses", UTMContent: "ad1", UTMTerm: "red roses", ClickIDKind: "gclid", ClickID: "abc"}},
		{name: "fbclid only", landing: "https://shop.test/p?fbclid=IwAR0xyz", want: visit.Visit{ClickIDKind: "fbclid", ClickID: "IwAR0xyz"}},
		{name: "gclid preferred over fbclid", landing: "https://shop.test/?fbclid=f&gclid=g", want: visit.Visit{ClickIDKind: "gclid", ClickID: "g"}},
		{name: "yclid", landing: "https://shop.test/?yclid=123", want: visit.Visit{ClickIDKind: "yclid", ClickID: "123"}},
		{name: "no query", landing: "https://shop.test/", want: visit.Visit{}},
		{name: "control characters removed", landing: "https://shop.test/?utm_source=a%0Ab%00c", want: visit.Visit{UTMSource: "abc"}},
		{name: "HTML kept as text", landing: "https://shop.test/?utm_campaign=%3Cb%3Ex%3C%2Fb%3E", want: visit.Visit{UTMCampaign: "<b>x</b>"}},
		{name: "long value clipped", landing: "https://shop.test/?utm_term=" + strings.Repeat("x", 300), want: visit.Visit{UTMTerm: strings.Repeat("x", visit.MaxShort)}},
		{name: "preset tags kept when the URL has none", landing: "https://shop.test/", preset: visit.Visit{UTMSource: "flyer"}, want: visit.Visit{UTMSource: "flyer"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.preset
			v.Landing = tt.landing
			if err := utmStep(&v, &Hit{}); err != nil {
				t.Fatal(err)
			}
			v.Landing = ""
			if v != tt.want {
				t.Fatalf("got %+v, want %+v", v, tt.want)
			}
		})
	}
}

func TestChannelStep(t *testing.T) {
	tests := []struct {
		name string
		v    visit.Visit
		want string
	}{
		{name: "gclid", v: visit.Visit{ClickIDKind: "gclid"}, want: reports.ChannelPaidSearch},
		{name: "yclid", v: visit.Visit{ClickIDKind: "yclid"}, want: reports.ChannelPaidSearch},
		{name: "msclkid", v: visit.Visit{ClickIDKind: "msclkid"}, want: reports.ChannelPaidSearch},
		{name: "fbclid", v: visit.Visit{ClickIDKind: "fbclid", Referrer: "https://l.facebook.com/"}, want: reports.ChannelPaidSocial},
		{name: "ttclid", v: visit.Visit{ClickIDKind: "ttclid"}, want: reports.ChannelPaidSocial},
		{name: "li_fat_id", v: visit.Visit{ClickIDKind: "li_fat_id"}, want: reports.ChannelPaidSocial},
		{name: "ysclid is organic", v: visit.Visit{ClickIDKind: "ysclid", Referrer: "https://yandex.ru/"}, want: reports.ChannelOrganicSearch},
		{name: "cpc from google", v: visit.Visit{UTMSource: "google", UTMMedium: "cpc"}, want: reports.ChannelPaidSearch},
		{name: "ppc", v: visit.Visit{UTMSource: "bing", UTMMedium: "PPC"}, want: reports.ChannelPaidSearch},
		{name: "cpc from facebook", v: visit.Visit{UTMSource: "facebook", UTMMedium: "cpc"}, want: reports.ChannelPaidSocial},
		{name: "paid_social medium", v: visit.Visit{UTMSource: "newsite", UTMMedium: "paid_social"}, want: reports.ChannelPaidSocial},
		{name: "cpm with social referrer", v: visit.Visit{UTMMedium: "cpm", Referrer: "https://www.instagram.com/"}, want: reports.ChannelPaidSocial},
		{name: "paid from whatsapp", v: visit.Visit{UTMSource: "whatsapp", UTMMedium: "paid"}, want: reports.ChannelMessengerAd},
		{name: "email medium", v: visit.Visit{UTMSource: "spring_news", UTMMedium: "email"}, want: reports.ChannelEmail},
		{name: "newsletter source", v: visit.Visit{UTMSource: "newsletter"}, want: reports.ChannelEmail},
		{name: "social medium", v: visit.Visit{UTMSource: "vk", UTMMedium: "social"}, want: reports.ChannelSocial},
		{name: "organic medium", v: visit.Visit{UTMMedium: "organic"}, want: reports.ChannelOrganicSearch},
		{name: "offline medium", v: visit.Visit{UTMSource: "flyer", UTMMedium: "print"}, want: reports.ChannelOffline},
		{name: "referral medium", v: visit.Visit{UTMMedium: "referral"}, want: reports.ChannelReferral},
		{name: "search source without medium", v: visit.Visit{UTMSource: "google"}, want: reports.ChannelOrganicSearch},
		{name: "social source domain", v: visit.Visit{UTMSource: "t.co"}, want: reports.ChannelSocial},
		{name: "google referrer", v: visit.Visit{Referrer: "https://www.google.co.uk/"}, want: reports.ChannelOrganicSearch},
		{name: "yandex referrer", v: visit.Visit{Referrer: "https://yandex.ru/search/?text=roses"}, want: reports.ChannelOrganicSearch},
		{name: "duckduckgo referrer", v: visit.Visit{Referrer: "https://duckduckgo.com/"}, want: reports.ChannelOrganicSearch},
		{name: "gmail is email, not search", v: visit.Visit{Referrer: "https://mail.google.com/mail/u/0/"}, want: reports.ChannelEmail},
		{name: "facebook referrer", v: visit.Visit{Referrer: "https://m.facebook.com/"}, want: reports.ChannelSocial},
		{name: "telegram referrer", v: visit.Visit{Referrer: "https://t.me/somechannel"}, want: reports.ChannelSocial},
		{name: "other site", v: visit.Visit{Referrer: "https://blog.example/roses", Landing: "https://shop.test/"}, want: reports.ChannelReferral},
		{name: "own site", v: visit.Visit{Referrer: "https://shop.test/cart", Landing: "https://www.shop.test/"}, want: reports.ChannelDirect},
		{name: "look-alike host is referral", v: visit.Visit{Referrer: "https://notgoogle.example/"}, want: reports.ChannelReferral},
		{name: "nothing", v: visit.Visit{}, want: reports.ChannelDirect},
		{name: "unknown medium falls to the referrer", v: visit.Visit{UTMMedium: "spring", Referrer: "https://www.bing.com/"}, want: reports.ChannelOrganicSearch},
		{name: "preset channel stays", v: visit.Visit{Channel: reports.ChannelOffline, Referrer: "https://www.google.com/"}, want: reports.ChannelOffline},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := tt.v
			if err := channelStep(&v, &Hit{}); err != nil {
				t.Fatal(err)
			}
			if v.Channel != tt.want {
				t.Fatalf("channel = %q, want %q", v.Channel, tt.want)
			}
		})
	}
}

func TestUserAgentStep(t *testing.T) {
	tests := []struct {
		name    string
		ua      string
		want    visit.Visit
		dropped string
	}{
		{name: "Chrome on Windows", ua: uaChromeWindows, want: visit.Visit{Browser: "Chrome 120", OS: "Windows 10", Device: "desktop"}},
		{name: "Safari on iPhone", ua: uaSafariIPhone, want: visit.Visit{Browser: "Safari 17", OS: "iOS 17", Device: "mobile"}},
		{name: "Chrome on Android phone", ua: uaChromeAndroid, want: visit.Visit{Browser: "Chrome 120", OS: "Android 14", Device: "mobile"}},
		{name: "Android tablet", ua: uaAndroidTablet, want: visit.Visit{Browser: "Chrome 119", OS: "Android 13", Device: "tablet"}},
		{name: "iPad", ua: uaIPad, want: visit.Visit{Browser: "Safari 16", OS: "iPadOS 16", Device: "tablet"}},
		{name: "Firefox on Linux", ua: uaFirefoxLinux, want: visit.Visit{Browser: "Firefox 121", OS: "Linux", Device: "desktop"}},
		{name: "Safari on a Mac", ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", want: visit.Visit{Browser: "Safari 17", OS: "macOS 10", Device: "desktop"}},
		{name: "no user agent kept", ua: "", want: visit.Visit{}},
		{name: "Googlebot", ua: uaGooglebot, dropped: "bot"},
		{name: "bingbot", ua: uaBingbot, dropped: "bot"},
		{name: "curl", ua: uaCurl, dropped: "not-a-browser"},
		{name: "script library", ua: "python-requests/2.31.0", dropped: "not-a-browser"},
		{name: "headless Chrome", ua: uaHeadless, dropped: "headless"},
		{name: "PhantomJS", ua: "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1", dropped: "headless"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v visit.Visit
			err := userAgentStep(&v, &Hit{UserAgent: tt.ua})
			if got := droppedReason(err); got != tt.dropped {
				t.Fatalf("dropped = %q (err %v), want %q", got, err, tt.dropped)
			}
			if tt.dropped == "" && v != tt.want {
				t.Fatalf("got %+v, want %+v", v, tt.want)
			}
		})
	}
}

func TestPrefetchStep(t *testing.T) {
	tests := []struct {
		name, purpose, dropped string
	}{
		{name: "a real visit", purpose: "", dropped: ""},
		{name: "Sec-Purpose prefetch", purpose: "prefetch", dropped: "prefetch"},
		{name: "prerender", purpose: "prefetch;prerender", dropped: "prerender"},
		{name: "older Purpose header", purpose: "Prefetch", dropped: "prefetch"},
		{name: "link preview", purpose: "preview", dropped: "preview"},
		{name: "unknown purpose kept", purpose: "something", dropped: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := prefetchStep(&visit.Visit{}, &Hit{Purpose: tt.purpose})
			if got := droppedReason(err); got != tt.dropped || (tt.dropped == "" && err != nil) {
				t.Fatalf("dropped = %q (err %v), want %q", got, err, tt.dropped)
			}
		})
	}
}

func TestIPStep(t *testing.T) {
	tests := []struct {
		name     string
		ip       string
		truncate bool
		want     string
	}{
		{name: "IPv4 kept", ip: "81.2.69.160", want: "81.2.69.160"},
		{name: "IPv4 truncated to /24", ip: "81.2.69.160", truncate: true, want: "81.2.69.0"},
		{name: "IPv6 truncated to /48", ip: "2a02:6b8:1234:5678::feed", truncate: true, want: "2a02:6b8:1234::"},
		{name: "IPv4-mapped IPv6 unmapped", ip: "::ffff:81.2.69.160", truncate: true, want: "81.2.69.0"},
		{name: "not an address", ip: "nonsense", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v visit.Visit
			if err := (ipStep{truncate: tt.truncate}).Enrich(&v, &Hit{IP: tt.ip}); err != nil {
				t.Fatal(err)
			}
			if v.IP != tt.want {
				t.Fatalf("IP = %q, want %q", v.IP, tt.want)
			}
		})
	}
}
