package reports

import (
	"fmt"
	"strconv"
)

// Kind says what a column's values are, so each writer formats and sorts
// them: the CSV and the terminal table plainly, the dashboard for the site
// (money in its currency, fractions as percentages).
type Kind int

const (
	KindText    Kind = iota // string
	KindCount               // int64
	KindNumber              // float64
	KindMoney               // float64 in the site's currency
	KindPercent             // float64 fraction
	KindTime                // time.Time
)

// Numeric reports whether a column's values are numbers.
func (k Kind) Numeric() bool { return k != KindText }

// Column is one column of a report, defined once for every writer: its key
// (the CSV header, the same as the row's JSON key), its heading, its kind,
// and its cell in a row: a string, an int64, a float64, or nil for a value
// that does not exist (an empty cell, a dash on the dashboard).
type Column[R any] struct {
	Key   string
	Title string
	Kind  Kind
	// Extra columns (the per-event breakdown and the notes) are written to
	// the CSV and the terminal table; the dashboard shows notes under its
	// table instead.
	Extra bool
	Cell  func(*R) any
}

func optInt(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

func optFloat(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// AdColumns are the ads report's columns.
var AdColumns = []Column[AdRow]{
	{Key: "ad_id", Title: "Ad ID", Kind: KindText, Cell: func(r *AdRow) any { return r.AdID }},
	{Key: "title", Title: "Title", Kind: KindText, Cell: func(r *AdRow) any { return r.Title }},
	{Key: "type", Title: "Type", Kind: KindText, Cell: func(r *AdRow) any { return r.Type }},
	{Key: "cost", Title: "Cost", Kind: KindMoney, Cell: func(r *AdRow) any { return optFloat(r.Cost) }},
	{Key: "reach", Title: "Reach", Kind: KindCount, Cell: func(r *AdRow) any { return optInt(r.Reach) }},
	{Key: "conversations", Title: "Conversations", Kind: KindCount, Cell: func(r *AdRow) any { return r.Conversations }},
	{Key: "cost_per_conversation", Title: "Cost per conversation", Kind: KindMoney, Cell: func(r *AdRow) any { return optFloat(r.CostPerConversation) }},
	{Key: "conversions", Title: "Conversions", Kind: KindCount, Cell: func(r *AdRow) any { return optInt(r.Conversions) }},
	{Key: "cost_per_conversion", Title: "Cost per conversion", Kind: KindMoney, Cell: func(r *AdRow) any { return optFloat(r.CostPerConversion) }},
	{Key: "conversion_rate", Title: "Conversion rate", Kind: KindPercent, Cell: func(r *AdRow) any { return optFloat(r.ConversionRate) }},
	{Key: "revenue", Title: "Revenue", Kind: KindMoney, Cell: func(r *AdRow) any { return optFloat(r.Revenue) }},
	{Key: "conversions_by_event", Title: "Conversions by event", Kind: KindText, Extra: true, Cell: func(r *AdRow) any { return cellByEvent(r.ConversionsByEvent) }},
	{Key: "notes", Title: "Notes", Kind: KindText, Extra: true, Cell: func(r *AdRow) any { return cellNotes(r.Notes) }},
}

// trafficColumns are the columns every traffic report ends with.
var trafficColumns = []Column[TrafficRow]{
	{Key: "conversations", Title: "Conversations", Kind: KindCount, Cell: func(r *TrafficRow) any { return r.Conversations }},
	{Key: "share", Title: "Share", Kind: KindPercent, Cell: func(r *TrafficRow) any { return optFloat(r.Share) }},
	{Key: "sessions", Title: "Attributed", Kind: KindCount, Cell: func(r *TrafficRow) any { return r.Sessions }},
	{Key: "conversions", Title: "Conversions", Kind: KindCount, Cell: func(r *TrafficRow) any { return optInt(r.Conversions) }},
	{Key: "conversion_rate", Title: "Conversion rate", Kind: KindPercent, Cell: func(r *TrafficRow) any { return optFloat(r.ConversionRate) }},
	{Key: "revenue", Title: "Revenue", Kind: KindMoney, Cell: func(r *TrafficRow) any { return optFloat(r.Revenue) }},
	{Key: "conversions_by_event", Title: "Conversions by event", Kind: KindText, Extra: true, Cell: func(r *TrafficRow) any { return cellByEvent(r.ConversionsByEvent) }},
	{Key: "notes", Title: "Notes", Kind: KindText, Extra: true, Cell: func(r *TrafficRow) any { return cellNotes(r.Notes) }},
}

// traffic is a traffic report's columns: its leading ones, then the shared.
func traffic(lead ...Column[TrafficRow]) []Column[TrafficRow] {
	return append(lead, trafficColumns...)
}

// ChannelColumns are the channels report's columns.
var ChannelColumns = traffic(
	Column[TrafficRow]{Key: "channel", Title: "Channel", Kind: KindText, Cell: func(r *TrafficRow) any { return r.Channel }},
	Column[TrafficRow]{Key: "source", Title: "Source", Kind: KindText, Cell: func(r *TrafficRow) any { return r.Source }},
)

// PageColumns are the pages report's columns.
var PageColumns = traffic(
	Column[TrafficRow]{Key: "kind", Title: "Kind", Kind: KindText, Cell: func(r *TrafficRow) any { return r.Kind }},
	Column[TrafficRow]{Key: "url", Title: "Page", Kind: KindText, Cell: func(r *TrafficRow) any { return r.URL }},
)

// NewRepeatColumns are the new-vs-repeat report's columns.
var NewRepeatColumns = traffic(
	Column[TrafficRow]{Key: "dialog", Title: "Dialog", Kind: KindText, Cell: func(r *TrafficRow) any { return r.Dialog }},
)

// columnKeys are the columns' keys, the CSV header.
func columnKeys[R any](cols []Column[R]) []string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = c.Key
	}
	return out
}

