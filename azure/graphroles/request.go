package graphroles

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	absser "github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/keyturn/keyturn/azure/internal/graphcore"
)

// URL templates, in kiota's RFC 6570 form; the adapter fills {+baseurl}.
const (
	tmplDirectoryRoles = "{+baseurl}/users/{user%2Did}/transitiveMemberOf/microsoft.graph.directoryRole{?%24count,%24select}"
	tmplCheckGroups    = "{+baseurl}/users/{user%2Did}/checkMemberGroups"
	tmplAppRoles       = "{+baseurl}/servicePrincipals/{servicePrincipal%2Did}/appRoleAssignedTo{?%24select}"
)

// Log keys of a call's target.
const (
	keyUser = "user_oid"
	keySP   = "sp_object_id"
)

// listQuery is the query of a listing; kiota reads the tags.
type listQuery struct {
	Count  *bool    `uriparametername:"%24count"`
	Select []string `uriparametername:"%24select"`
	Top    *int32   `uriparametername:"%24top"`
}

// errorMappings makes the adapter parse every error body as an OData error.
func errorMappings() abs.ErrorMappings {
	return abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
}

// request builds a fresh RequestInformation per attempt (the auth provider
// writes its token into it).
type request func() (*abs.RequestInformation, error)

// get returns a request for GET tmpl with path parameters and query q.
// Every value in path is a canonical GUID.
func (c *Client) get(tmpl string, path map[string]string, q any, headers map[string]string) request {
	return func() (*abs.RequestInformation, error) {
		params := make(map[string]string, len(path))
		for k, v := range path {
			params[k] = v
		}
		ri := abs.NewRequestInformationWithMethodAndUrlTemplateAndPathParameters(abs.GET, tmpl, params)
		ri.AddQueryParameters(q)
		c.finish(ri, headers)
		return ri, nil
	}
}

// next returns a request for GET link, a next link Graph answered with,
// provided it stays under the base URL.
func (c *Client) next(link string, headers map[string]string) (request, error) {
	u, err := url.Parse(link)
	if err != nil || u.User != nil || u.Scheme != c.base.Scheme || !strings.EqualFold(u.Host, c.base.Host) ||
		!strings.HasPrefix(u.EscapedPath(), strings.TrimSuffix(c.base.EscapedPath(), "/")+"/") {
		return nil, errors.New("graph answered with a next link outside its base url; not followed")
	}
	return func() (*abs.RequestInformation, error) {
		ri := abs.NewRequestInformation()
		ri.Method = abs.GET
		ri.SetUri(*u)
		c.finish(ri, headers)
		return ri, nil
	}, nil
}

func (c *Client) finish(ri *abs.RequestInformation, headers map[string]string) {
	ri.Headers.TryAdd("Accept", "application/json")
	for k, v := range headers {
		ri.Headers.TryAdd(k, v)
	}
	ri.AddRequestOptions(c.reqOptions)
}

// send makes one request of op with retries and returns the parsed answer,
// never nil.
func (c *Client) send(ctx context.Context, op call, req request, factory absser.ParsableFactory) (absser.Parsable, error) {
	var got absser.Parsable
	err := c.retrier.Do(ctx, op.op(), func(ctx context.Context) error {
		ri, err := req()
		if err != nil {
			return err
		}
		res, err := c.adapter.Send(ctx, ri, factory, errorMappings())
		got = res
		return err
	}, func(err error, x *graphcore.Exchange) graphcore.Failure {
		return translate(err, x, op)
	})
	if err != nil {
		return nil, err
	}
	if got == nil {
		return nil, errors.New("graph answered without content")
	}
	return got, nil
}

// page is one page of a listing: its items are consumed by the caller, its
// next link by list.
type page interface {
	absser.Parsable
	GetOdataNextLink() *string
}

// list sends first and then follows next links, at most c.maxPages pages,
// handing each page to visit. headers go with every page.
func (c *Client) list(ctx context.Context, op call, first request, headers map[string]string,
	factory absser.ParsableFactory, visit func(absser.Parsable) error) error {
	req := first
	for n := 1; ; n++ {
		got, err := c.send(ctx, op, req, factory)
		if err != nil {
			return err
		}
		p, ok := got.(page)
		if !ok {
			return fmt.Errorf("graph answered with %T, not a page", got)
		}
		if err := visit(p); err != nil {
			return err
		}
		link := graphcore.Deref(p.GetOdataNextLink())
		if link == "" {
			return nil
		}
		if n >= c.maxPages {
			return fmt.Errorf("graph listing has more than %d pages; not followed", c.maxPages)
		}
		if req, err = c.next(link, headers); err != nil {
			return err
		}
	}
}

// groupIDsBody is the body of checkMemberGroups: {"groupIds":[...]}.
type groupIDsBody struct{ ids []string }

// Serialize implements absser.Parsable.
func (b *groupIDsBody) Serialize(w absser.SerializationWriter) error {
	return w.WriteCollectionOfStringValues("groupIds", b.ids)
}

// GetFieldDeserializers implements absser.Parsable; the body is only sent.
func (b *groupIDsBody) GetFieldDeserializers() map[string]func(absser.ParseNode) error {
	return map[string]func(absser.ParseNode) error{}
}

// stringValues is an answer of the form {"value":["...", ...]}.
type stringValues struct{ values []string }

func newStringValues(absser.ParseNode) (absser.Parsable, error) { return &stringValues{}, nil }

// Serialize implements absser.Parsable.
func (s *stringValues) Serialize(w absser.SerializationWriter) error {
	return w.WriteCollectionOfStringValues("value", s.values)
}

// GetFieldDeserializers implements absser.Parsable.
func (s *stringValues) GetFieldDeserializers() map[string]func(absser.ParseNode) error {
	return map[string]func(absser.ParseNode) error{
		"value": func(n absser.ParseNode) error {
			vals, err := n.GetCollectionOfPrimitiveValues("string")
			if err != nil {
				return err
			}
			for _, v := range vals {
				if p, ok := v.(*string); ok && p != nil {
					s.values = append(s.values, *p)
				}
			}
			return nil
		},
	}
}
