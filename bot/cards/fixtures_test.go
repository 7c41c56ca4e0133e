package cards

import (
	"maps"
	"time"

	"github.com/keyturn/keyturn/rotation"
)

// Fixture values: realistic, and none of them secret.
var (
	t0         = time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)
	fxClientID = "3f2b8c1d-6a4e-4b7f-9c0d-1e2f3a4b5c6d"
	fxKeyID    = "b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e"
	fxPrevKey  = "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"
	fxVault    = "https://kv-payroll-prod.vault.azure.net/"
)

func fxDone() rotation.Result {
	return rotation.Result{
		RequestID:     "7f3a9c2e5b1d4e60",
		State:         rotation.StateDone,
		ClientID:      fxClientID,
		AppName:       "Payroll API",
		KeyID:         fxKeyID,
		Hint:          "Qx7",
		Start:         t0,
		End:           t0.AddDate(0, 6, 0),
		ClientIDURI:   fxVault + "secrets/payroll-api-client-id/5d1c0a9b8e7f4d3c2b1a0f9e8d7c6b5a",
		SecretURI:     fxVault + "secrets/payroll-api-client-secret/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b",
		PreviousKeyID: fxPrevKey,
		RetireAfter:   t0.Add(72 * time.Hour),
	}
}

func fxStatus() rotation.Status {
	ref := rotation.SecretRef{VaultURI: fxVault, Name: "payroll-api-client-secret"}
	return rotation.Status{
		App: rotation.App{ObjectID: "c0ffee00-1111-4222-8333-444455556666", ClientID: fxClientID, DisplayName: "Payroll API"},
		Credentials: []rotation.CredentialStatus{
			{
				PasswordCredential: rotation.PasswordCredential{KeyID: fxKeyID, DisplayName: "keyturn 7f3a9c2e5b1d4e60", Hint: "Qx7", Start: t0, End: t0.AddDate(0, 6, 0)},
				ByKeyturn:          true,
				InVault:            []string{ref.String()},
			},
			{
				PasswordCredential: rotation.PasswordCredential{KeyID: fxPrevKey, DisplayName: "created in portal", Hint: "m2P", Start: t0.AddDate(-1, 0, 0), End: t0.AddDate(0, 1, 0)},
				RetireAfter:        t0.Add(72 * time.Hour),
			},
		},
		Vault: []rotation.VaultStatus{
			{Ref: ref, ID: ref.String() + "/9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b", KeyID: fxKeyID, Expires: t0.AddDate(0, 6, 0)},
			{Ref: rotation.SecretRef{VaultURI: fxVault, Name: "payroll-api-client-id"}, Missing: true},
			{Ref: rotation.SecretRef{VaultURI: "https://kv-old.vault.azure.net/", Name: "payroll-api-client-secret"}, Err: "read https://kv-old.vault.azure.net/secrets/payroll-api-client-secret: access to the vault denied"},
		},
		Unfinished: []rotation.Record{{
			ID: "a1b2c3d4e5f60718", State: rotation.StateStored, ClientID: fxClientID, AppName: "Payroll API",
			RequestedBy: "alex@contoso.example", CreatedAt: t0.Add(-10 * time.Minute), UpdatedAt: t0.Add(-9 * time.Minute),
		}},
	}
}

// goldens are the cards kept under testdata/, by file name.
func goldens() map[string]Card {
	noPrev := fxDone()
	noPrev.PreviousKeyID, noPrev.RetireAfter, noPrev.LifetimeClamped = "", time.Time{}, true

	failed := rotation.Result{
		RequestID: "5e4d3c2b1a096f8e", State: rotation.StateFailed, ClientID: fxClientID, AppName: "Payroll API",
		Error: "keyturn is not an owner of the application",
	}
	rolledBack := fxDone()
	rolledBack.State, rolledBack.PreviousKeyID, rolledBack.RetireAfter = rotation.StateRolledBack, "", time.Time{}
	rolledBack.ClientIDURI, rolledBack.SecretURI = "", ""
	rolledBack.Error = "new secret could not be verified"
	unfinished := fxDone()
	unfinished.State, unfinished.PreviousKeyID, unfinished.RetireAfter = rotation.StateStored, "", time.Time{}
	unfinished.ClientIDURI = ""
	unfinished.Error = "rotation incomplete; recovery needed"

	cards := map[string]Card{
		"help.json":                    Help("Keyturn", fxHelp),
		"help_not_understood.json":     NotUnderstood("Keyturn", fxHelp),
		"help_examples.json":           Help("Keyturn", fxHelp, "rotate payroll-api", "rotate 3f2b8c1d-6a4e-4b7f-9c0d-1e2f3a4b5c6d into kv-payroll-prod", "status payroll-api"),
		"welcome.json":                 Welcome("Keyturn"),
		"whoami.json":                  WhoAmI("Alex Doe", "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a", "72f988bf-86f1-41af-91ab-2d7cd011db47", []string{"Keyturn.Requester: may ask for rotations, check status, list expiring secrets", "sg-payments-owners: may approve, check and retire rotations of payments-api"}),
		"whoami_no_roles.json":         WhoAmI("Sam Roe", "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d", "72f988bf-86f1-41af-91ab-2d7cd011db47", nil),
		"error.json":                   Error("You may not rotate this application.", "req-7f3a9c2e"),
		"error_no_reference.json":      Error("I did not understand that. Type help for the commands.", ""),
		"result_done.json":             RotationResult(fxDone()),
		"result_done_no_previous.json": RotationResult(noPrev),
		"result_failed.json":           RotationResult(failed),
		"result_rolled_back.json":      RotationResult(rolledBack),
		"result_unfinished.json":       RotationResult(unfinished),
		"status.json":                  Status(fxStatus()),
		"retire.json": Retirements("payroll-api", []rotation.Retirement{
			{KeyID: fxPrevKey, After: t0, Outcome: rotation.Retired},
			{KeyID: "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9", After: t0.Add(72 * time.Hour), Outcome: rotation.NotDue, Reason: "overlap window ends"},
			{KeyID: "1c2d3e4f-5061-4728-93a4-b5c6d7e8f90a", After: t0, Outcome: rotation.Kept},
			{KeyID: "2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b", After: t0, Outcome: rotation.RetireError, Reason: "internal: GET https://graph/... 503"},
		}, "Azure was busy or unreachable; nothing was changed. Try again in a few minutes.", "7f3a9c2e5b1d4e60"),
		"retire_none.json":  Retirements("payroll-api", nil, "", "7f3a9c2e5b1d4e60"),
		"status_empty.json": Status(rotation.Status{App: rotation.App{ClientID: fxClientID, DisplayName: "New App"}}),
	}
	maps.Copy(cards, approvalGoldens())
	maps.Copy(cards, radarGoldens())
	return cards
}

// fxHelp is the grammar's table as bot/command.Commands lists it.
var fxHelp = []HelpItem{
	{"help", "Show what Keyturn can do."},
	{"rotate <app> [into <vault>]", "Ask for a new client secret for an app, written straight into Key Vault once approved."},
	{"status <app>", "Show an app's client secrets, what the vault holds and any pending retirement."},
	{"retire <app>", "Retire an app's previous secrets whose overlap window has ended."},
	{"whoami", "Show your Entra object ID, tenant and Keyturn roles."},
	{"audit here", "Approvers only: post Keyturn's audit trail to this conversation."},
}
