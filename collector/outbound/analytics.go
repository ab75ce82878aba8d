package outbound

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// fact is what the web analytics targets send of an event: a chat that
// started, or a session's conversion.
type fact struct {
	// Conversion is false for a chat that started.
	Conversion bool
	Chat       string
	// Start is when the conversation began (the visit's conversation);
	// At when the fact happened.
	Start, At time.Time
	Messenger string
	Method    string
	Category  string
	Value     float64
	Currency  string
}

// readFact reads an event of type typ with data as a fact.
func readFact(typ string, data json.RawMessage) (fact, error) {
	switch typ {
	case TypeConversationStarted:
		var d conversationData
		if err := json.Unmarshal(data, &d); err != nil {
			return fact{}, fmt.Errorf("conversation unreadable: %w", err)
		}
		at, err := time.Parse(time.RFC3339Nano, d.Time)
		if err != nil {
			return fact{}, fmt.Errorf("conversation time: %w", err)
		}
		return fact{Chat: d.Chat, Start: at, At: at, Messenger: d.Messenger, Method: d.Method}, nil
	case TypeSessionConverted:
		var s sessionData
		if err := json.Unmarshal(data, &s); err != nil || s.Conversion == nil {
			return fact{}, fmt.Errorf("the session has no conversion")
		}
		return fact{Conversion: true, Chat: s.Chat, Start: s.StartedAt, At: s.Conversion.At, Method: s.Method,
			Category: s.Conversion.Category, Value: s.Conversion.Value, Currency: s.Currency}, nil
	}
	return fact{}, fmt.Errorf("%s is not sent to web analytics", typ)
}

// visitOf looks up the analytics identifiers of the visit that started the
// fact's conversation.
func visitOf(ctx context.Context, opt TargetOptions, site string, f fact) (Analytics, error) {
	if opt.Visit == nil {
		return Analytics{}, nil
	}
	a, err := opt.Visit(ctx, site, f.Chat, f.Start)
	if err != nil {
		return Analytics{}, fmt.Errorf("visit of %s: %w", f.Chat, err)
	}
	return a, nil
}

// deliveryFact reads a delivery's envelope as a fact.
func deliveryFact(d *Delivery) (fact, error) {
	var env envelope
	if err := json.Unmarshal(d.Body, &env); err != nil {
		return fact{}, fmt.Errorf("stored event unreadable: %w", err)
	}
	return readFact(d.Type, env.Data)
}
