package collector

import (
	"bytes"
	"sort"

	"github.com/gofiber/fiber/v2"

	"github.com/messtrack/messtrack/reports"
)

// costsResponse says what an upload stored.
type costsResponse struct {
	Rows int      `json:"rows"`
	Days []string `json:"days"`
}

// handleCosts takes POST /v1/sites/:site/costs: cost rows as CSV (with the
// header date,ad_id,cost,reach,impressions,clicks,currency) or a JSON array
// of objects with those keys. A bad row rejects the whole upload, naming
// every bad row; each day in the upload replaces that day's stored rows.
func (s *Server) handleCosts(c *fiber.Ctx) error {
	st := authedSite(c)
	body := c.Body()
	if len(body) == 0 {
		return fail(ErrBadInput, "empty body: cost rows as CSV or a JSON array are required")
	}
	rows, err := reports.ParseCostRows(bytes.NewReader(body), st.cfg)
	if err != nil {
		return reportsError(err)
	}
	if err := s.reports.AddCosts(c.UserContext(), st.cfg.Name, rows); err != nil {
		return reportsError(err)
	}
	days := map[string]bool{}
	for _, r := range rows {
		days[r.Date] = true
	}
	resp := costsResponse{Rows: len(rows), Days: make([]string, 0, len(days))}
	for d := range days {
		resp.Days = append(resp.Days, d)
	}
	sort.Strings(resp.Days)
	return c.JSON(resp)
}
