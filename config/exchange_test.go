package config_test

import (
	"strings"
	"testing"

	"github.com/messtrack/messtrack/config"
)

const exchangeSite = `
sites:
  demo:
    api_key: demo-key-1
    whatsapp: [{number: "15551234567"}]
`

func TestExchangeSettingsAndDefaults(t *testing.T) {
	cfg, err := config.Parse("x.yaml", []byte(exchangeSite+`    webhooks:
      - url: https://crm.example/hooks/messtrack
        secret: "0123456789abcdef0123"
        events: [chat.attributed, session.converted]
      - url: http://127.0.0.1:9000/all
        secret: "0123456789abcdef0123"
    meta_capi: {dataset_id: "123456789", access_token: "EAAB"}
    ga4: {measurement_id: G-ABC123, api_secret: "s3cret", base_url: "http://127.0.0.1:9001/"}
    metrica: {counter_id: "44147844", token: "y0_AgAA", goal_chat: chat, goal_conversion: purchase}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := cfg.Site("demo")
	if !st.Webhooks[0].Wants("chat.attributed") || st.Webhooks[0].Wants("event.received") || !st.Webhooks[1].Wants("event.received") {
		t.Errorf("event filters: %+v", st.Webhooks)
	}
	if st.MetaCAPI.BaseURL != config.DefaultCAPIBaseURL || st.GA4.BaseURL != "http://127.0.0.1:9001" ||
		st.Metrica.BaseURL != config.DefaultMetricaBaseURL {
		t.Errorf("base URLs %q %q %q", st.MetaCAPI.BaseURL, st.GA4.BaseURL, st.Metrica.BaseURL)
	}
	if !st.MetaCAPI.Enabled() || !st.GA4.Enabled() || !st.Metrica.Enabled() {
		t.Error("targets not enabled")
	}
}

func TestExchangeSettingsErrorsNameTheKey(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"    webhooks: [{url: 'ftp://crm.example', secret: 0123456789abcdef}]\n", "sites.demo.webhooks[0].url"},
		{"    webhooks: [{url: 'https://crm.example', secret: short}]\n", "sites.demo.webhooks[0].secret"},
		{"    webhooks: [{url: 'https://crm.example', secret: 0123456789abcdef, events: [chat.opened]}]\n", `"chat.opened" is not one of`},
		{"    meta_capi: {dataset_id: '1'}\n", "sites.demo.meta_capi.access_token"},
		{"    meta_capi: {base_url: 'not a url'}\n", "sites.demo.meta_capi.base_url"},
		{"    ga4: {measurement_id: G-1}\n", "sites.demo.ga4.api_secret"},
		{"    metrica: {counter_id: '1', token: t}\n", "goal_chat, goal_conversion or both"},
		{"    metrica: {counter_id: '1', goal_chat: chat}\n", "sites.demo.metrica.token"},
	} {
		_, err := config.Parse("x.yaml", []byte(exchangeSite+c.yaml), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "x.yaml: ") {
			t.Errorf("%s: %v, want an error naming %q", strings.TrimSpace(c.yaml), err, c.want)
		}
	}
}
