// Package rotationtest is for tests only (it imports testing): the contract
// suites every rotation.Store and rotation.ApprovalStore must pass, Faults,
// which wraps any of rotation's interfaces to inject an error, a timeout or
// a crash at a chosen call, and a fake clock. The in-memory stand-ins live
// in rotation/memory, which the product may use.
package rotationtest
