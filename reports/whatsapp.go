package reports

// The WhatsApp Business reports' shapes: conversations free and paid per
// day and category with their spend, spend per chat source, and templates.
// collector/wabiz counts and fills them.

// WhatsAppRow is one row of the WhatsApp report: by category, a day's
// priced units of one pricing category; by source, the range's units of
// one chat source (channel, campaign, ad). A unit is a delivered message
// under per-message pricing, a conversation under conversation-based
// pricing.
type WhatsAppRow struct {
	Date     string `json:"date,omitempty"`
	Category string `json:"category,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Campaign string `json:"campaign,omitempty"`
	AdID     string `json:"ad_id,omitempty"`
	Free     int64  `json:"free"`
	Paid     int64  `json:"paid"`
	// FreeEntryPoints are the free units opened by a click-to-WhatsApp ad
	// or a page's call-to-action button.
	FreeEntryPoints int64   `json:"free_entry_points"`
	Spend           float64 `json:"spend"`
	// Unpriced are paid units the rate card has no line for.
	Unpriced int64 `json:"unpriced"`
}

// WhatsAppReport is the WhatsApp report: By is "category" (rows per day
// and category) or "source".
type WhatsAppReport struct {
	Site     string        `json:"site"`
	Range    Range         `json:"range"`
	By       string        `json:"by"`
	Currency string        `json:"currency"`
	Rows     []WhatsAppRow `json:"rows"`
	Totals   WhatsAppRow   `json:"totals"`
	Notes    Notes         `json:"notes,omitempty"`
}

func (r *WhatsAppReport) columns() []Column[WhatsAppRow] {
	if r.By == "source" {
		return WhatsAppSourceColumns
	}
	return WhatsAppColumns
}

// Columns implements Table.
func (r *WhatsAppReport) Columns() []string { return columnKeys(r.columns()) }

// Records implements Table.
func (r *WhatsAppReport) Records() [][]string { return columnRecords(r.columns(), r.Rows) }

// ReportNotes implements Table.
func (r *WhatsAppReport) ReportNotes() Notes { return r.Notes }

// TemplateRow is one template's numbers over the range (or, in the report
// for one template, one day's).
type TemplateRow struct {
	Date      string `json:"date,omitempty"`
	Template  string `json:"template"`
	Sent      int64  `json:"sent"`
	Delivered int64  `json:"delivered"`
	Read      int64  `json:"read"`
	Failed    int64  `json:"failed"`
	Replied   int64  `json:"replied"`
	Clicked   int64  `json:"clicked"`
	// The rates are fractions: delivered of sent, read and replied of
	// delivered; nil without a denominator.
	DeliveryRate *float64 `json:"delivery_rate"`
	ReadRate     *float64 `json:"read_rate"`
	ReplyRate    *float64 `json:"reply_rate"`
	Cost         float64  `json:"cost"`
}

// TemplatesReport is the templates report; Template is set for the
// report of one template, whose rows are its days.
type TemplatesReport struct {
	Site     string        `json:"site"`
	Range    Range         `json:"range"`
	Template string        `json:"template,omitempty"`
	Currency string        `json:"currency"`
	Rows     []TemplateRow `json:"rows"`
	Totals   TemplateRow   `json:"totals"`
	Notes    Notes         `json:"notes,omitempty"`
}

func (r *TemplatesReport) columns() []Column[TemplateRow] {
	if r.Template != "" {
		return TemplateDayColumns
	}
	return TemplateColumns
}

// Columns implements Table.
func (r *TemplatesReport) Columns() []string { return columnKeys(r.columns()) }

// Records implements Table.
func (r *TemplatesReport) Records() [][]string { return columnRecords(r.columns(), r.Rows) }

// ReportNotes implements Table.
func (r *TemplatesReport) ReportNotes() Notes { return r.Notes }

// SetRates fills the row's rates from its counts.
func (r *TemplateRow) SetRates() {
	r.DeliveryRate = ratio(float64(r.Delivered), float64(r.Sent), 4)
	r.ReadRate = ratio(float64(r.Read), float64(r.Delivered), 4)
	r.ReplyRate = ratio(float64(r.Replied), float64(r.Delivered), 4)
}
