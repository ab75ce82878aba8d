package snippet

import (
	"errors"
	"strings"
	"testing"
)

// SizeBudgetMore is the budget of a site with messengers beyond WhatsApp
// and Telegram: their link forms cost about 300 bytes gzipped, paid only by
// the sites that configure them.
const SizeBudgetMore = 1800

// moreTargets are the demo site's other messengers, as the collector
// hands them over.
var moreTargets = map[string]string{
	"max:demo_shop_bot":   "start",
	"vk:demoshop":         "ref",
	"messenger:demoshop":  "ref",
	"instagram:demo.shop": "ref",
	"viber:demoshop":      "context",
	"line:demoshop":       "text",
}

func TestOtherMessengersCostOnlyTheSitesThatUseThem(t *testing.T) {
	b := newBuilder(t)
	for name, s := range variants() {
		plain, err := b.Render(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(plain.Body), "max.ru") {
			t.Errorf("%s: a site without other messengers downloads their link forms", name)
		}
		if s.DesktopQR {
			continue
		}
		s.More = moreTargets
		more, err := b.Render(s)
		if err != nil {
			t.Fatal(err)
		}
		body := string(more.Body)
		if !strings.Contains(body, "max.ru") || !strings.Contains(body, `"vk:demoshop":"ref"`) {
			t.Errorf("%s: the build with other messengers lacks their forms or targets", name)
		}
		size := gzipSize(t, more.Body)
		t.Logf("%s with other messengers: %d gzipped, %d more than without", name, size, size-gzipSize(t, plain.Body))
		budget := SizeBudgetMore
		if s.LinkExtras {
			budget += SizeBudgetExtras
		}
		if s.Analytics {
			budget += SizeBudgetAnalytics
		}
		if s.SendBack {
			budget += SizeBudgetSendBack
		}
		if size > budget {
			t.Errorf("%s: %d bytes gzipped, budget %d", name, size, budget)
		}
	}
}

func TestOtherMessengersTargetsAreChecked(t *testing.T) {
	b := newBuilder(t)
	for _, bad := range []map[string]string{
		{"vk:Demo Shop": "ref"},
		{"vk:demoshop": "text=1"},
		{"VK:demoshop": "ref"},
		{"vk:</script>": "ref"},
		{"demoshop": "ref"},
	} {
		s := demoSettings()
		s.More = bad
		if _, err := b.Render(s); !errors.Is(err, ErrSettings) {
			t.Errorf("%v: Render error %v, want ErrSettings", bad, err)
		}
	}
}
