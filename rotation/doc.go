// Package rotation is Keyturn's domain core: the rotation saga that replaces an
// Entra ID application's client secret, stores it in Azure Key Vault, proves it
// works and later retires the secret it replaced.
//
// The package imports only the standard library (a test enforces it). It
// defines the small interfaces it needs (Applications, Vault, Verifier, Store,
// Auditor, Clock); adapters elsewhere implement them with the Azure SDKs, and
// rotation/memory implements them in memory for the sandbox and tests;
// rotation/rotationtest holds their contract suites and fault injection.
//
// Secret values travel only inside the Secret type, which redacts itself in
// every output path. Nothing in this package logs, formats or returns a value.
package rotation
