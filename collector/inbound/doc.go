// Package inbound translates what the messengers send (a WhatsApp Cloud API
// notification, a Telegram Bot API update, the generic messages API's body)
// into one form: a Message (a person writing) or a Notice (a reaction, an
// edit or a deletion of an earlier message). Every translator is pure: the
// time the collector received the payload is passed in, and nothing here
// reads Redis or the server, so the translators are fuzzed on their own.
//
// One rule files every message in time (Time); one cleaning keeps names and
// texts storable (CleanText, CleanName); a chat target has one form
// (NormalizeTarget).
package inbound
