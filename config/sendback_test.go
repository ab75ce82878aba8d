package config_test

import (
	"strings"
	"testing"

	"github.com/messtrack/messtrack/config"
)

func TestSendBackConfig(t *testing.T) {
	cfg, err := config.Parse("m.yaml", []byte(`
sites:
  demo:
    api_key: demo-key-1
    whatsapp_api: {token: t0ken, phone_number_id: "106540352242922"}
    sendback:
      template: callback_code
      language: en_US
      limits: {per_ip_hour: 3, per_site_hour: -1}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	sb := cfg.Site("demo").SendBack
	want := config.SendBackLimits{PerVisit: config.DefaultSendBackPerVisit, PerIPHour: 3,
		PerNumberDay: config.DefaultSendBackPerNumberDay, PerSiteHour: -1}
	if sb == nil || sb.Limits != want || sb.Category != "marketing" || sb.Consent != config.DefaultSendBackConsent {
		t.Fatalf("sendback %+v", sb)
	}
}

func TestSendBackConfigErrors(t *testing.T) {
	for _, tc := range []struct{ body, want string }{
		{"sendback: {template: t, language: en}", "sites.demo.sendback: needs whatsapp_api"},
		{"whatsapp_api: {token: x, phone_number_id: '1'}\n    sendback: {template: 'Bad Name', language: en}", "sendback.template"},
		{"whatsapp_api: {token: x, phone_number_id: '1'}\n    sendback: {template: t, language: english}", "sendback.language"},
		{"whatsapp_api: {token: x, phone_number_id: '1'}\n    sendback: {template: t, language: en, consent: '<b>yes</b>'}", "sendback.consent"},
		{"whatsapp_api: {token: x, phone_number_id: '1'}\n    sendback: {template: t, language: en, limits: {per_number_day: -1}}", "sendback.limits.per_number_day"},
		{"whatsapp_api: {token: x, phone_number_id: '1'}\n    sendback: {template: t, language: en, limits: {per_ip_hour: -5}}", "sendback.limits.per_ip_hour"},
	} {
		_, err := config.Parse("m.yaml", []byte("sites:\n  demo:\n    api_key: demo-key-1\n    "+tc.body+"\n"), nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to name %q", tc.body, err, tc.want)
		}
	}
}
