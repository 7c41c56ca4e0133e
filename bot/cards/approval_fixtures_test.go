package cards

import (
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Approval fixtures: two approvers, Sam and Kim, and Alex who asks.
var (
	fxAlex   = rotation.Principal{ObjectID: "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", Name: "Alex Doe"}
	fxSam    = rotation.Principal{ObjectID: "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", Name: "Sam Roe"}
	fxKim    = rotation.Principal{ObjectID: "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", Name: "Kim Lee"}
	fxTeams  = []string{"29:1SamRoeTeamsUserId-aBcD", "29:1KimLeeTeamsUserId-eFgH"}
	fxViewAt = t0.Add(10 * time.Minute)
)

// fxApproval is a pending request for two approvals to rotate Payroll API.
func fxApproval() rotation.ApprovalRequest {
	r := rotation.ApprovalRequest{
		ID: "7f3a9c2e5b1d4e60", State: rotation.ApprovalPending, Nonce: "4b1e9f0c2d7a6e83",
		TenantID: "72f988bf-86f1-41af-91ab-2d7cd011db47", ClientID: fxClientID, AppName: "Payroll API",
		VaultURI: fxVault, ClientIDName: "payroll-api-client-id", SecretName: "payroll-api-client-secret",
		Lifetime: 180 * 24 * time.Hour, Overlap: 72 * time.Hour, Required: 2,
		RequestedBy:  fxAlex,
		Conversation: "19:3f1c0e2a9b8d4c7e@thread.tacv2;messageid=1740907800000",
		Plan: rotation.Plan{
			ClientID: fxClientID, AppName: "Payroll API",
			ClientIDRef: rotation.SecretRef{VaultURI: fxVault, Name: "payroll-api-client-id"},
			SecretRef:   rotation.SecretRef{VaultURI: fxVault, Name: "payroll-api-client-secret"},
			End:         t0.Add(180 * 24 * time.Hour), Overlap: 72 * time.Hour,
			Passwords: []rotation.PasswordCredential{
				{KeyID: fxPrevKey, DisplayName: "keyturn 1a2b3c4d5e6f7081", Hint: "m2P", Start: t0.AddDate(0, -5, 0), End: t0.AddDate(0, 1, 0)},
				{KeyID: "44444444-5555-4666-8777-888899990000", DisplayName: "created in portal", Hint: "Zk9", Start: t0.AddDate(-1, 0, 0), End: t0.AddDate(0, 0, 20)},
			},
			PreviousKeyID: fxPrevKey,
			Owners: []rotation.Principal{
				{ObjectID: "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6", Name: "Alex Wilber <alexw@contoso.example>"},
				{ObjectID: "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", Name: "Keyturn (app c9e8c047-2a74-40a2-b28a-b162d5f5327c)"},
			},
			Notes: []string{fxVault + "secrets/payroll-api-client-id is soft-deleted and will be recovered"},
		},
		CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour), UpdatedAt: t0,
	}
	r.Digest = r.ComputeDigest()
	return r
}

// approvalGoldens are the approval cards kept under testdata/.
func approvalGoldens() map[string]Card {
	everyone := Viewer{Now: fxViewAt, RefreshFor: fxTeams}
	sam := Viewer{ObjectID: fxSam.ObjectID, CanDecide: true, Now: fxViewAt}
	kim := Viewer{ObjectID: fxKim.ObjectID, CanDecide: true, Now: fxViewAt}

	onceApproved := fxApproval()
	onceApproved.Approvals = []rotation.Approval{{By: fxSam, At: t0.Add(5 * time.Minute)}}
	approved := onceApproved
	approved.State = rotation.ApprovalApproved
	approved.Approvals = append(approved.Approvals, rotation.Approval{By: fxKim, At: t0.Add(8 * time.Minute)})
	running := approved
	running.State, running.Verified, running.Needed = rotation.ApprovalRunning, 2, 3
	done := approved
	done.State, done.Result = rotation.ApprovalDone, fxDone()
	rejected := onceApproved
	rejected.State, rejected.RejectedBy, rejected.Reason = rotation.ApprovalRejected, fxKim, "We are mid-release; rotate after Friday."
	expired := fxApproval()
	expired.State = rotation.ApprovalExpired
	noPrevious := fxApproval()
	noPrevious.Plan.PreviousKeyID, noPrevious.Plan.Passwords, noPrevious.Plan.Notes = "", nil, nil
	failed := approved
	failed.State, failed.Reason = rotation.ApprovalFailed, "Keyturn is not an owner of the application."

	return map[string]Card{
		"approval_pending_everyone.json":     Approval(fxApproval(), everyone),
		"approval_pending_approver.json":     Approval(fxApproval(), sam),
		"approval_pending_approved_own.json": Approval(onceApproved, sam),
		"approval_pending_no_previous.json":  Approval(noPrevious, kim),
		"approval_approved.json":             Approval(approved, everyone),
		"approval_running.json":              Approval(running, everyone),
		"approval_done.json":                 Approval(done, everyone),
		"approval_rejected.json":             Approval(rejected, everyone),
		"approval_expired.json":              Approval(expired, everyone),
		"approval_failed.json":               Approval(failed, everyone),
	}
}
