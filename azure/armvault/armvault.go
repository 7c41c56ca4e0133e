// Package armvault reads Key Vault resources from Azure Resource Manager
// for keyturn doctor: whether a vault uses Azure RBAC
// (enableRbacAuthorization), keeps deleted secrets (enableSoftDelete) and
// forbids purging them (enablePurgeProtection). These are management-plane
// properties: the data plane answers a permitted caller the same either
// way.
//
// A vault is found by its URI among the vaults of every subscription the
// identity can see: GET /subscriptions, then GET
// /subscriptions/{id}/providers/Microsoft.KeyVault/vaults for each, every
// page, once per Client. Reading them needs Reader (or any role with
// Microsoft.KeyVault/vaults/read) on the vault or above; Keyturn's own
// identity usually lacks it, so an operator runs doctor with az login.
//
// RolesOf lists the role assignments a principal holds on a vault
// (assignedTo, so inherited and group-held ones count), for doctor's
// check that Keyturn holds Key Vault Secrets Officer and nothing broader.
//
// It sends GETs only, through an azcore pipeline with a bearer token for
// the cloud's Resource Manager scope. Errors carry the status, the ARM
// error code and the request ID, never a response body. It imports azcore,
// azcloud, outbound, rotation and doctor; never the bot, cmd/bot or the stores.
package armvault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/keyturn/keyturn/azure/azcloud"
	"github.com/keyturn/keyturn/doctor"
	"github.com/keyturn/keyturn/internal/outbound"
	"github.com/keyturn/keyturn/rotation"
)

// API versions of the two listings.
const (
	subscriptionsAPI = "2022-12-01"
	vaultsAPI        = "2023-07-01"
	// maxPages bounds every listing.
	maxPages = 200
)

// readerFix names what reading vault resources needs.
const readerFix = "reading vault resources needs Reader (Microsoft.KeyVault/vaults/read) on the vault, its resource group or subscription"

// Options configure a Client.
type Options struct {
	// Transport sends the requests; nil means outbound's without a proxy.
	Transport policy.Transporter
	// BaseURL replaces the cloud's Resource Manager root (tests).
	BaseURL string
	// Logger receives debug lines with IDs only; nil discards.
	Logger *slog.Logger
}

// Client implements doctor.VaultResources. It is safe for concurrent use.
type Client struct {
	pl   runtime.Pipeline
	base string
	log  *slog.Logger

	mu     sync.Mutex
	vaults map[string]doctor.VaultSettings // by canonical vault URI, once listed
	denied int                             // subscriptions whose vaults could not be listed
}

var _ doctor.VaultResources = (*Client)(nil)

// New returns a Client that authenticates with cred for c's Resource
// Manager scope.
func New(cred azcore.TokenCredential, c azcloud.Cloud, opts Options) (*Client, error) {
	if cred == nil {
		return nil, errors.New("arm client: nil credential")
	}
	base := strings.TrimSuffix(opts.BaseURL, "/")
	if base == "" {
		base = strings.TrimSuffix(c.ResourceManagerURL, "/")
	}
	if u, err := url.Parse(base); err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("arm client: %q is not an https root", base)
	}
	if opts.Transport == nil {
		opts.Transport = outbound.Client(outbound.Transport(nil))
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	pl := runtime.NewPipeline("keyturn-armvault", "v1", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{c.ResourceManagerScope()}, nil)},
	}, &policy.ClientOptions{Transport: opts.Transport, Cloud: c.AzCore()})
	return &Client{pl: pl, base: base, log: log}, nil
}

// Settings implements doctor.VaultResources. ErrNotFound when no visible
// subscription holds the vault, ErrForbidden when subscriptions could not
// be read (the text names the role).
func (c *Client) Settings(ctx context.Context, vaultURI string) (doctor.VaultSettings, error) {
	want := canonical(vaultURI)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vaults == nil {
		if err := c.load(ctx); err != nil {
			return doctor.VaultSettings{}, err
		}
	}
	if s, ok := c.vaults[want]; ok {
		return s, nil
	}
	if c.denied > 0 {
		return doctor.VaultSettings{}, fmt.Errorf("vault %s: not among the vaults readable; %d subscription(s) refused the listing: %w; %s",
			want, c.denied, doctor.ErrForbidden, readerFix)
	}
	return doctor.VaultSettings{}, fmt.Errorf("vault %s: in none of the subscriptions the identity can see: %w; %s", want, doctor.ErrNotFound, readerFix)
}

