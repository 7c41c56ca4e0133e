package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/keyturn/keyturn/bot/cards"
)

// Invoke response types Teams understands for adaptiveCard/action.
const (
	InvokeTypeCard    = "application/vnd.microsoft.card.adaptive"
	InvokeTypeMessage = "application/vnd.microsoft.activity.message"
	InvokeTypeError   = "application/vnd.microsoft.error"
)

// InvokeResponse is the body an adaptiveCard/action invoke is answered
// with, in the same HTTP response. It is never empty.
type InvokeResponse struct {
	StatusCode int    `json:"statusCode"`
	Type       string `json:"type"`
	Value      any    `json:"value"`
}

// InvokeError is the value of an error InvokeResponse.
type InvokeError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// cardAction is what an Action.Execute invoke or an Action.Submit message
// asks for.
type cardAction struct {
	Verb string          `json:"verb"`
	Data json.RawMessage `json:"data"`
}

// onInvoke answers invokes. adaptiveCard/action gets an invoke body in the
// same response; other invokes are answered 200 with an error body so
// Teams neither hangs nor retries.
func (s *Server) onInvoke(ctx context.Context, in *incoming) answer {
	if in.act.Name != "adaptiveCard/action" {
		return answer{status: http.StatusOK, body: InvokeResponse{StatusCode: http.StatusNotImplemented, Type: InvokeTypeError,
			Value: InvokeError{Code: "NotImplemented", Message: "Keyturn does not handle " + in.act.Name}}}
	}
	a, err := decodeExecute(in.act.Value)
	if err != nil {
		return answer{status: http.StatusOK, body: invokeError(http.StatusBadRequest, "BadRequest", "The card action could not be read.")}
	}
	return answer{status: http.StatusOK, body: s.cardAction(ctx, in, a)}
}

// errActionUnreadable means a card action's value or data is not the JSON
// Keyturn's cards send. Its text never quotes the value.
var errActionUnreadable = errors.New("card action unreadable")

// decodeExecute reads an adaptiveCard/action invoke's value: an object
// whose action is an Action.Execute with a string verb and, optionally,
// data. Errors: errActionUnreadable.
func decodeExecute(value json.RawMessage) (cardAction, error) {
	var v struct {
		Action *struct {
			Type string          `json:"type"`
			Verb string          `json:"verb"`
			Data json.RawMessage `json:"data"`
		} `json:"action"`
		Trigger string `json:"trigger"`
	}
	if err := json.Unmarshal(value, &v); err != nil || v.Action == nil || v.Action.Type != "Action.Execute" {
		return cardAction{}, errActionUnreadable
	}
	return cardAction{Verb: v.Action.Verb, Data: v.Action.Data}, nil
}

// decodeSubmit reads an Action.Submit message's value: an object with a
// string verb, whose whole value is the action's data. Errors:
// errActionUnreadable.
func decodeSubmit(value json.RawMessage) (cardAction, error) {
	var v struct {
		Verb string `json:"verb"`
	}
	if err := json.Unmarshal(value, &v); err != nil || bytes.TrimSpace(value)[0] != '{' {
		return cardAction{}, errActionUnreadable
	}
	return cardAction{Verb: v.Verb, Data: value}, nil
}

// actionData reads a card action's data; Input values (the reject reason)
// arrive merged into it. Absent or null data is the zero ActionData; data
// that is not an object of strings is refused whole (errActionUnreadable),
// never half-read. The reason is taken as sent; the domain clips it.
func actionData(raw json.RawMessage) (cards.ActionData, error) {
	var d cards.ActionData
	if len(bytes.TrimSpace(raw)) == 0 {
		return d, nil
	}
	if err := json.Unmarshal(raw, &d); err != nil {
		return cards.ActionData{}, errActionUnreadable
	}
	return d, nil
}

// onSubmit handles an Action.Submit click (a message with a value and no
// text): the same actions as Action.Execute, with any answer posted in the
// thread since a submit has no response contract.
func (s *Server) onSubmit(ctx context.Context, in *incoming) answer {
	a, err := decodeSubmit(in.act.Value)
	if err != nil {
		return answer{status: http.StatusOK}
	}
	resp := s.cardAction(ctx, in, a)
	if msg, ok := resp.Value.(InvokeError); ok {
		return s.later(ctx, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, msg.Message) })
	}
	return answer{status: http.StatusOK}
}

// cardAction routes a card action by verb. A re-delivered action is not
// decided twice: it is answered with the request's current card.
func (s *Server) cardAction(ctx context.Context, in *incoming, a cardAction) InvokeResponse {
	verb := strings.ToLower(a.Verb)
	var data cards.ActionData
	switch verb {
	case "approve", "reject", "refresh", cards.VerbRadarRequest:
		var err error
		if data, err = actionData(a.Data); err != nil {
			return invokeError(http.StatusBadRequest, "BadRequest", "The card action could not be read.")
		}
	}
	switch verb {
	case "approve", "reject", "refresh":
		if verb != "refresh" {
			first, err := s.cfg.Dedup.FirstSeen(ctx, in.dedupKey())
			if err != nil {
				return invokeError(http.StatusInternalServerError, "Unavailable", "Try again in a moment. (reference "+in.rid+")")
			}
			if !first {
				verb = "refresh"
			}
		}
		return s.decide(ctx, in, verb, data)
	case cards.VerbRadarRequest:
		return s.radarRequest(ctx, in, data)
	case "help":
		return InvokeResponse{StatusCode: http.StatusOK, Type: InvokeTypeMessage, Value: "Type @" + s.cfg.BotName + " help for the commands."}
	}
	s.log.Debug("unknown card action", "request_id", in.rid, "verb_len", len(a.Verb))
	return invokeError(http.StatusBadRequest, "UnknownAction", "This card action is not known to Keyturn.")
}

func invokeError(status int, code, msg string) InvokeResponse {
	return InvokeResponse{StatusCode: status, Type: InvokeTypeError, Value: InvokeError{Code: code, Message: msg}}
}
