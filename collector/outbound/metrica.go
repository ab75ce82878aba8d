package outbound

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/messtrack/messtrack/config"
)

// MetricaName is the Yandex Metrica target's name.
const MetricaName = "metrica"

// metricaMaxAge is how long after the visit Metrica still matches an
// offline conversion to it.
const metricaMaxAge = 21 * 24 * time.Hour

// metricaBatch is how many rows one upload carries at most.
const metricaBatch = 500

// Metrica uploads chats (type CHATS, goal goal_chat) and conversions (type
// BASIC, goal goal_conversion, with price and currency) to a Yandex Metrica
// counter as offline conversions, for the visitor whose _ym_uid cookie the
// visit carried, or its Yandex Direct click (yclid).
type Metrica struct {
	cfg      config.Metrica
	currency string
	opt      TargetOptions
}

// NewMetrica returns the target for a site's counter.
func NewMetrica(cfg config.Metrica, currency string, opt TargetOptions) *Metrica {
	return &Metrica{cfg: cfg, currency: currency, opt: opt}
}

// Name implements Target.
func (m *Metrica) Name() string { return MetricaName }

// Wants implements Target: chats when goal_chat is set, conversions when
// goal_conversion is.
func (m *Metrica) Wants(typ string) bool {
	return typ == TypeConversationStarted && m.cfg.GoalChat != "" || typ == TypeSessionConverted && m.cfg.GoalConversion != ""
}

// Accepts implements Filter: facts whose conversation came from a visit
// with a Metrica ClientID or a yclid.
func (m *Metrica) Accepts(ctx context.Context, ev *Event) bool {
	f, err := readFact(ev.Type, ev.Data)
	if err != nil {
		return false
	}
	a, err := visitOf(ctx, m.opt, ev.Site, f)
	return err != nil || a.YMClientID != "" || a.Yclid != ""
}

// BatchSize implements BatchTarget.
func (m *Metrica) BatchSize() int { return metricaBatch }

// Send implements Target.
func (m *Metrica) Send(ctx context.Context, d *Delivery) Result {
	return m.SendBatch(ctx, []*Delivery{d})[0]
}

// MetricaRow is one offline conversion.
type MetricaRow struct {
	// ClientID or Yclid identifies the visitor (ClientID first).
	ClientID string
	Yclid    string
	Goal     string
	Time     time.Time
	// Conversion rows carry Price and Currency; chat rows do not.
	Conversion bool
	Price      float64
	Currency   string
}

// upload is one CSV file: rows of one type and one identifier column.
type upload struct {
	chats bool
	yclid bool
}

// SendBatch implements BatchTarget: the batch's rows go as one upload per
// type (CHATS, BASIC) and identifier column; a row Metrica can no longer
// match is reported, not sent.
func (m *Metrica) SendBatch(ctx context.Context, ds []*Delivery) []Result {
	results := make([]Result, len(ds))
	groups := map[upload][]int{}
	rows := make([]MetricaRow, len(ds))
	now := m.opt.Clock.Now()
	for i, d := range ds {
		row, note, err := m.row(ctx, d, now)
		switch {
		case err != nil:
			results[i] = Result{Err: err}
		case note != "":
			results[i] = Result{Note: note}
		default:
			rows[i] = row
			k := upload{chats: !row.Conversion, yclid: row.ClientID == ""}
			groups[k] = append(groups[k], i)
		}
	}
	for k, idx := range groups {
		batch := make([]MetricaRow, len(idx))
		for j, i := range idx {
			batch[j] = rows[i]
		}
		res := m.upload(ctx, k.chats, batch)
		for _, i := range idx {
			results[i] = res
		}
	}
	return results
}

// row builds a delivery's row, or a note why it is not sent.
func (m *Metrica) row(ctx context.Context, d *Delivery, now time.Time) (MetricaRow, string, error) {
	f, err := deliveryFact(d)
	if err != nil {
		return MetricaRow{}, "", &PermanentError{Reason: "metrica: " + err.Error()}
	}
	a, err := visitOf(ctx, m.opt, d.Site, f)
	if err != nil {
		return MetricaRow{}, "", fmt.Errorf("metrica: %w", err)
	}
	if a.YMClientID == "" && a.Yclid == "" {
		return MetricaRow{}, "not sent: the visit had no Metrica ClientID or yclid (or has expired)", nil
	}
	if f.At.Sub(a.Time) > metricaMaxAge {
		return MetricaRow{}, "not sent: more than the 21 days Metrica matches after the visit", nil
	}
	row := MetricaRow{ClientID: a.YMClientID, Yclid: a.Yclid, Goal: m.cfg.GoalChat, Time: f.At}
	if f.Conversion {
		cur := f.Currency
		if cur == "" {
			cur = m.currency
		}
		row.Goal, row.Conversion, row.Price, row.Currency = m.cfg.GoalConversion, true, f.Value, cur
	}
	if row.Yclid != "" && row.ClientID != "" {
		row.Yclid = ""
	}
	if row.Time.After(now) {
		row.Time = now // Metrica takes only times in the past
	}
	return row, "", nil
}

