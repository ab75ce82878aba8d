package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/messtrack/messtrack/config"
)

// MetaClient reads ad costs from the Meta Marketing API's insights endpoint.
type MetaClient struct {
	// BaseURL is the Graph API root with its version,
	// https://graph.facebook.com/v25.0 unless configured.
	BaseURL     string
	AdAccountID string
	AccessToken string
	HTTP        *http.Client
}

// NewMetaClient builds a client from a site's meta settings.
func NewMetaClient(m config.Meta, hc *http.Client) (*MetaClient, error) {
	if m.AdAccountID == "" || m.AccessToken == "" {
		return nil, errors.New("meta: ad_account_id and access_token must be set in the site's meta settings")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	base := m.BaseURL
	if base == "" {
		base = config.DefaultMetaBaseURL
	}
	return &MetaClient{
		BaseURL: strings.TrimRight(base, "/"), AdAccountID: strings.TrimPrefix(m.AdAccountID, "act_"),
		AccessToken: m.AccessToken, HTTP: hc,
	}, nil
}

// MetaError is an error answer of the Graph API.
type MetaError struct {
	Status    int    `json:"-"`
	Message   string `json:"message"`
	Type      string `json:"type"`
	Code      int    `json:"code"`
	Subcode   int    `json:"error_subcode"`
	UserTitle string `json:"error_user_title"`
	UserMsg   string `json:"error_user_msg"`
	FBTraceID string `json:"fbtrace_id"`
}

func (e *MetaError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "meta insights: HTTP %d: %s code %d", e.Status, e.Type, e.Code)
	if e.Subcode != 0 {
		fmt.Fprintf(&b, " (subcode %d)", e.Subcode)
	}
	fmt.Fprintf(&b, ": %s", e.Message)
	if e.UserMsg != "" {
		fmt.Fprintf(&b, " — %s", e.UserMsg)
	}
	if hint := metaHint(e.Code); hint != "" {
		fmt.Fprintf(&b, " [%s]", hint)
	}
	fmt.Fprintf(&b, " fbtrace_id=%s", e.FBTraceID)
	return b.String()
}

// metaHint says what the Graph API's common error codes mean for a sync.
func metaHint(code int) string {
	switch {
	case code == 190:
		return "the access token is expired or invalid: renew meta.access_token"
	case code == 1 || code == 2:
		return "a temporary error: try again later"
	case code == 4 || code == 17 || code == 341 || (code >= 80000 && code < 81000):
		return "rate limited: try again later or sync a shorter range"
	case code == 10 || (code >= 200 && code < 300):
		return "permission denied: the token needs ads_read on this ad account"
	case code == 100:
		return "a bad parameter: check meta.ad_account_id and the dates"
	}
	return ""
}

// metaRow is one insights row; every metric is a JSON string.
type metaRow struct {
	AdID        string `json:"ad_id"`
	AdName      string `json:"ad_name"`
	Spend       string `json:"spend"`
	Reach       string `json:"reach"`
	Impressions string `json:"impressions"`
	Clicks      string `json:"clicks"`
	Currency    string `json:"account_currency"`
	DateStart   string `json:"date_start"`
	DateStop    string `json:"date_stop"`
}

type metaPage struct {
	Data   []metaRow `json:"data"`
	Paging struct {
		Cursors struct {
			After string `json:"after"`
		} `json:"cursors"`
		Next string `json:"next"`
	} `json:"paging"`
	Error *MetaError `json:"error"`
}

// metaMaxPages stops a paging loop that never ends.
const metaMaxPages = 10_000

// Insights returns one row per ad and day over r (daily) or one row per ad
// for the whole range (daily false: reach then counts each person once).
//
// Pages are asked for with the after cursor against BaseURL while the
// answer has a paging.next. paging.next itself is never fetched: it always
// names Meta's own host, which a configured base_url (an egress proxy, a
// gateway) replaces, and the access token must reach no host the config did
// not name.
func (m *MetaClient) Insights(ctx context.Context, r Range, daily bool) ([]CostRow, error) {
	tr, _ := json.Marshal(map[string]string{"since": r.From, "until": r.To})
	q := url.Values{}
	q.Set("level", "ad")
	q.Set("fields", "ad_id,ad_name,spend,reach,impressions,clicks,account_currency")
	q.Set("time_range", string(tr))
	if daily {
		q.Set("time_increment", "1")
	}
	q.Set("access_token", m.AccessToken)
	endpoint := m.BaseURL + "/act_" + url.PathEscape(m.AdAccountID) + "/insights"
	if _, err := url.Parse(endpoint); err != nil {
		return nil, fmt.Errorf("meta insights: base_url %q: %w", m.BaseURL, err)
	}
	var out []CostRow
	for page := 1; ; page++ {
		if page > metaMaxPages {
			return nil, fmt.Errorf("meta insights: more than %d pages", metaMaxPages)
		}
		p, err := m.get(ctx, endpoint+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("page %d: %w", page, err)
		}
		for i, row := range p.Data {
			cr, err := row.costRow(daily, r)
			if err != nil {
				return nil, fmt.Errorf("meta insights: page %d, row %d: %w", page, i+1, err)
			}
			out = append(out, cr)
		}
		if p.Paging.Next == "" {
			return out, nil
		}
		after := p.Paging.Cursors.After
		if after == "" {
			if u, err := url.Parse(p.Paging.Next); err == nil {
				after = u.Query().Get("after")
			}
		}
		switch {
		case after == "":
			return nil, fmt.Errorf("meta insights: page %d has a next page but no after cursor", page)
		case after == q.Get("after"):
			return nil, fmt.Errorf("meta insights: page %d: the after cursor does not advance", page)
		}
		q.Set("after", after)
	}
}

