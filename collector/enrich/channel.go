package enrich

import (
	"net/url"
	"strings"

	"github.com/messtrack/messtrack/collector/visit"
	"github.com/messtrack/messtrack/reports"
)

// channelStep classifies the visit's traffic channel. The first rule that
// applies wins:
//
//  1. A channel already set (an offline source's QR scan) stays.
//  2. An ad click ID: gclid, gbraid, wbraid, dclid, yclid, msclkid →
//     paid_search; fbclid, ttclid, twclid, li_fat_id, epik, sccid, rdt_cid,
//     vkclid → paid_social; ysclid (the search engine's organic result
//     marker) → organic_search.
//  3. A paid utm_medium (cpc, ppc, cpm, cpv, cpa, cpp, display, banner,
//     retargeting, paid*, "…_ads"): messenger_ad when utm_source or the
//     referrer is a messenger, paid_social when it is a social network or
//     the medium says social (paid_social, paidsocial), else paid_search.
//  4. utm_medium email, e-mail, newsletter, or utm_source email → email;
//     social, social-network, social-media, sm, smm → social;
//     organic → organic_search; referral → referral; offline, print, qr,
//     flyer, tv, radio, outdoor → offline.
//  5. utm_source naming a search engine → organic_search, a social network
//     or messenger → social.
//  6. The referrer's host: a web mail → email, a search engine →
//     organic_search, a social network or messenger → social, the landing
//     page's own host → direct (a reload or an internal hop), any other →
//     referral.
//  7. Nothing at all → direct.
//
// Hosts match on a whole domain and its subdomains ("facebook.com" matches
// "l.facebook.com"); a brand ending in "." matches that brand under any
// suffix ("google." matches "www.google.co.uk").
func channelStep(v *visit.Visit, _ *Hit) error {
	if v.Channel == "" {
		v.Channel = classifyChannel(v)
	}
	return nil
}

// searchEngines are the referrers and utm_source values of organic search.
var searchEngines = []string{
	"google.", "bing.com", "yahoo.", "yandex.", "ya.ru", "duckduckgo.com", "baidu.com",
	"ecosia.org", "search.brave.com", "ask.com", "naver.com", "seznam.cz", "qwant.com",
	"startpage.com", "go.mail.ru", "sogou.com", "so.com", "aol.com", "yahoo.co.jp",
}

// socialNetworks are the referrers and utm_source values of social traffic.
var socialNetworks = []string{
	"facebook.com", "fb.com", "fb.me", "instagram.com", "threads.net", "twitter.com", "x.com", "t.co",
	"linkedin.com", "lnkd.in", "vk.com", "vk.ru", "ok.ru", "tiktok.com", "pinterest.",
	"reddit.com", "youtube.com", "youtu.be", "snapchat.com", "tumblr.com", "quora.com",
	"dzen.ru", "zen.yandex.ru", "weibo.com", "discord.com",
}

// messengers are the chat apps' own hosts: a visit from a shared link there
// is social, a paid one a messenger ad.
var messengers = []string{
	"whatsapp.com", "wa.me", "t.me", "telegram.me", "telegram.org", "messenger.com",
	"viber.com", "line.me",
}

// webMail hosts send email traffic even without UTM tags.
var webMail = []string{
	"mail.google.com", "outlook.live.com", "outlook.office.com", "outlook.office365.com",
	"mail.yahoo.com", "mail.yandex.ru", "mail.yandex.com", "e.mail.ru", "mail.proton.me",
}

// sourceNames are utm_source spellings that name a network without a domain.
var sourceNames = map[string]string{
	"google": reports.ChannelOrganicSearch, "bing": reports.ChannelOrganicSearch, "yandex": reports.ChannelOrganicSearch,
	"yahoo": reports.ChannelOrganicSearch, "duckduckgo": reports.ChannelOrganicSearch, "baidu": reports.ChannelOrganicSearch,
	"facebook": reports.ChannelSocial, "fb": reports.ChannelSocial, "instagram": reports.ChannelSocial, "ig": reports.ChannelSocial,
	"meta": reports.ChannelSocial, "twitter": reports.ChannelSocial, "x": reports.ChannelSocial, "linkedin": reports.ChannelSocial,
	"vk": reports.ChannelSocial, "vkontakte": reports.ChannelSocial, "ok": reports.ChannelSocial, "tiktok": reports.ChannelSocial,
	"pinterest": reports.ChannelSocial, "reddit": reports.ChannelSocial, "youtube": reports.ChannelSocial, "threads": reports.ChannelSocial,
	"snapchat": reports.ChannelSocial, "dzen": reports.ChannelSocial,
	"whatsapp": reports.ChannelMessengerAd, "telegram": reports.ChannelMessengerAd, "messenger": reports.ChannelMessengerAd,
	"viber": reports.ChannelMessengerAd,
}