// load lists every visible vault into c.vaults.
func (c *Client) load(ctx context.Context) error {
	var subs []string
	err := c.list(ctx, c.base+"/subscriptions?api-version="+subscriptionsAPI, func(raw json.RawMessage) error {
		var s struct {
			SubscriptionID string `json:"subscriptionId"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		if s.SubscriptionID != "" {
			subs = append(subs, s.SubscriptionID)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list subscriptions: %w", err)
	}
	vaults := map[string]doctor.VaultSettings{}
	denied := 0
	for _, sub := range subs {
		u := c.base + "/subscriptions/" + url.PathEscape(sub) + "/providers/Microsoft.KeyVault/vaults?api-version=" + vaultsAPI
		err := c.list(ctx, u, func(raw json.RawMessage) error {
			var v struct {
				ID         string `json:"id"`
				Properties struct {
					VaultURI        string `json:"vaultUri"`
					RBAC            *bool  `json:"enableRbacAuthorization"`
					SoftDelete      *bool  `json:"enableSoftDelete"`
					PurgeProtection *bool  `json:"enablePurgeProtection"`
				} `json:"properties"`
			}
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			p := v.Properties
			vaults[canonical(p.VaultURI)] = doctor.VaultSettings{
				ResourceID: v.ID,
				RBAC:       p.RBAC != nil && *p.RBAC,
				// Unset means on: soft delete is the default, and once on
				// it cannot be switched off.
				SoftDelete:      p.SoftDelete == nil || *p.SoftDelete,
				PurgeProtection: p.PurgeProtection != nil && *p.PurgeProtection,
			}
			return nil
		})
		if errors.Is(err, doctor.ErrForbidden) {
			denied++
			continue
		}
		if err != nil {
			return fmt.Errorf("list the vaults of subscription %s: %w", sub, err)
		}
	}
	if len(subs) == 0 {
		denied++
	}
	c.vaults, c.denied = vaults, denied
	c.log.Debug("vault resources listed", "subscriptions", len(subs), "vaults", len(vaults), "denied", denied)
	return nil
}

// list GETs u and every nextLink after it, at most maxPages pages, handing
// each item of "value" to visit.
func (c *Client) list(ctx context.Context, u string, visit func(json.RawMessage) error) error {
	for n := 0; u != ""; n++ {
		if n >= maxPages {
			return fmt.Errorf("more than %d pages; not followed", maxPages)
		}
		if !strings.HasPrefix(u, c.base+"/") {
			return errors.New("resource manager answered with a next link outside its base url; not followed")
		}
		req, err := runtime.NewRequest(ctx, http.MethodGet, u)
		if err != nil {
			return err
		}
		req.Raw().Header.Set("Accept", "application/json")
		resp, err := c.pl.Do(req)
		if err != nil {
			return err
		}
		if !runtime.HasStatusCode(resp, http.StatusOK) {
			return responseError(resp)
		}
		var page struct {
			Value    []json.RawMessage `json:"value"`
			NextLink string            `json:"nextLink"`
		}
		if err := runtime.UnmarshalAsJSON(resp, &page); err != nil {
			return fmt.Errorf("read the answer: %w", err)
		}
		for _, item := range page.Value {
			if err := visit(item); err != nil {
				return fmt.Errorf("read an item: %w", err)
			}
		}
		u = page.NextLink
	}
	return nil
}

// responseError names the status, ARM's error code and the request ID.
func responseError(resp *http.Response) error {
	defer resp.Body.Close()
	re, _ := runtime.NewResponseError(resp).(*azcore.ResponseError)
	code := ""
	if re != nil {
		code = re.ErrorCode
	}
	detail := fmt.Sprintf("resource manager %d %s, request id %s", resp.StatusCode, code, resp.Header.Get("x-ms-request-id"))
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusUnauthorized:
		return fmt.Errorf("%s: %w", detail, doctor.ErrForbidden)
	case http.StatusNotFound:
		return fmt.Errorf("%s: %w", detail, doctor.ErrNotFound)
	}
	return errors.New(detail)
}

// canonical is a vault URI in lower case with one trailing slash.
func canonical(uri string) string {
	return strings.ToLower(strings.TrimSuffix(strings.TrimSpace(uri), "/")) + "/"
}

// roleAssignmentsAPI is the API version of the role assignment listing.
const roleAssignmentsAPI = "2022-04-01"

// RolesOf implements doctor.VaultResources: GET
// {resourceID}/providers/Microsoft.Authorization/roleAssignments
// ?$filter=assignedTo('{principalID}'), which answers the principal's
// assignments at, above and below the scope, through groups too. It
// returns the role definition IDs.
func (c *Client) RolesOf(ctx context.Context, resourceID, principalID string) ([]string, error) {
	if !strings.HasPrefix(resourceID, "/subscriptions/") || strings.ContainsAny(resourceID, "?#") {
		return nil, fmt.Errorf("%q is not a resource ID", resourceID)
	}
	if !rotation.IsGUID(principalID) {
		return nil, fmt.Errorf("principal ID %q is not a GUID", principalID)
	}
	q := url.Values{"api-version": {roleAssignmentsAPI}, "$filter": {"assignedTo('" + strings.ToLower(principalID) + "')"}}
	u := c.base + resourceID + "/providers/Microsoft.Authorization/roleAssignments?" + q.Encode()
	var roles []string
	err := c.list(ctx, u, func(raw json.RawMessage) error {
		var a struct {
			Properties struct {
				RoleDefinitionID string `json:"roleDefinitionId"`
				PrincipalID      string `json:"principalId"`
			} `json:"properties"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			return err
		}
		id := a.Properties.RoleDefinitionID
		roles = append(roles, strings.ToLower(id[strings.LastIndex(id, "/")+1:]))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("role assignments of %s on %s: %w", principalID, resourceID, err)
	}
	return roles, nil
}
