package botauth

import (
	"context"
	"fmt"
	"strconv"

	"github.com/infracloudio/msbotbuilder-go/connector/auth"
	"github.com/infracloudio/msbotbuilder-go/schema"
)

// TokenValidatorAdapter plugs a Validator into msbotbuilder-go v0.2.5 as
// its auth.TokenValidator, replacing the library's JwtTokenValidator:
//
//	adapter := &core.BotFrameworkAdapter{
//		AdapterSetting: settings,
//		TokenValidator: botauth.NewTokenValidatorAdapter(validator),
//		Client:         connectorClient,
//	}
//
// The seam carries what protocol §1 needs: the activity gives channelId
// (endorsements) and serviceUrl. Its limits:
//
//   - The credentials and channelService arguments are ignored. The
//     Validator's Config (App ID, issuer, metadata URL) is the only source
//     of truth; in particular credentials.IsAuthenticationDisabled() never
//     lets a request through (emulator mode is cmd/bot's decision, made
//     before the library is involved).
//   - core.BotFrameworkAdapter.ParseRequest decodes the whole request body
//     before calling the validator, without a size limit: wrap the body in
//     http.MaxBytesReader first. It also refuses a missing header itself
//     with a plain error; HTTPStatus maps that to 401 as well.
//   - ParseRequest discards the returned identity and wraps the error with
//     github.com/pkg/errors, which keeps errors.Is working: use HTTPStatus
//     on its error. A handler that needs the Claims (serviceurl, appid)
//     should call Validator.Validate itself and use the library only for
//     schema types and the connector client.
type TokenValidatorAdapter struct {
	v *Validator
}

var _ auth.TokenValidator = (*TokenValidatorAdapter)(nil)

// NewTokenValidatorAdapter returns an adapter delegating to v.
func NewTokenValidatorAdapter(v *Validator) *TokenValidatorAdapter {
	return &TokenValidatorAdapter{v: v}
}

// AuthenticateRequest validates authHeader for act with the Validator. The
// identity returned on success answers GetClaimValue for "aud", "iss",
// "serviceurl", "appid", "azp" (both the AppID) and "exp" (Unix seconds),
// and "" for any other name (the library's own identity panics on a
// missing claim). The error wraps ErrUnauthorized or ErrForbidden.
func (a *TokenValidatorAdapter) AuthenticateRequest(ctx context.Context, act schema.Activity, authHeader string, _ auth.CredentialProvider, _ string) (auth.ClaimsIdentity, error) {
	if a == nil || a.v == nil {
		return nil, fmt.Errorf("%w: token validator adapter has no validator", ErrUnauthorized)
	}
	c, err := a.v.Validate(ctx, authHeader, act.ChannelID, act.ServiceURL)
	if err != nil {
		return nil, err
	}
	return claimsIdentity{c: c}, nil
}

// claimsIdentity is an auth.ClaimsIdentity over accepted Claims.
type claimsIdentity struct {
	c Claims
}

var _ auth.ClaimsIdentity = claimsIdentity{}

// GetClaimValue returns the named claim, or "".
func (ci claimsIdentity) GetClaimValue(name string) string {
	switch name {
	case auth.AudienceClaim:
		return ci.c.Audience
	case auth.IssuerClaim:
		return ci.c.Issuer
	case auth.ServiceURLClaim:
		return ci.c.ServiceURL
	case auth.AppIDClaim, auth.AuthorizedParty:
		return ci.c.AppID
	case "exp":
		return strconv.FormatInt(ci.c.ExpiresAt.Unix(), 10)
	}
	return ""
}

// IsAuthenticated reports true: the identity exists only for an accepted
// token.
func (claimsIdentity) IsAuthenticated() bool { return true }