var (
	paidSearchClickIDs = map[string]bool{"gclid": true, "gbraid": true, "wbraid": true, "dclid": true, "yclid": true, "msclkid": true}
	paidSocialClickIDs = map[string]bool{"fbclid": true, "ttclid": true, "twclid": true, "li_fat_id": true, "epik": true, "sccid": true, "rdt_cid": true, "vkclid": true}
)

// classifyChannel applies the rules of channelStep.
func classifyChannel(v *visit.Visit) string {
	switch {
	case paidSearchClickIDs[v.ClickIDKind]:
		return reports.ChannelPaidSearch
	case paidSocialClickIDs[v.ClickIDKind]:
		return reports.ChannelPaidSocial
	case v.ClickIDKind == "ysclid":
		return reports.ChannelOrganicSearch
	}
	medium := strings.ToLower(strings.TrimSpace(v.UTMMedium))
	source := strings.ToLower(strings.TrimSpace(v.UTMSource))
	refHost := hostOf(v.Referrer)
	srcKind := sourceKind(source)
	refKind := hostKind(refHost)
	if paidMedium(medium) {
		switch {
		case srcKind == reports.ChannelMessengerAd || refKind == reports.ChannelMessengerAd:
			return reports.ChannelMessengerAd
		case srcKind == reports.ChannelSocial || refKind == reports.ChannelSocial || strings.Contains(medium, "social"):
			return reports.ChannelPaidSocial
		default:
			return reports.ChannelPaidSearch
		}
	}
	switch medium {
	case "email", "e-mail", "e_mail", "newsletter", "mail":
		return reports.ChannelEmail
	case "social", "social-network", "social_network", "social-media", "social_media", "sm", "smm":
		return reports.ChannelSocial
	case "organic":
		return reports.ChannelOrganicSearch
	case "referral":
		return reports.ChannelReferral
	case "offline", "print", "qr", "flyer", "tv", "radio", "outdoor":
		return reports.ChannelOffline
	}
	if source == "email" || source == "newsletter" {
		return reports.ChannelEmail
	}
	switch srcKind {
	case reports.ChannelOrganicSearch:
		return reports.ChannelOrganicSearch
	case reports.ChannelSocial, reports.ChannelMessengerAd:
		return reports.ChannelSocial
	}
	switch {
	case refHost == "":
		return reports.ChannelDirect
	case refKind == reports.ChannelEmail:
		return reports.ChannelEmail
	case refKind == reports.ChannelOrganicSearch:
		return reports.ChannelOrganicSearch
	case refKind == reports.ChannelSocial || refKind == reports.ChannelMessengerAd:
		return reports.ChannelSocial
	case refHost == hostOf(v.Landing):
		return reports.ChannelDirect
	}
	return reports.ChannelReferral
}

// paidMedium tells whether a utm_medium marks paid traffic.
func paidMedium(m string) bool {
	switch m {
	case "cpc", "ppc", "cpm", "cpv", "cpa", "cpp", "display", "banner", "retargeting", "remarketing":
		return true
	}
	return strings.HasPrefix(m, "paid") || strings.HasSuffix(m, "_ads") || strings.HasSuffix(m, "-ads")
}

// sourceKind classifies a utm_source: a bare name ("google") or a domain.
func sourceKind(source string) string {
	if source == "" {
		return ""
	}
	if k, ok := sourceNames[source]; ok {
		return k
	}
	return hostKind(source)
}

// hostKind classifies a host by the lists above; "" when it is none of them.
// Web mail is checked first: mail.google.com is not a search.
func hostKind(host string) string {
	switch {
	case host == "":
		return ""
	case hostIn(host, webMail):
		return reports.ChannelEmail
	case hostIn(host, messengers):
		return reports.ChannelMessengerAd
	case hostIn(host, socialNetworks):
		return reports.ChannelSocial
	case hostIn(host, searchEngines):
		return reports.ChannelOrganicSearch
	}
	return ""
}

// hostIn matches host against domains ("facebook.com" and its subdomains)
// and brands ("google." under any suffix).
func hostIn(host string, list []string) bool {
	for _, d := range list {
		if brand, ok := strings.CutSuffix(d, "."); ok {
			if strings.HasPrefix(host, brand+".") || strings.Contains(host, "."+brand+".") {
				return true
			}
			continue
		}
		if host == d || strings.HasSuffix(host, "."+d) {
			return true
		}
	}
	return false
}

// hostOf returns the lower-case host of a URL without "www." and port.
func hostOf(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}
