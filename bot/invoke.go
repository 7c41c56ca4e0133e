package bot

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

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
func (s *Server) onInvoke(c echo.Context, in *incoming) error {
	if in.act.Name != "adaptiveCard/action" {
		return c.JSON(http.StatusOK, InvokeResponse{StatusCode: http.StatusNotImplemented, Type: InvokeTypeError,
			Value: InvokeError{Code: "NotImplemented", Message: "Keyturn does not handle " + in.act.Name}})
	}
	var v struct {
		Action struct {
			Type string          `json:"type"`
			Verb string          `json:"verb"`
			Data json.RawMessage `json:"data"`
		} `json:"action"`
		Trigger string `json:"trigger"`
	}
	if err := json.Unmarshal(in.act.Value, &v); err != nil || v.Action.Type != "Action.Execute" {
		return c.JSON(http.StatusOK, invokeError(http.StatusBadRequest, "BadRequest", "The card action could not be read."))
	}
	return c.JSON(http.StatusOK, s.cardAction(c, in, cardAction{Verb: v.Action.Verb, Data: v.Action.Data}))
}

// actionData reads a card action's data; Input values (the reject reason)
// arrive merged into it.
func actionData(raw json.RawMessage) cards.ActionData {
	var d cards.ActionData
	_ = json.Unmarshal(raw, &d)
	return d
}

// onSubmit handles an Action.Submit click (a message with a value and no
// text): the same actions as Action.Execute, with any answer posted in the
// thread since a submit has no response contract.
func (s *Server) onSubmit(c echo.Context, in *incoming) error {
	var v struct {
		Verb string `json:"verb"`
	}
	if err := json.Unmarshal(in.act.Value, &v); err != nil {
		return c.NoContent(http.StatusOK)
	}
	resp := s.cardAction(c, in, cardAction{Verb: v.Verb, Data: in.act.Value})
	if msg, ok := resp.Value.(InvokeError); ok {
		return s.later(c, in, "reply", func(ctx context.Context) { s.replyText(ctx, in, msg.Message) })
	}
	return c.NoContent(http.StatusOK)
}

// cardAction routes a card action by verb. A re-delivered action is not
// decided twice: it is answered with the request's current card.
func (s *Server) cardAction(c echo.Context, in *incoming, a cardAction) InvokeResponse {
	ctx := c.Request().Context()
	switch verb := strings.ToLower(a.Verb); verb {
	case "approve", "reject", "refresh":
		data := actionData(a.Data)
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
		return s.radarRequest(ctx, in, actionData(a.Data))
	case "help":
		return InvokeResponse{StatusCode: http.StatusOK, Type: InvokeTypeMessage, Value: "Type @" + s.cfg.BotName + " help for the commands."}
	}
	s.log.Debug("unknown card action", "request_id", in.rid, "verb_len", len(a.Verb))
	return invokeError(http.StatusBadRequest, "UnknownAction", "This card action is not known to Keyturn.")
}

func invokeError(status int, code, msg string) InvokeResponse {
	return InvokeResponse{StatusCode: status, Type: InvokeTypeError, Value: InvokeError{Code: code, Message: msg}}
}
