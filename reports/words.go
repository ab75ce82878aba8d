package reports

// The words a chat's facts and the report tables share: how a conversation
// was attributed, whether it was the chat's first, and the traffic channel of
// its visit. The collector writes them; reports count and show them.

// Match methods, in the order the collector tries them.
const (
	MethodID              = "id"
	MethodReferral        = "referral"
	MethodDedicatedNumber = "dedicated_number"
	MethodHeuristic       = "heuristic"
	MethodNone            = "none"
	// MethodSendBack: the business wrote first, with a template, to a
	// number the visitor left on the page (the send-back widget).
	MethodSendBack = "send_back"
)

// Dialog kinds of a conversation: a chat's earliest conversation is new, the
// others repeat.
const (
	DialogNew    = "new"
	DialogRepeat = "repeat"
)

// Channels a visit is classified into. ChannelMessengerAd is also what a chat
// opened from a click-to-chat ad's referral gets.
const (
	ChannelPaidSearch    = "paid_search"
	ChannelPaidSocial    = "paid_social"
	ChannelOrganicSearch = "organic_search"
	ChannelSocial        = "social"
	ChannelReferral      = "referral"
	ChannelEmail         = "email"
	ChannelDirect        = "direct"
	ChannelOffline       = "offline"
	ChannelMessengerAd   = "messenger_ad"
)
