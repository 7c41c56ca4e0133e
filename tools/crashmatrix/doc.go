// Package crashmatrix holds the crash matrix: a test that builds keyturn
// with its crash points (build tag keyturn_crash), kills it with SIGKILL at
// every step of a request, an approval and a rotation in the sandbox,
// restarts it and checks that nothing was lost or left behind. It has no
// code of its own outside the test.
package crashmatrix