// columnRecords are rows as text cells, one per column.
func columnRecords[R any](cols []Column[R], rows []R) [][]string {
	out := make([][]string, 0, len(rows))
	for i := range rows {
		rec := make([]string, len(cols))
		for j, c := range cols {
			rec[j] = cellText(c.Cell(&rows[i]))
		}
		out = append(out, rec)
	}
	return out
}

// cellText is a cell as the CSV and the terminal table write it.
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return fmt.Sprint(v)
}

// CodeColumns are the code-survival report's columns.
var CodeColumns = []Column[CodeRow]{
	{Key: "dimension", Title: "By", Kind: KindText, Cell: func(r *CodeRow) any { return r.Dimension }},
	{Key: "value", Title: "Value", Kind: KindText, Cell: func(r *CodeRow) any { return r.Value }},
	{Key: "label", Title: "Template", Kind: KindText, Cell: func(r *CodeRow) any { return r.Label }},
	{Key: "clicks", Title: "Clicks", Kind: KindCount, Cell: func(r *CodeRow) any { return r.Clicks }},
	{Key: "chats", Title: "Chats", Kind: KindCount, Cell: func(r *CodeRow) any { return r.Chats }},
	{Key: "kept", Title: "Kept", Kind: KindCount, Cell: func(r *CodeRow) any { return r.Kept }},
	{Key: "edited", Title: "Edited", Kind: KindCount, Cell: func(r *CodeRow) any { return r.Edited }},
	{Key: "deleted", Title: "Deleted", Kind: KindCount, Cell: func(r *CodeRow) any { return r.Deleted }},
	{Key: "no_chat", Title: "No chat", Kind: KindCount, Cell: func(r *CodeRow) any { return r.NoChat }},
	{Key: "unlinked", Title: "Unlinked", Kind: KindCount, Cell: func(r *CodeRow) any { return r.Unlinked }},
	{Key: "survival", Title: "Survival", Kind: KindPercent, Cell: func(r *CodeRow) any { return optFloat(r.Survival) }},
	{Key: "survival_low", Title: "95 % low", Kind: KindPercent, Cell: func(r *CodeRow) any { return optFloat(r.SurvivalLow) }},
	{Key: "survival_high", Title: "95 % high", Kind: KindPercent, Cell: func(r *CodeRow) any { return optFloat(r.SurvivalHigh) }},
	{Key: "median_seconds", Title: "Median s", Kind: KindNumber, Cell: func(r *CodeRow) any { return optFloat(r.MedianSeconds) }},
	{Key: "p90_seconds", Title: "90th pct s", Kind: KindNumber, Cell: func(r *CodeRow) any { return optFloat(r.P90Seconds) }},
}

