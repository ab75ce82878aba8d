package outbound

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/messtrack/messtrack/reports"
	"github.com/messtrack/messtrack/store/redistest"
)

func TestMetricaCSVIsYandexsExampleFile(t *testing.T) {
	want, err := os.ReadFile("testdata/yandex_offline_conversions_clientid.csv")
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	err = WriteMetricaCSV(&got, []MetricaRow{
		{ClientID: "133591247640966458", Goal: "GOAL1", Time: time.Unix(1481718166, 0), Conversion: true, Price: 123.45, Currency: "RUB"},
		{ClientID: "579124169844706072", Goal: "GOAL3", Time: time.Unix(1481718116, 0), Conversion: true, Price: 678.9, Currency: "RUB"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(got.String()) != strings.TrimSpace(string(want)) {
		t.Errorf("got\n%s\nwant\n%s", got.String(), want)
	}
	got.Reset()
	if err := WriteMetricaCSV(&got, []MetricaRow{{Yclid: "5397283049721397", Goal: "chat", Time: time.Unix(1481718166, 0)}}); err != nil {
		t.Fatal(err)
	}
	if got.String() != "Yclid,Target,DateTime\n5397283049721397,chat,1481718166\n" {
		t.Errorf("yclid file %q", got.String())
	}
}

// analyticsWorld is the demo site sending to GA4 and Metrica at local
// servers, with visits as visit answers them.
func analyticsWorld(t *testing.T, ga, ym http.Handler, visits map[string]Analytics) (*world, *Dispatcher) {
	gaSrv, ymSrv := httptest.NewServer(ga), httptest.NewServer(ym)
	t.Cleanup(gaSrv.Close)
	t.Cleanup(ymSrv.Close)
	w := newWorld(t, redistest.NewUniversal(t), fmt.Sprintf("    ga4: {measurement_id: G-1, api_secret: s, base_url: %s}\n"+
		"    metrica: {counter_id: \"7\", token: tok, goal_chat: chat, base_url: %s}\n", gaSrv.URL, ymSrv.URL))
	lookup := func(_ context.Context, _, chat string, _ time.Time) (Analytics, error) { return visits[chat], nil }
	d := w.dispatcher("a", Options{Targets: TargetsWith(TargetOptions{Clock: w.clock, Visit: lookup})})
	return w, d
}

func TestGA4AndMetricaRefusalsAreDeadLettersAndOldFactsAreReported(t *testing.T) {
	ga := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"validationMessages":[{"fieldPath":"client_id","description":"Client ID is required.","validationCode":"VALUE_REQUIRED"}]}`)
	})
	ym := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"errors":[{"error_type":"invalid_parameter","message":"Counter not found"}],"code":400,"message":"Counter not found"}`, 400)
	})
	visitAt := t0.Add(-time.Minute)
	w, d := analyticsWorld(t, ga, ym, map[string]Analytics{
		"whatsapp:1": {Time: visitAt, GAClientID: "1.2", YMClientID: "17"},
		"whatsapp:2": {Time: visitAt.Add(-30 * 24 * time.Hour), GAClientID: "3.4", Yclid: "99"},
	})
	w.conversation("whatsapp:1", t0, reports.MethodID)
	w.conversation("whatsapp:2", t0.Add(-4*24*time.Hour), reports.MethodID)
	w.conversation("whatsapp:3", t0, reports.MethodID) // no visit IDs: routed nowhere
	drain(t, d)
	dead, _ := w.admin.List(context.Background(), "demo", "dead", 10)
	done, _ := w.admin.List(context.Background(), "demo", "delivered", 10)
	errs := map[string]string{}
	for _, l := range append(dead, done...) {
		errs[l.Chat+" "+l.Target+" "+l.State] = l.Error
	}
	want := map[string]string{
		"whatsapp:1 ga4 dead":          "ga4: VALUE_REQUIRED client_id: Client ID is required.",
		"whatsapp:1 metrica dead":      "metrica: answered 400: invalid_parameter: Counter not found",
		"whatsapp:2 ga4 delivered":     "not sent: older than the 72 hours GA4 takes",
		"whatsapp:2 metrica delivered": "not sent: more than the 21 days Metrica matches after the visit",
	}
	if fmt.Sprint(errs) != fmt.Sprint(want) {
		t.Errorf("outcomes\n%v\nwant\n%v", errs, want)
	}
}
