// Package reports turns stored facts (a chat attributed to a source, a
// business event, an ad cost row) into attribution sessions, conversions and
// report tables. It never imports collector: the collector hands it facts.
package reports

import "time"

// Conversation is the fact that a person started an attributed conversation:
// the first message of a chat, or a later message carrying a new valid code.
// It opens a session (and closes the chat's previous open one without a
// conversion).
type Conversation struct {
	Site string
	// Chat is the chat key: "whatsapp:<wa_id or user_id>", "telegram:<id>", "<channel>:<id>".
	Chat string
	// Time is when the conversation started: the message's platform
	// timestamp, never the delivery time.
	Time time.Time
	// Messenger is whatsapp, telegram, or the generic channel's name.
	Messenger string
	// Method is how the chat was matched: id, referral, dedicated_number,
	// heuristic, or none (no source: counted as a conversation without a
	// session).
	Method     string
	Confidence float64
	// Retract withdraws the chat's conversation at Time: a late-delivered
	// earlier message showed that the message counted as the chat's first
	// was a continuation. Only Site, Chat and Time matter then.
	Retract bool

	// Channel is the traffic channel (paid_search, paid_social,
	// organic_search, social, referral, email, direct, offline, messenger_ad).
	Channel     string
	UTMSource   string
	UTMMedium   string
	UTMCampaign string
	UTMContent  string
	UTMTerm     string
	// AdID identifies the ad: a click-to-WhatsApp source_id, or for web
	// visits the campaign/content from UTM tags or the click ID.
	AdID    string
	AdTitle string
	// AdType is "ad" or "post" (the referral's source_type).
	AdType  string
	ClickID string
	// Page is the page the chat link was clicked on; Landing the visit's
	// landing page; Referrer the visit's referrer.
	Page     string
	Landing  string
	Referrer string
	// Source is the offline source name (flyer, billboard) if any.
	Source string
}

// Event is a business event from a CRM, a bot or a help desk. Events whose
// category is the site's conversion event (as in force at Time) close the
// chat's open session as a conversion.
type Event struct {
	Site     string
	Chat     string
	Category string
	Time     time.Time
	// Value is revenue, summed in reports.
	Value float64
	// ID, when set, makes a redelivered event count once.
	ID string
}

// CostRow is one day of one ad's cost and delivery.
type CostRow struct {
	// Date is the day, YYYY-MM-DD, in the ad account's (and the site's) time zone.
	Date        string
	AdID        string
	Title       string
	Cost        float64
	Reach       int64
	Impressions int64
	Clicks      int64
	Currency    string
}
