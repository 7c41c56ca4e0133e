package keyvault

import (
	"context"
	"net/http"
	"sort"
	"strings"

	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
)

// The fake vault's listing, delete and purge, for doctor's reads and its
// write probe.

// enter takes the fake's lock and records call; the caller defers the
// returned unlock.
func (f *fakeVault) enter(call string) (unlock func()) {
	f.mu.Lock()
	f.record(call)
	return f.mu.Unlock
}

func (f *fakeVault) listProperties(*azsecrets.ListSecretPropertiesOptions) (resp azfake.PagerResponder[azsecrets.ListSecretPropertiesResponse]) {
	defer f.enter("ListSecretProperties")()
	if f.forbidden {
		resp.AddResponseError(http.StatusForbidden, "Forbidden")
		return
	}
	names := make([]string, 0, len(f.live))
	for k := range f.live {
		names = append(names, k)
	}
	sort.Strings(names)
	// Two secrets a page, so a pager must follow nextLink.
	var page azsecrets.ListSecretPropertiesResponse
	for i, k := range names {
		s := f.live[k][len(f.live[k])-1]
		id := azsecrets.ID("https://" + f.host + "/secrets/" + s.ID.Name())
		page.Value = append(page.Value, &azsecrets.SecretProperties{ID: &id, Attributes: s.Attributes, ContentType: s.ContentType, Tags: s.Tags})
		if len(page.Value) == 2 || i == len(names)-1 {
			resp.AddPage(http.StatusOK, page, nil)
			page = azsecrets.ListSecretPropertiesResponse{}
		}
	}
	if len(names) == 0 {
		resp.AddPage(http.StatusOK, page, nil)
	}
	return
}

func (f *fakeVault) deleteSecret(_ context.Context, name string, _ *azsecrets.DeleteSecretOptions) (resp azfake.Responder[azsecrets.DeleteSecretResponse], errResp azfake.ErrorResponder) {
	defer f.enter("DeleteSecret")()
	k := strings.ToLower(name)
	switch {
	case f.forbidden:
		errResp.SetResponseError(http.StatusForbidden, "Forbidden")
		return
	case f.live[k] == nil:
		errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
		return
	}
	if f.recoveryLevel != "Purgeable" {
		f.deleted[k] = f.live[k]
	}
	delete(f.live, k)
	id := azsecrets.ID("https://" + f.host + "/secrets/" + name)
	resp.SetResponse(http.StatusOK, azsecrets.DeleteSecretResponse{DeletedSecret: azsecrets.DeletedSecret{ID: &id}}, nil)
	return
}

func (f *fakeVault) purgeDeletedSecret(_ context.Context, name string, _ *azsecrets.PurgeDeletedSecretOptions) (resp azfake.Responder[azsecrets.PurgeDeletedSecretResponse], errResp azfake.ErrorResponder) {
	defer f.enter("PurgeDeletedSecret")()
	k := strings.ToLower(name)
	switch {
	case f.forbidden:
		errResp.SetResponseError(http.StatusForbidden, "Forbidden")
		return
	case f.purgeLag > 0:
		f.purgeLag--
		errResp.SetResponseError(http.StatusConflict, "ObjectIsBeingDeleted")
		return
	case !strings.Contains(f.recoveryLevel, "Purgeable"):
		errResp.SetResponseError(http.StatusForbidden, "Forbidden")
		return
	case f.deleted[k] == nil:
		errResp.SetResponseError(http.StatusNotFound, "SecretNotFound")
		return
	}
	delete(f.deleted, k)
	resp.SetResponse(http.StatusNoContent, azsecrets.PurgeDeletedSecretResponse{}, nil)
	return
}