func (m *MetaClient) get(ctx context.Context, u string) (*metaPage, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("meta insights: %w", err)
	}
	resp, err := m.HTTP.Do(req)
	if err != nil {
		// The URL holds the access token: report the failure without it.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("meta insights: request to %s failed: %w", m.BaseURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return nil, fmt.Errorf("meta insights: read answer: %w", err)
	}
	var p metaPage
	jerr := json.Unmarshal(body, &p)
	if jerr == nil && p.Error != nil {
		p.Error.Status = resp.StatusCode
		return nil, p.Error
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("meta insights: HTTP %d: %s", resp.StatusCode, clip(string(body), 200))
	}
	if jerr != nil {
		return nil, fmt.Errorf("meta insights: the answer is not insights JSON: %w", jerr)
	}
	return &p, nil
}

func (row metaRow) costRow(daily bool, r Range) (CostRow, error) {
	cr := CostRow{AdID: row.AdID, Title: row.AdName, Currency: row.Currency}
	if row.AdID == "" {
		return cr, errors.New("no ad_id")
	}
	if daily {
		if row.DateStart != row.DateStop {
			return cr, fmt.Errorf("ad %s: a daily row spans %s..%s", row.AdID, row.DateStart, row.DateStop)
		}
		cr.Date = row.DateStart
	} else {
		cr.Date = r.From
	}
	spend, err := strconv.ParseFloat(strings.TrimSpace(row.Spend), 64)
	if row.Spend == "" {
		spend, err = 0, nil
	}
	if err != nil || math.IsNaN(spend) || math.IsInf(spend, 0) {
		return cr, fmt.Errorf("ad %s: spend %q is not a number", row.AdID, clip(row.Spend, 32))
	}
	cr.Cost = spend
	for _, f := range []struct {
		name, v string
		into    *int64
	}{{"reach", row.Reach, &cr.Reach}, {"impressions", row.Impressions, &cr.Impressions}, {"clicks", row.Clicks, &cr.Clicks}} {
		if f.v == "" {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSpace(f.v), 10, 64)
		if err != nil {
			return cr, fmt.Errorf("ad %s: %s %q is not a whole number", row.AdID, f.name, clip(f.v, 32))
		}
		*f.into = n
	}
	return cr, nil
}

// SyncResult says what a Meta sync stored.
type SyncResult struct {
	Range Range `json:"range"`
	// Rows is the number of daily cost rows stored; Ads the number of ads
	// whose reach over the whole range was stored.
	Rows int `json:"rows"`
	Ads  int `json:"ads"`
}

// SyncMeta pulls the site's daily ad costs over r from the Meta insights
// endpoint and replaces those days, then fetches each ad's reach over the
// whole range (reach does not add up across days) and stores it for r.
func (s *Store) SyncMeta(ctx context.Context, site string, r Range, m *MetaClient) (SyncResult, error) {
	daily, err := m.Insights(ctx, r, true)
	if err != nil {
		return SyncResult{}, fmt.Errorf("reports.SyncMeta: daily costs: %w", err)
	}
	whole, err := m.Insights(ctx, r, false)
	if err != nil {
		return SyncResult{}, fmt.Errorf("reports.SyncMeta: range reach: %w", err)
	}
	if err := s.ReplaceCosts(ctx, site, r, daily); err != nil {
		return SyncResult{}, fmt.Errorf("reports.SyncMeta: %w", err)
	}
	reach := make(map[string]int64, len(whole))
	for _, row := range whole {
		reach[row.AdID] += row.Reach
	}
	if err := s.SetRangeReach(ctx, site, r, reach); err != nil {
		return SyncResult{}, fmt.Errorf("reports.SyncMeta: %w", err)
	}
	return SyncResult{Range: r, Rows: len(daily), Ads: len(reach)}, nil
}