// ExperimentColumns are the template experiment's columns.
var ExperimentColumns = []Column[ExperimentRow]{
	{Key: "template", Title: "Template", Kind: KindText, Cell: func(r *ExperimentRow) any { return r.Template }},
	{Key: "text", Title: "Text", Kind: KindText, Cell: func(r *ExperimentRow) any { return r.Text }},
	{Key: "weight", Title: "Weight", Kind: KindCount, Cell: func(r *ExperimentRow) any {
		if r.Weight == nil {
			return nil
		}
		return int64(*r.Weight)
	}},
	{Key: "clicks", Title: "Clicks", Kind: KindCount, Cell: func(r *ExperimentRow) any { return r.Clicks }},
	{Key: "chats", Title: "Chats", Kind: KindCount, Cell: func(r *ExperimentRow) any { return r.Chats }},
	{Key: "kept", Title: "Kept", Kind: KindCount, Cell: func(r *ExperimentRow) any { return r.Kept }},
	{Key: "chat_rate", Title: "Chats per click", Kind: KindPercent, Cell: func(r *ExperimentRow) any { return optFloat(r.ChatRate) }},
	{Key: "survival", Title: "Survival", Kind: KindPercent, Cell: func(r *ExperimentRow) any { return optFloat(r.Survival) }},
	{Key: "survival_low", Title: "95 % low", Kind: KindPercent, Cell: func(r *ExperimentRow) any { return optFloat(r.SurvivalLow) }},
	{Key: "survival_high", Title: "95 % high", Kind: KindPercent, Cell: func(r *ExperimentRow) any { return optFloat(r.SurvivalHigh) }},
	{Key: "p_value", Title: "p vs leader", Kind: KindNumber, Cell: func(r *ExperimentRow) any { return optFloat(r.PValue) }},
	{Key: "significant", Title: "Significant", Kind: KindText, Cell: func(r *ExperimentRow) any { return yesNo(r.Significant) }},
	{Key: "leader", Title: "Leader", Kind: KindText, Cell: func(r *ExperimentRow) any { return yesNo(r.Leader) }},
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// WhatsAppColumns are the WhatsApp report's columns by day and category.
var WhatsAppColumns = []Column[WhatsAppRow]{
	{Key: "date", Title: "Date", Kind: KindText, Cell: func(r *WhatsAppRow) any { return r.Date }},
	{Key: "category", Title: "Category", Kind: KindText, Cell: func(r *WhatsAppRow) any { return r.Category }},
	{Key: "free", Title: "Free", Kind: KindCount, Cell: func(r *WhatsAppRow) any { return r.Free }},
	{Key: "paid", Title: "Paid", Kind: KindCount, Cell: func(r *WhatsAppRow) any { return r.Paid }},
	{Key: "free_entry_points", Title: "Free entry points", Kind: KindCount, Cell: func(r *WhatsAppRow) any { return r.FreeEntryPoints }},
	{Key: "spend", Title: "Spend", Kind: KindMoney, Cell: func(r *WhatsAppRow) any { return r.Spend }},
	{Key: "unpriced", Title: "Paid without a rate", Kind: KindCount, Cell: func(r *WhatsAppRow) any { return r.Unpriced }},
}

// WhatsAppSourceColumns are the WhatsApp report's columns by chat source.
var WhatsAppSourceColumns = []Column[WhatsAppRow]{
	{Key: "channel", Title: "Channel", Kind: KindText, Cell: func(r *WhatsAppRow) any { return r.Channel }},
	{Key: "campaign", Title: "Campaign", Kind: KindText, Cell: func(r *WhatsAppRow) any { return r.Campaign }},
	{Key: "ad_id", Title: "Ad ID", Kind: KindText, Cell: func(r *WhatsAppRow) any { return r.AdID }},
	{Key: "free", Title: "Free", Kind: KindCount, Cell: func(r *WhatsAppRow) any { return r.Free }},
	{Key: "paid", Title: "Paid", Kind: KindCount, Cell: func(r *WhatsAppRow) any { return r.Paid }},
	{Key: "spend", Title: "Spend", Kind: KindMoney, Cell: func(r *WhatsAppRow) any { return r.Spend }},
}

// TemplateColumns are the templates report's columns, a row per
// template; TemplateDayColumns the report of one template, a row per day.
var TemplateColumns = []Column[TemplateRow]{
	{Key: "template", Title: "Template", Kind: KindText, Cell: func(r *TemplateRow) any { return r.Template }},
	{Key: "sent", Title: "Sent", Kind: KindCount, Cell: func(r *TemplateRow) any { return r.Sent }},
	{Key: "delivered", Title: "Delivered", Kind: KindCount, Cell: func(r *TemplateRow) any { return r.Delivered }},
	{Key: "read", Title: "Read", Kind: KindCount, Cell: func(r *TemplateRow) any { return r.Read }},
	{Key: "failed", Title: "Failed", Kind: KindCount, Cell: func(r *TemplateRow) any { return r.Failed }},
	{Key: "replied", Title: "Replied", Kind: KindCount, Cell: func(r *TemplateRow) any { return r.Replied }},
	{Key: "clicked", Title: "Clicked", Kind: KindCount, Cell: func(r *TemplateRow) any { return r.Clicked }},
	{Key: "delivery_rate", Title: "Delivered %", Kind: KindPercent, Cell: func(r *TemplateRow) any { return optFloat(r.DeliveryRate) }},
	{Key: "read_rate", Title: "Read %", Kind: KindPercent, Cell: func(r *TemplateRow) any { return optFloat(r.ReadRate) }},
	{Key: "reply_rate", Title: "Replied %", Kind: KindPercent, Cell: func(r *TemplateRow) any { return optFloat(r.ReplyRate) }},
	{Key: "cost", Title: "Cost", Kind: KindMoney, Cell: func(r *TemplateRow) any { return r.Cost }},
}

// TemplateDayColumns are the columns of one template's report.
var TemplateDayColumns = append([]Column[TemplateRow]{
	{Key: "date", Title: "Date", Kind: KindText, Cell: func(r *TemplateRow) any { return r.Date }},
}, TemplateColumns...)