// WriteMetricaCSV writes rows as Metrica's offline-conversion CSV: a
// header line, then one line per row. The identifier column is ClientId,
// or Yclid when no row has a ClientId; Price and Currency are there when a
// row is a conversion.
func WriteMetricaCSV(w io.Writer, rows []MetricaRow) error {
	yclid := len(rows) > 0
	for _, r := range rows {
		yclid = yclid && r.ClientID == ""
	}
	return WriteMetricaCSVBy(w, rows, yclid)
}

// WriteMetricaCSVBy is WriteMetricaCSV with the identifier column chosen:
// Yclid when yclid is set, else ClientId.
func WriteMetricaCSVBy(w io.Writer, rows []MetricaRow, yclid bool) error {
	priced := false
	for _, r := range rows {
		priced = priced || r.Conversion
	}
	header := []string{"ClientId", "Target", "DateTime"}
	if yclid {
		header[0] = "Yclid"
	}
	if priced {
		header = append(header, "Price", "Currency")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return fmt.Errorf("metrica csv: %w", err)
	}
	for _, r := range rows {
		id := r.ClientID
		if yclid {
			id = r.Yclid
		}
		line := []string{id, r.Goal, strconv.FormatInt(r.Time.Unix(), 10)}
		if priced {
			price, cur := "", ""
			if r.Conversion {
				price, cur = strconv.FormatFloat(r.Price, 'f', 2, 64), r.Currency
			}
			line = append(line, price, cur)
		}
		if err := cw.Write(line); err != nil {
			return fmt.Errorf("metrica csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("metrica csv: %w", err)
	}
	return nil
}

// upload posts one CSV file.
func (m *Metrica) upload(ctx context.Context, chats bool, rows []MetricaRow) Result {
	var file bytes.Buffer
	if err := WriteMetricaCSV(&file, rows); err != nil {
		return Result{Err: &PermanentError{Reason: err.Error()}}
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	part, err := mw.CreateFormFile("file", "messtrack.csv")
	if err != nil {
		return Result{Err: &PermanentError{Reason: "metrica: " + err.Error()}}
	}
	if _, err := part.Write(file.Bytes()); err != nil {
		return Result{Err: &PermanentError{Reason: "metrica: " + err.Error()}}
	}
	if err := mw.Close(); err != nil {
		return Result{Err: &PermanentError{Reason: "metrica: " + err.Error()}}
	}
	typ := "BASIC"
	if chats {
		typ = "CHATS"
	}
	q := url.Values{"type": {typ}, "comment": {"messtrack"}}
	u := m.cfg.BaseURL + "/management/v1/counter/" + url.PathEscape(m.cfg.CounterID) + "/offline_conversions/upload?" + q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, &body)
	if err != nil {
		return Result{Err: &PermanentError{Reason: "metrica: " + err.Error()}}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "OAuth "+m.cfg.Token)
	resp, err := m.opt.Client.Do(req)
	if err != nil {
		return Result{Err: fmt.Errorf("metrica: %w", err)}
	}
	defer resp.Body.Close()
	// The body only explains the status; one cut short leaves the status.
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 == 2 {
		var ok struct {
			Uploading *struct {
				ID int64 `json:"id"`
			} `json:"uploading"`
		}
		if json.Unmarshal(raw, &ok) != nil || ok.Uploading == nil {
			return Result{Status: resp.StatusCode, Err: fmt.Errorf("metrica: unexpected answer %s", clip(string(raw), 200))}
		}
		return Result{Status: resp.StatusCode}
	}
	var e struct {
		Message string `json:"message"`
		Errors  []struct {
			Type    string `json:"error_type"`
			Message string `json:"message"`
		} `json:"errors"`
	}
	msg := clip(string(bytes.TrimSpace(raw)), 200)
	if json.Unmarshal(raw, &e) == nil && len(e.Errors) > 0 {
		msg = e.Errors[0].Type + ": " + e.Errors[0].Message
	}
	err = fmt.Errorf("metrica: answered %d: %s", resp.StatusCode, msg)
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return Result{Status: resp.StatusCode, Err: err}
	}
	return Result{Status: resp.StatusCode, Err: &PermanentError{Reason: err.Error()}}
}
