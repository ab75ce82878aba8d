// Package sendback is the send-back widget's server side: a visitor leaves
// a WhatsApp number on the page, and the business writes first, with the
// site's approved template carrying the visit's code, through the Cloud API
// send of collector/wabiz (so the send's statuses and cost count in the
// templates report). The chat is recorded as the visit's (method
// send_back, confidence 1) before the person answers, and the answer
// continues that conversation.
//
// Phone numbers are read with the same libphonenumber rules everywhere
// (Normalize): the widget asks POST /v1/sendback/check as the person types,
// and POST /v1/sendback checks again. Limits per visit, client address,
// number and site are fixed windows counted in one script over the site's
// keys (limits.go).
package sendback
